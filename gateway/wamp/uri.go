package wamp

import "strings"

// Match policies for SUBSCRIBE and REGISTER (Options.match).
const (
	MatchExact    = "exact"
	MatchPrefix   = "prefix"
	MatchWildcard = "wildcard"
)

// ValidURI reports whether uri is acceptable for the given match policy.
//
// Loose rules (strict=false): components are non-empty and contain no '.',
// '#' or whitespace. Strict rules also limit components to [0-9a-z_].
// With MatchPrefix only the last component may be empty (so "" and "a.b."
// are valid prefixes); with MatchWildcard any component may be empty.
func ValidURI(uri string, strict bool, match string) bool {
	if uri == "" {
		return match == MatchPrefix
	}
	n := strings.Count(uri, ".") + 1
	i := 0
	for comp := range strings.SplitSeq(uri, ".") {
		i++
		if comp == "" {
			switch match {
			case MatchWildcard:
				continue
			case MatchPrefix:
				if i == n {
					continue
				}
			}
			return false
		}
		if !validComponent(comp, strict) {
			return false
		}
	}
	return true
}

func validComponent(c string, strict bool) bool {
	for _, r := range c {
		if strict {
			if (r < 'a' || r > 'z') && (r < '0' || r > '9') && r != '_' {
				return false
			}
			continue
		}
		switch r {
		case '#', ' ', '\t', '\n', '\r', '\v', '\f', 0x85, 0xA0:
			return false
		}
		if r > 0xA0 && isUnicodeSpace(r) {
			return false
		}
	}
	return true
}

func isUnicodeSpace(r rune) bool {
	switch {
	case r == 0x1680, r >= 0x2000 && r <= 0x200A, r == 0x2028, r == 0x2029, r == 0x202F, r == 0x205F, r == 0x3000:
		return true
	}
	return false
}

// Reserved reports whether uri is in the reserved "wamp." namespace.
func Reserved(uri string) bool {
	return uri == "wamp" || strings.HasPrefix(uri, "wamp.")
}

// MatchURI reports whether a concrete uri matches pattern under the policy.
// Prefix matching is a plain string prefix, as in the spec's examples.
// Wildcard patterns need the same number of components, and an empty pattern
// component matches any one component.
func MatchURI(pattern, match, uri string) bool {
	switch match {
	case MatchPrefix:
		return strings.HasPrefix(uri, pattern)
	case MatchWildcard:
		for {
			pi := strings.IndexByte(pattern, '.')
			ui := strings.IndexByte(uri, '.')
			if (pi < 0) != (ui < 0) {
				return false
			}
			if pi < 0 {
				return pattern == "" || pattern == uri
			}
			if pi > 0 && pattern[:pi] != uri[:ui] {
				return false
			}
			pattern, uri = pattern[pi+1:], uri[ui+1:]
		}
	default:
		return pattern == uri
	}
}
