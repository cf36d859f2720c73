package auth

import (
	"cmp"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/wampgate/wampgate/gateway/wamp"
)

// Actions a Rule can allow or deny.
const (
	ActionCall      = "call"
	ActionRegister  = "register"
	ActionSubscribe = "subscribe"
	ActionPublish   = "publish"
)

const numActions = 4

func actionIndex(action string) int {
	switch action {
	case ActionCall:
		return 0
	case ActionRegister:
		return 1
	case ActionSubscribe:
		return 2
	case ActionPublish:
		return 3
	}
	return -1
}

// Rule allows or denies actions on the URIs that URI matches under Match
// ("exact", the default when empty, "prefix" or "wildcard", with the same
// meaning as for SUBSCRIBE and REGISTER: prefix is a string prefix, and an
// empty wildcard component matches any one component).
type Rule struct {
	URI   string
	Match string
	Allow []string
	Deny  []string
}

// Authorizer decides whether a role may perform an action on a URI. It is
// immutable and safe for concurrent use; Allowed does not allocate.
type Authorizer struct {
	roles map[string]*rolePolicy
}

type rolePolicy [numActions]policy

// policy is the compiled rule set of one role for one action.
type policy struct {
	exact    map[string]bool // URI -> allow
	prefixes []prefixVerdict // longest first
	// With many prefixes of few distinct lengths, prefixLens (longest
	// first) and prefixMap replace the linear scan over prefixes.
	prefixLens []int
	prefixMap  map[string]bool
	wildcards  []wildVerdict // most specific first; only while compiling
	wild       *wildNode     // component trie of the wildcard patterns
}

// wildNode is a node of the wildcard component trie. A pattern ends at a
// node with rank >= 0; a lower rank is a more specific pattern.
type wildNode struct {
	lit   map[string]*wildNode // literal components
	any   *wildNode            // empty (wildcard) component
	rank  int
	allow bool
}

func newWildNode() *wildNode { return &wildNode{rank: -1} }

func (n *wildNode) insert(pattern string, rank int, allow bool) {
	for c := range strings.SplitSeq(pattern, ".") {
		if c == "" {
			if n.any == nil {
				n.any = newWildNode()
			}
			n = n.any
			continue
		}
		if n.lit == nil {
			n.lit = map[string]*wildNode{}
		}
		next := n.lit[c]
		if next == nil {
			next = newWildNode()
			n.lit[c] = next
		}
		n = next
	}
	n.rank, n.allow = rank, allow
}

// match returns the most specific pattern end matching the components of
// uri below n, or nil. It follows both the literal and the wildcard branch,
// so its cost is bounded by the trie, not by the number of patterns.
func (n *wildNode) match(uri string) *wildNode {
	comp, rest, more := uri, "", false
	if i := strings.IndexByte(uri, '.'); i >= 0 {
		comp, rest, more = uri[:i], uri[i+1:], true
	}
	var best *wildNode
	if next := n.lit[comp]; next != nil {
		best = next.end(rest, more)
	}
	if n.any != nil {
		if w := n.any.end(rest, more); w != nil && (best == nil || w.rank < best.rank) {
			best = w
		}
	}
	return best
}

func (n *wildNode) end(rest string, more bool) *wildNode {
	if more {
		return n.match(rest)
	}
	if n.rank >= 0 {
		return n
	}
	return nil
}

type prefixVerdict struct {
	prefix string
	allow  bool
}

type wildVerdict struct {
	pattern string
	allow   bool
	lits    int   // number of literal (non-empty) components
	runs    []int // literal run lengths before each wildcard, then the tail
}

type ruleKey struct{ match, uri string }

// Verdict bits collected per (match, URI) and action before compiling.
const (
	bitAllow = 1 << iota
	bitDeny
)

// NewAuthorizer validates and compiles per-role rules. A role with no rules
// exists but may do nothing. All problems are reported together, wrapped in
// ErrInvalidRules.
func NewAuthorizer(roles map[string][]Rule) (*Authorizer, error) {
	var problems []string
	bad := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }

	names := make([]string, 0, len(roles))
	for r := range roles {
		names = append(names, r)
	}
	sort.Strings(names) // deterministic error order

	z := &Authorizer{roles: make(map[string]*rolePolicy, len(roles))}
	for _, role := range names {
		if role == "" || strings.TrimSpace(role) != role {
			bad("role %q: name is empty or has surrounding spaces", role)
			continue
		}
		verdicts := map[ruleKey]*[numActions]uint8{}
		var order []ruleKey
		for i, r := range roles[role] {
			where := fmt.Sprintf("role %q rule %d (%q)", role, i, r.URI)
			match := r.Match
			if match == "" {
				match = wamp.MatchExact
			}
			switch match {
			case wamp.MatchExact, wamp.MatchPrefix, wamp.MatchWildcard:
				if !wamp.ValidURI(r.URI, false, match) {
					bad("%s: invalid URI for match %s", where, match)
					continue
				}
			default:
				bad("%s: unknown match %q (want exact, prefix or wildcard)", where, r.Match)
				continue
			}
			if len(r.Allow)+len(r.Deny) == 0 {
				bad("%s: no actions", where)
				continue
			}
			k := ruleKey{match, r.URI}
			v := verdicts[k]
			if v == nil {
				v = new([numActions]uint8)
				verdicts[k] = v
				order = append(order, k)
			}
			for _, set := range []struct {
				actions []string
				bit     uint8
			}{{r.Allow, bitAllow}, {r.Deny, bitDeny}} {
				for _, a := range set.actions {
					i := actionIndex(a)
					if i < 0 {
						bad("%s: unknown action %q (want call, register, subscribe or publish)", where, a)
						continue
					}
					v[i] |= set.bit
				}
			}
		}
		z.roles[role] = compile(order, verdicts)
	}
	if len(problems) > 0 {
		return nil, fmt.Errorf("%w: %s", ErrInvalidRules, strings.Join(problems, "; "))
	}
	return z, nil
}

func compile(order []ruleKey, verdicts map[ruleKey]*[numActions]uint8) *rolePolicy {
	var rp rolePolicy
	for _, k := range order {
		for i, bits := range verdicts[k] {
			if bits == 0 {
				continue
			}
			allow := bits == bitAllow // deny wins a tie
			p := &rp[i]
			switch k.match {
			case wamp.MatchExact:
				if p.exact == nil {
					p.exact = map[string]bool{}
				}
				p.exact[k.uri] = allow
			case wamp.MatchPrefix:
				p.prefixes = append(p.prefixes, prefixVerdict{k.uri, allow})
			case wamp.MatchWildcard:
				p.wildcards = append(p.wildcards, newWildVerdict(k.uri, allow))
			}
		}
	}
	for i := range rp {
		p := &rp[i]
		slices.SortStableFunc(p.prefixes, func(a, b prefixVerdict) int { return cmp.Compare(len(b.prefix), len(a.prefix)) })
		slices.SortStableFunc(p.wildcards, func(a, b wildVerdict) int {
			if c := cmp.Compare(b.lits, a.lits); c != 0 {
				return c
			}
			return slices.Compare(b.runs, a.runs)
		})
		var lens []int
		for _, pv := range p.prefixes {
			if len(lens) == 0 || lens[len(lens)-1] != len(pv.prefix) {
				lens = append(lens, len(pv.prefix))
			}
		}
		if len(p.prefixes) > 4 && len(p.prefixes) >= 2*len(lens) {
			p.prefixLens = lens
			p.prefixMap = make(map[string]bool, len(p.prefixes))
			for _, pv := range p.prefixes {
				p.prefixMap[pv.prefix] = pv.allow
			}
			p.prefixes = nil
		}
		if len(p.wildcards) > 0 {
			p.wild = newWildNode()
			for rank, w := range p.wildcards {
				p.wild.insert(w.pattern, rank, w.allow)
			}
			p.wildcards = nil
		}
	}
	return &rp
}

func newWildVerdict(pattern string, allow bool) wildVerdict {
	w := wildVerdict{pattern: pattern, allow: allow}
	run := 0
	for c := range strings.SplitSeq(pattern, ".") {
		if c == "" {
			w.runs = append(w.runs, run)
			run = 0
			continue
		}
		w.lits++
		run++
	}
	w.runs = append(w.runs, run)
	return w
}

// Allowed reports whether role may perform action ("call", "register",
// "subscribe", "publish") on uri. The most specific rule that mentions the
// action decides; without one, or for an unknown role or action, the answer
// is no.
func (z *Authorizer) Allowed(role, action, uri string) bool {
	rp := z.roles[role]
	if rp == nil {
		return false
	}
	i := actionIndex(action)
	if i < 0 {
		return false
	}
	p := &rp[i]
	if allow, ok := p.exact[uri]; ok {
		return allow
	}
	for _, n := range p.prefixLens {
		if n <= len(uri) {
			if allow, ok := p.prefixMap[uri[:n]]; ok {
				return allow
			}
		}
	}
	for j := range p.prefixes {
		if strings.HasPrefix(uri, p.prefixes[j].prefix) {
			return p.prefixes[j].allow
		}
	}
	if p.wild != nil {
		if w := p.wild.match(uri); w != nil {
			return w.allow
		}
	}
	return false
}

// HasRole reports whether the authorizer knows role.
func (z *Authorizer) HasRole(role string) bool {
	_, ok := z.roles[role]
	return ok
}

// Roles returns the sorted role names.
func (z *Authorizer) Roles() []string {
	names := make([]string, 0, len(z.roles))
	for r := range z.roles {
		names = append(names, r)
	}
	sort.Strings(names)
	return names
}
