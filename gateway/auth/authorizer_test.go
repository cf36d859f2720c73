package auth_test

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/wampgate/wampgate/gateway/auth"
)

var all = []string{"call", "register", "subscribe", "publish"}

func newAuthorizer(t testing.TB, roles map[string][]auth.Rule) *auth.Authorizer {
	t.Helper()
	z, err := auth.NewAuthorizer(roles)
	if err != nil {
		t.Fatalf("NewAuthorizer: %v", err)
	}
	return z
}

func TestAuthorizerPrecedence(t *testing.T) {
	z := newAuthorizer(t, map[string][]auth.Rule{
		"user": {
			{URI: "com.app.", Match: "prefix", Allow: []string{"call", "subscribe"}},
			{URI: "com.app.secret", Deny: []string{"call"}},                  // exact beats prefix
			{URI: "com.app.admin.", Match: "prefix", Deny: []string{"call"}}, // longer prefix beats shorter
			{URI: "com.app.admin.status", Allow: []string{"call"}},           // exact beats longer prefix
			{URI: "com.app..x", Match: "wildcard", Deny: []string{"call"}},   // prefix beats any wildcard
			{URI: "com...x", Match: "wildcard", Allow: []string{"publish"}},  // 2 literals
			{URI: "com.a..x", Match: "wildcard", Deny: []string{"publish"}},  // 3 literals win
			{URI: "a.b..d", Match: "wildcard", Allow: []string{"register"}},  // runs [2 1]
			{URI: "a..c.d", Match: "wildcard", Deny: []string{"register"}},   // runs [1 2]: loses
			{URI: "e..g.h", Match: "wildcard", Allow: []string{"register"}},  // runs [1 2]
			{URI: "e.f..h", Match: "wildcard", Deny: []string{"register"}},   // runs [2 1]: wins
			{URI: "tie", Allow: []string{"publish"}},                         // duplicate exact rules:
			{URI: "tie", Deny: []string{"publish"}},                          // deny wins
			{URI: "both", Allow: []string{"call", "publish"}, Deny: []string{"publish"}},
			{URI: "pfx.", Match: "prefix", Allow: []string{"subscribe"}},
			{URI: "pfx.", Match: "prefix", Deny: []string{"subscribe"}},
			{URI: "wc..z", Match: "wildcard", Allow: []string{"subscribe"}},
			{URI: "wc..z", Match: "wildcard", Deny: []string{"subscribe"}},
			{URI: "com.topic", Match: "prefix", Allow: []string{"publish"}}, // string prefix
			{URI: "wamp.session.count", Allow: []string{"call"}},            // meta API, same rules
		},
		"admin": {
			{URI: "", Match: "prefix", Allow: all},
			{URI: "wamp.session.kill_all", Deny: []string{"call"}},
		},
		"nobody": {},
	})

	tests := []struct {
		role, action, uri string
		want              bool
	}{
		{"user", "call", "com.app.foo", true},
		{"user", "call", "com.app.secret", false},
		{"user", "subscribe", "com.app.secret", true}, // the exact rule says nothing about subscribe
		{"user", "call", "com.app.secret.sub", true},  // exact is exact
		{"user", "call", "com.app.admin.reset", false},
		{"user", "subscribe", "com.app.admin.reset", true},
		{"user", "call", "com.app.admin.status", true},
		{"user", "call", "com.app.foo.x", true},
		{"user", "publish", "com.b.c.x", true},
		{"user", "publish", "com.a.c.x", false},
		{"user", "publish", "com.a.c.x.y", false}, // wildcards need equal component counts
		{"user", "register", "a.b.c.d", true},
		{"user", "register", "a.z.c.d", false},
		{"user", "register", "a.b.z.d", true},
		{"user", "register", "e.f.g.h", false},
		{"user", "register", "e.z.g.h", true},
		{"user", "publish", "tie", false},
		{"user", "publish", "both", false},
		{"user", "call", "both", true},
		{"user", "subscribe", "pfx.a", false},
		{"user", "subscribe", "wc.y.z", false},
		{"user", "publish", "com.topic.a", true},
		{"user", "publish", "com.topic2", true},
		{"user", "publish", "com.topi", false},
		{"user", "call", "wamp.session.count", true},
		{"user", "call", "wamp.session.kill", false},
		{"user", "publish", "com.app.foo", false}, // no rule allows publish there
		{"user", "call", "org.other", false},
		{"user", "call", "", false},
		{"user", "unsubscribe", "com.app.foo", false}, // unknown action
		{"user", "Call", "com.app.foo", false},
		{"admin", "call", "anything.at.all", true},
		{"admin", "register", "wamp.session.kill_all", true},
		{"admin", "call", "wamp.session.kill_all", false},
		{"nobody", "call", "com.app.foo", false},
		{"stranger", "call", "com.app.foo", false}, // unknown role
		{"", "call", "com.app.foo", false},
	}
	for _, tt := range tests {
		if got := z.Allowed(tt.role, tt.action, tt.uri); got != tt.want {
			t.Errorf("Allowed(%q, %q, %q) = %v, want %v", tt.role, tt.action, tt.uri, got, tt.want)
		}
	}

	for role, want := range map[string]bool{"user": true, "admin": true, "nobody": true, "stranger": false, "": false} {
		if z.HasRole(role) != want {
			t.Errorf("HasRole(%q) = %v", role, !want)
		}
	}
	if got := z.Roles(); !reflect.DeepEqual(got, []string{"admin", "nobody", "user"}) {
		t.Errorf("Roles = %v", got)
	}
}

// Pattern subscriptions and registrations are checked on the pattern itself.
func TestAuthorizerPatternURIs(t *testing.T) {
	z := newAuthorizer(t, map[string][]auth.Rule{
		"r": {
			{URI: "com.app..x", Match: "wildcard", Allow: []string{"subscribe"}},
			{URI: "com.app.one.x", Allow: []string{"register"}},
			{URI: "com.app.", Match: "prefix", Allow: []string{"call"}},
		},
	})
	if !z.Allowed("r", "subscribe", "com.app..x") {
		t.Error("wildcard subscription equal to the rule refused")
	}
	if z.Allowed("r", "register", "com.app..x") {
		t.Error("wildcard registration allowed by a narrower exact rule")
	}
	if z.Allowed("r", "call", "com.") {
		t.Error("a shorter prefix than the rule allowed")
	}
	if !z.Allowed("r", "call", "com.app.sub.") {
		t.Error("a longer prefix than the rule refused")
	}
}

func TestAuthorizerWildcardTieOrder(t *testing.T) {
	// The outcome must not depend on rule order.
	a := auth.Rule{URI: "a.b..d", Match: "wildcard", Allow: []string{"call"}}
	b := auth.Rule{URI: "a..c.d", Match: "wildcard", Deny: []string{"call"}}
	for _, rules := range [][]auth.Rule{{a, b}, {b, a}} {
		z := newAuthorizer(t, map[string][]auth.Rule{"r": rules})
		if !z.Allowed("r", "call", "a.b.c.d") {
			t.Errorf("order %v: a.b..d should win", rules)
		}
	}
}

func TestNewAuthorizerValidation(t *testing.T) {
	tests := []struct {
		name  string
		roles map[string][]auth.Rule
		want  string
	}{
		{"empty role", map[string][]auth.Rule{"": nil}, "role \"\""},
		{"spaced role", map[string][]auth.Rule{" r": nil}, "surrounding spaces"},
		{"unknown match", map[string][]auth.Rule{"r": {{URI: "a", Match: "regex", Allow: all}}}, "unknown match \"regex\""},
		{"empty exact URI", map[string][]auth.Rule{"r": {{URI: "", Allow: all}}}, "invalid URI"},
		{"empty component in exact URI", map[string][]auth.Rule{"r": {{URI: "a..b", Allow: all}}}, "invalid URI"},
		{"empty wildcard", map[string][]auth.Rule{"r": {{URI: "", Match: "wildcard", Allow: all}}}, "invalid URI"},
		{"bad prefix", map[string][]auth.Rule{"r": {{URI: "a..", Match: "prefix", Allow: all}}}, "invalid URI"},
		{"space in URI", map[string][]auth.Rule{"r": {{URI: "a b", Allow: all}}}, "invalid URI"},
		{"unknown action", map[string][]auth.Rule{"r": {{URI: "a", Allow: []string{"call", "delete"}}}}, "unknown action \"delete\""},
		{"no actions", map[string][]auth.Rule{"r": {{URI: "a"}}}, "no actions"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			z, err := auth.NewAuthorizer(tt.roles)
			if z != nil || err == nil {
				t.Fatal("accepted")
			}
			if !errors.Is(err, auth.ErrInvalidRules) {
				t.Fatalf("%v does not wrap ErrInvalidRules", err)
			}
			contains(t, err.Error(), tt.want)
		})
	}
	_, err := auth.NewAuthorizer(map[string][]auth.Rule{"r": {{URI: "a", Allow: []string{"x"}}, {URI: "a b", Allow: all}}})
	contains(t, err.Error(), "unknown action")
	contains(t, err.Error(), "invalid URI")

	z, err := auth.NewAuthorizer(nil)
	if err != nil || z.HasRole("anything") || z.Allowed("r", "call", "a") {
		t.Fatalf("empty authorizer: %v", err)
	}
}

func benchRules() map[string][]auth.Rule {
	var rules []auth.Rule
	for i := range 20 {
		rules = append(rules,
			auth.Rule{URI: fmt.Sprintf("com.vendor.device%d.read", i), Allow: []string{"call"}},
			auth.Rule{URI: fmt.Sprintf("com.vendor.zone%d.", i), Match: "prefix", Allow: []string{"subscribe", "publish"}},
			auth.Rule{URI: fmt.Sprintf("com.vendor..sensor%d", i), Match: "wildcard", Allow: []string{"subscribe"}},
		)
	}
	rules = append(rules,
		auth.Rule{URI: "com.vendor.zone3.secret.", Match: "prefix", Deny: []string{"subscribe"}},
		auth.Rule{URI: "wamp.session.", Match: "prefix", Allow: []string{"call"}},
		auth.Rule{URI: "wamp.session.kill", Match: "prefix", Deny: []string{"call"}},
	)
	return map[string][]auth.Rule{"device": rules, "guest": {{URI: "com.public.", Match: "prefix", Allow: []string{"subscribe"}}}}
}

var benchChecks = []struct{ role, action, uri string }{
	{"device", "call", "com.vendor.device7.read"},           // exact
	{"device", "publish", "com.vendor.zone12.temperature"},  // prefix
	{"device", "subscribe", "com.vendor.zone3.secret.key"},  // longer prefix deny
	{"device", "subscribe", "com.vendor.anything.sensor19"}, // wildcard
	{"device", "register", "com.vendor.device7.read"},       // default deny
	{"device", "call", "wamp.session.kill_by_authid"},       // meta deny
	{"guest", "subscribe", "com.public.news"},               // other role
	{"stranger", "call", "com.vendor.device7.read"},         // unknown role
}

func TestAuthorizerAllowedDoesNotAllocate(t *testing.T) {
	z := newAuthorizer(t, benchRules())
	want := []bool{true, true, false, true, false, false, true, false}
	for i, c := range benchChecks {
		if got := z.Allowed(c.role, c.action, c.uri); got != want[i] {
			t.Fatalf("Allowed(%v) = %v", c, got)
		}
	}
	if raceEnabled {
		t.Skip("allocation counts are not meaningful under the race detector")
	}
	allocs := testing.AllocsPerRun(200, func() {
		for _, c := range benchChecks {
			z.Allowed(c.role, c.action, c.uri)
		}
	})
	if allocs != 0 {
		t.Fatalf("Allowed allocates %.1f times per round", allocs)
	}
}

func TestAuthorizerConcurrent(t *testing.T) {
	z := newAuthorizer(t, benchRules())
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 500 {
				for _, c := range benchChecks {
					z.Allowed(c.role, c.action, c.uri)
				}
			}
		})
	}
	wg.Wait()
}

func BenchmarkAllowed(b *testing.B) {
	z := newAuthorizer(b, benchRules())
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		c := benchChecks[i%len(benchChecks)]
		z.Allowed(c.role, c.action, c.uri)
		i++
	}
}

// refAllowed is a brute-force statement of the precedence rules: among the
// rules that match uri and mention action, take the most specific; deny wins
// between equally specific ones; nothing matching means no.
func refAllowed(rules []auth.Rule, action, uri string) bool {
	type key struct {
		class int // exact 3, prefix 2, wildcard 1
		n     int // prefix length or literal count
		runs  []int
	}
	less := func(a, b key) bool {
		if a.class != b.class {
			return a.class < b.class
		}
		if a.n != b.n {
			return a.n < b.n
		}
		return slices.Compare(a.runs, b.runs) < 0
	}
	var best *key
	allow, deny := false, false
	for _, r := range rules {
		mentions := func(l []string) bool { return slices.Contains(l, action) }
		if !mentions(r.Allow) && !mentions(r.Deny) {
			continue
		}
		var k key
		switch r.Match {
		case "", "exact":
			if r.URI != uri {
				continue
			}
			k = key{class: 3}
		case "prefix":
			if !strings.HasPrefix(uri, r.URI) {
				continue
			}
			k = key{class: 2, n: len(r.URI)}
		case "wildcard":
			pc, uc := strings.Split(r.URI, "."), strings.Split(uri, ".")
			if len(pc) != len(uc) {
				continue
			}
			ok, run := true, 0
			k = key{class: 1}
			for i := range pc {
				if pc[i] == "" {
					k.runs = append(k.runs, run)
					run = 0
					continue
				}
				if pc[i] != uc[i] {
					ok = false
				}
				k.n++
				run++
			}
			k.runs = append(k.runs, run)
			if !ok {
				continue
			}
		}
		switch {
		case best == nil || less(*best, k):
			best, allow, deny = &k, false, false
		case less(k, *best):
			continue
		}
		allow = allow || mentions(r.Allow)
		deny = deny || mentions(r.Deny)
	}
	return best != nil && allow && !deny
}

func TestAuthorizerMatchesReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	comps := []string{"a", "b", "c", "dd"}
	randURI := func() string {
		n := 1 + rng.IntN(4)
		parts := make([]string, n)
		for i := range parts {
			parts[i] = comps[rng.IntN(len(comps))]
		}
		return strings.Join(parts, ".")
	}
	randActions := func() []string {
		var l []string
		for _, a := range all {
			if rng.IntN(3) == 0 {
				l = append(l, a)
			}
		}
		return l
	}
	for round := range 300 {
		var rules []auth.Rule
		for range 1 + rng.IntN(30) {
			r := auth.Rule{Allow: randActions(), Deny: randActions()}
			if len(r.Allow)+len(r.Deny) == 0 {
				r.Allow = []string{"call"}
			}
			switch rng.IntN(3) {
			case 0:
				r.URI = randURI()
			case 1:
				u := randURI()
				r.Match, r.URI = "prefix", u[:rng.IntN(len(u)+1)]
			case 2:
				parts := strings.Split(randURI(), ".")
				for i := range parts {
					if rng.IntN(2) == 0 {
						parts[i] = ""
					}
				}
				r.Match, r.URI = "wildcard", strings.Join(parts, ".")
				if r.URI == "" {
					r.URI = "a"
				}
			}
			if r.Match == "prefix" && strings.Contains(r.URI, "..") {
				continue
			}
			rules = append(rules, r)
		}
		z := newAuthorizer(t, map[string][]auth.Rule{"r": rules})
		for range 200 {
			uri := randURI()
			for _, action := range all {
				if got, want := z.Allowed("r", action, uri), refAllowed(rules, action, uri); got != want {
					t.Fatalf("round %d: Allowed(%s, %q) = %v, reference %v; rules %+v", round, action, uri, got, want, rules)
				}
			}
		}
	}
}
