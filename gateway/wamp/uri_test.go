package wamp_test

import (
	"strings"
	"testing"

	"github.com/wampgate/wampgate/gateway/wamp"
)

func TestValidURI(t *testing.T) {
	const (
		ex = wamp.MatchExact
		pf = wamp.MatchPrefix
		wc = wamp.MatchWildcard
	)
	tests := []struct {
		uri    string
		match  string
		loose  bool // valid with strict=false
		strict bool // valid with strict=true
	}{
		// exact
		{"com.example.topic", ex, true, true},
		{"com", ex, true, true},
		{"a1.b_2.c3", ex, true, true},
		{"wamp.error.invalid_uri", ex, true, true},
		{"", ex, false, false},
		{"com..topic", ex, false, false},
		{".com", ex, false, false},
		{"com.", ex, false, false},
		{".", ex, false, false},
		{"com.ex ample", ex, false, false},
		{"com.ex\tample", ex, false, false},
		{"com.ex\nample", ex, false, false},
		{" com", ex, false, false},
		{"com.#", ex, false, false},
		{"com.a#b", ex, false, false},
		{"Com.Example", ex, true, false},
		{"com.my-app.topic", ex, true, false},
		{"com.example.tópico", ex, true, false},
		{"com.日本.topic", ex, true, false},
		{"com.a\u00a0b", ex, false, false}, // no-break space
		{"com.a\u0085b", ex, false, false}, // next line
		{"com.a\u2003b", ex, false, false}, // em space
		{"com.a\u2028b", ex, false, false}, // line separator
		{"com.a\u3000b", ex, false, false}, // ideographic space
		{"com.a\u200bb", ex, true, false},  // zero-width space is not White_Space
		{"com.a*b", ex, true, false},
		{"", "", false, false}, // unknown policy behaves like exact
		{"a..b", "", false, false},

		// prefix: only the last component may be empty
		{"", pf, true, true},
		{"com.example.", pf, true, true},
		{"com.example", pf, true, true},
		{"com..x", pf, false, false},
		{".com", pf, false, false},
		{"com..", pf, false, false},
		{"com.ex ample.", pf, false, false},
		{"Com.", pf, true, false},

		// wildcard: any component may be empty
		{"com..topic", wc, true, true},
		{"..", wc, true, true},
		{".com", wc, true, true},
		{"com.example.", wc, true, true},
		{"com..A", wc, true, false},
		{"com..#", wc, false, false},
		{"com. .x", wc, false, false},
		{"", wc, false, false}, // the empty string is special-cased: prefix only
	}
	for _, tt := range tests {
		if got := wamp.ValidURI(tt.uri, false, tt.match); got != tt.loose {
			t.Errorf("ValidURI(%q, loose, %q) = %v, want %v", tt.uri, tt.match, got, tt.loose)
		}
		if got := wamp.ValidURI(tt.uri, true, tt.match); got != tt.strict {
			t.Errorf("ValidURI(%q, strict, %q) = %v, want %v", tt.uri, tt.match, got, tt.strict)
		}
	}
}

func TestReserved(t *testing.T) {
	tests := map[string]bool{
		"wamp": true, "wamp.error.canceled": true, "wamp.": true,
		"wampx": false, "com.wamp": false, "": false, "WAMP.x": false,
	}
	for uri, want := range tests {
		if got := wamp.Reserved(uri); got != want {
			t.Errorf("Reserved(%q) = %v, want %v", uri, got, want)
		}
	}
}

func TestMatchURI(t *testing.T) {
	const (
		ex = wamp.MatchExact
		pf = wamp.MatchPrefix
		wc = wamp.MatchWildcard
	)
	tests := []struct {
		pattern, match, uri string
		want                bool
	}{
		{"a.b", ex, "a.b", true},
		{"a.b", ex, "a.bc", false},
		{"a.b", ex, "a", false},
		{"a.b", "", "a.b", true}, // unknown policy: exact
		{"a.", "", "a.b", false},

		// Prefix is a plain string prefix, as in the spec's examples.
		{"com.myapp.topic.emergency", pf, "com.myapp.topic.emergency-low", true},
		{"com.myapp.topic.emergency", pf, "com.myapp.topic.emergency.11", true},
		{"com.myapp.topic.emergency", pf, "com.myapp.topic.emergency", true},
		{"com.myapp.topic.emergency", pf, "com.myapp.topic.emergenc", false},
		{"com.myapp.", pf, "com.myapp", false},
		{"com.a", pf, "com.b", false},
		{"", pf, "anything.at.all", true},

		// Wildcard: same number of components, empty pattern component
		// matches any one component.
		{"com..create", wc, "com.myapp.create", true},
		{"com..create", wc, "com.myapp.sub.create", false},
		{"com..create", wc, "com.create", false},
		{"com..create", wc, "com.myapp.delete", false},
		{".b.", wc, "a.b.c", true},
		{".b.", wc, "a.x.c", false},
		{"..", wc, "a.b.c", true},
		{"..", wc, "a.b", false},
		{"a.b", wc, "a.b", true},
		{"a.b", wc, "a.bb", false},
		{"aa.b", wc, "a.b", false},
		{"a.", wc, "a.b", true},
		{"a.", wc, "a", false},
		{"a.", wc, "b.c", false},
		{"", wc, "a", true},
		{"", wc, "a.b", false},
		{"a..", wc, "a.b.c", true},
		{"a..", wc, "x.b.c", false},
	}
	for _, tt := range tests {
		if got := wamp.MatchURI(tt.pattern, tt.match, tt.uri); got != tt.want {
			t.Errorf("MatchURI(%q, %q, %q) = %v, want %v", tt.pattern, tt.match, tt.uri, got, tt.want)
		}
		if got := naiveMatch(tt.pattern, tt.match, tt.uri); got != tt.want {
			t.Errorf("naiveMatch(%q, %q, %q) = %v, want %v (the reference is wrong)", tt.pattern, tt.match, tt.uri, got, tt.want)
		}
	}
}

// naiveMatch is the reference for FuzzURIMatch: split everything and
// compare component by component, with no cleverness.
func naiveMatch(pattern, match, uri string) bool {
	switch match {
	case wamp.MatchPrefix:
		return len(uri) >= len(pattern) && uri[:len(pattern)] == pattern
	case wamp.MatchWildcard:
		p := strings.Split(pattern, ".")
		u := strings.Split(uri, ".")
		if len(p) != len(u) {
			return false
		}
		for i := range p {
			if p[i] != "" && p[i] != u[i] {
				return false
			}
		}
		return true
	default:
		return pattern == uri
	}
}

var matchPolicies = []string{wamp.MatchExact, wamp.MatchPrefix, wamp.MatchWildcard, ""}

func FuzzURIMatch(f *testing.F) {
	f.Add("com..create", "com.myapp.create", uint(2))
	f.Add("com.myapp.", "com.myapp.topic", uint(1))
	f.Add("a.b", "a.b", uint(0))
	f.Fuzz(func(t *testing.T, pattern, uri string, mode uint) {
		match := matchPolicies[mode%uint(len(matchPolicies))]
		got := wamp.MatchURI(pattern, match, uri)
		if want := naiveMatch(pattern, match, uri); got != want {
			t.Fatalf("MatchURI(%q, %q, %q) = %v, reference says %v", pattern, match, uri, got, want)
		}
		// A valid exact URI always matches itself under every policy.
		if wamp.ValidURI(uri, false, wamp.MatchExact) && !wamp.MatchURI(uri, match, uri) {
			t.Fatalf("MatchURI(%q, %q, itself) = false", uri, match)
		}
	})
}
