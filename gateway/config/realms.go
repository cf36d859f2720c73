package config

import (
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"unicode"

	"go.yaml.in/yaml/v3"
)

// realmInfo is what device checks need to know about a realm.
type realmInfo struct {
	index   int
	realm   *Realm
	rolesOK bool // roles decoded without structural errors
}

// realmIndex finds realms by name. complete is false when some realm's
// name could not be decoded, so "unknown realm" would be a guess.
type realmIndex struct {
	names    map[string]*realmInfo
	complete bool
}

func (d *decoder) realms(n *yaml.Node, path string) ([]Realm, realmIndex) {
	idx := realmIndex{names: map[string]*realmInfo{}, complete: true}
	items, ok := d.seq(n, path)
	if !ok {
		idx.complete = false
		return nil, idx
	}
	if len(items) == 0 {
		d.errorf(n, path, "no realms; list at least one, or leave realms out for the default realm1")
	}
	out := make([]Realm, len(items))
	infos := make([]*realmInfo, len(items))
	nameNodes := make([]*yaml.Node, len(items))
	for i, it := range items {
		var rolesOK bool
		out[i], nameNodes[i], rolesOK = d.realm(it, index(path, i))
		infos[i] = &realmInfo{index: i, rolesOK: rolesOK}
	}
	for i := range out {
		infos[i].realm = &out[i]
		nn := nameNodes[i]
		if nn == nil {
			idx.complete = false
			continue
		}
		if first, dup := idx.names[out[i].Name]; dup {
			d.errorf(nn, join(index(path, i), "name"), "duplicate realm %q (first in %s, line %d)",
				out[i].Name, index(path, first.index), nameNodes[first.index].Line)
			continue
		}
		idx.names[out[i].Name] = infos[i]
	}
	return out, idx
}

// realm decodes one realm and checks its internal references. It returns
// the name's node (nil if the name is missing or not a string) and whether
// the roles decoded well enough to check references against.
func (d *decoder) realm(n *yaml.Node, path string) (Realm, *yaml.Node, bool) {
	r := Realm{Line: n.Line, Roles: map[string][]Rule{}}
	o := d.object(n, path, realmKeys)
	if o == nil {
		return r, nil, false
	}
	o.bool("strict_uris", &r.StrictURIs)
	nn := o.str("name", &r.Name)
	switch {
	case nn == nil:
		if !o.has("name") {
			o.missing("name", `the realm URI, such as "realm1"`)
		}
	default:
		if problem := uriProblem(r.Name, r.StrictURIs, MatchExact); problem != "" {
			d.errorf(nn, o.at("name"), "bad realm name: %s", problem)
		}
	}

	rolesOK := true
	if rn := o.get("roles"); rn != nil {
		rpath := o.at("roles")
		if rn.Kind != yaml.MappingNode {
			d.typeErr(rn, rpath, "a mapping from role names to lists of rules")
			rolesOK = false
		} else {
			for _, p := range d.pairs(rn, rpath) {
				name, pathOf := p.key.Value, join(rpath, p.key.Value)
				if name == "" {
					d.errorf(p.key, pathOf, "role name must not be empty")
				}
				v := d.deref(p.val)
				r.Roles[name] = nil // known, even if its rules are broken
				if isNull(v) {
					continue // a role without rules may do nothing
				}
				items, ok := d.seq(v, pathOf)
				if !ok {
					continue
				}
				rules := make([]Rule, 0, len(items))
				for j, it := range items {
					rules = append(rules, d.rule(it, index(pathOf, j), r.StrictURIs))
				}
				r.Roles[name] = rules
			}
		}
	}
	roleNames := slices.Sorted(mapKeys(r.Roles))
	checkRole := func(n *yaml.Node, path, role string) {
		if _, ok := r.Roles[role]; !ok && rolesOK {
			d.errorf(n, path, "role %q is not defined in %s%s", role, o.at("roles"), hint(role, roleNames, true))
		}
	}

	if an := o.str("anonymous", &r.Anonymous); an != nil && r.Anonymous != "" {
		checkRole(an, o.at("anonymous"), r.Anonymous)
	}

	if un := o.get("users"); un != nil {
		upath := o.at("users")
		if items, ok := d.seq(un, upath); ok {
			authids := map[string]int{} // authid -> index
			idLines := map[string]int{}
			keys := map[string]string{} // hex key -> path of its user
			for j, it := range items {
				u, idNode, roleNode := d.user(it, index(upath, j), keys)
				r.Users = append(r.Users, u)
				if idNode != nil {
					if first, dup := authids[u.AuthID]; dup {
						d.errorf(idNode, join(index(upath, j), "authid"), "duplicate authid %q (first in %s, line %d)",
							u.AuthID, index(upath, first), idLines[u.AuthID])
					} else {
						authids[u.AuthID], idLines[u.AuthID] = j, idNode.Line
					}
				}
				if roleNode != nil {
					checkRole(roleNode, join(index(upath, j), "role"), u.Role)
				}
			}
		}
	}
	if ln := o.get("limits"); ln != nil {
		r.Limits = d.limits(ln, o.at("limits"), realmLimitKeys, Limits{}, false)
	}
	return r, nn, rolesOK
}

func (d *decoder) rule(n *yaml.Node, path string, strict bool) Rule {
	r := Rule{Match: MatchExact, Line: n.Line}
	o := d.object(n, path, ruleKeys)
	if o == nil {
		return r
	}
	un := o.str("uri", &r.URI)
	if un == nil && !o.has("uri") {
		o.missing("uri", `use uri: "" with match: prefix for every URI`)
	}
	if mn := o.str("match", &r.Match); mn != nil && !slices.Contains(matchPolicies, r.Match) {
		d.errorf(mn, o.at("match"), "unknown match policy %q%s", r.Match, hint(r.Match, matchPolicies, true))
		un = nil // the URI cannot be checked without a policy
	}
	if un != nil {
		if problem := uriProblem(r.URI, strict, r.Match); problem != "" {
			d.errorf(un, o.at("uri"), "%s", problem)
		}
	}
	var denyNodes []*yaml.Node
	var allowOK, denyOK bool
	r.Allow, _, allowOK = d.actions(o, "allow")
	r.Deny, denyNodes, denyOK = d.actions(o, "deny")
	if allowOK && denyOK && len(r.Allow) == 0 && len(r.Deny) == 0 {
		d.errorf(o.node, path, "rule neither allows nor denies anything; set allow or deny")
	}
	for i, a := range r.Deny {
		if slices.Contains(r.Allow, a) {
			d.errorf(denyNodes[i], index(o.at("deny"), i), "%q is both allowed and denied", a)
		}
	}
	return r
}

// actions decodes the allow or deny list of a rule. ok is false when the
// list itself is malformed; bad items are reported and left out.
func (d *decoder) actions(o *object, key string) ([]Action, []*yaml.Node, bool) {
	n := o.get(key)
	if n == nil {
		return nil, nil, true
	}
	path := o.at(key)
	items, ok := d.seq(n, path)
	if !ok {
		return nil, nil, false
	}
	var acts []Action
	var nodes []*yaml.Node
	ok = true
	for i, it := range items {
		s, good := d.scalarString(it, index(path, i))
		if !good {
			ok = false
			continue
		}
		a := Action(s)
		switch {
		case !slices.Contains(actionNames, s):
			d.errorf(it, index(path, i), "unknown action %q%s", s, hint(s, actionNames, true))
			ok = false
		case slices.Contains(acts, a):
			d.errorf(it, index(path, i), "%q is listed twice", s)
		default:
			acts = append(acts, a)
			nodes = append(nodes, it)
		}
	}
	return acts, nodes, ok
}

// uriProblem checks a URI under WAMP's rules for the match policy. Loose
// rules: components contain no '.', '#' or white space. Strict rules: only
// a-z, 0-9 and '_'. Components may be empty only in wildcard patterns, and
// at the end of a prefix; the empty URI is only a prefix (of everything).
func uriProblem(uri string, strict bool, match string) string {
	if uri == "" {
		if match == MatchPrefix {
			return ""
		}
		return fmt.Sprintf("empty URI with match %s (only match: prefix accepts \"\", meaning every URI)", match)
	}
	comps := strings.Split(uri, ".")
	for i, c := range comps {
		if c == "" {
			if match == MatchWildcard || match == MatchPrefix && i == len(comps)-1 {
				continue
			}
			switch match {
			case MatchPrefix:
				return fmt.Sprintf("URI %q has an empty component (a prefix may only end with \".\")", uri)
			default:
				return fmt.Sprintf("URI %q has an empty component (allowed only with match: wildcard)", uri)
			}
		}
		for _, r := range c {
			switch {
			case r == '#' || unicode.IsSpace(r):
				return fmt.Sprintf("URI %q contains %q, which WAMP URIs may not", uri, r)
			case strict && !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '_'):
				return fmt.Sprintf("URI %q contains %q; strict URIs allow only a-z, 0-9 and _", uri, r)
			}
		}
	}
	return ""
}

// user decodes one user, resolving its secret. keys collects the realm's
// cryptosign keys to catch one key given to two users. It returns the nodes
// of a valid authid and role for the realm's checks.
func (d *decoder) user(n *yaml.Node, path string, keys map[string]string) (u User, idNode, roleNode *yaml.Node) {
	u.Line = n.Line
	o := d.object(n, path, userKeys)
	if o == nil {
		return u, nil, nil
	}
	idNode = o.str("authid", &u.AuthID)
	switch {
	case idNode == nil && !o.has("authid"):
		o.missing("authid", "")
	case idNode != nil && u.AuthID == "":
		d.errorf(idNode, o.at("authid"), "must not be empty")
		idNode = nil
	}
	roleNode = o.str("role", &u.Role)
	switch {
	case roleNode == nil && !o.has("role"):
		o.missing("role", "a role of this realm")
	case roleNode != nil && u.Role == "":
		d.errorf(roleNode, o.at("role"), "must not be empty")
		roleNode = nil
	}
	var methods []string
	if o.has("ticket") || o.has("ticket_file") || o.has("ticket_env") {
		methods = append(methods, "ticket")
	}
	if o.has("wampcra") {
		methods = append(methods, "wampcra")
	}
	if o.has("cryptosign") {
		methods = append(methods, "cryptosign")
	}
	switch len(methods) {
	case 0:
		d.errorf(o.node, path, "no auth method; set one of ticket, ticket_file, ticket_env, wampcra or cryptosign")
	case 1:
	default:
		d.errorf(o.node, path, "more than one auth method (%s); a user has exactly one", strings.Join(methods, ", "))
	}
	if s, ok := d.secret(o, "ticket", "ticket_file", "ticket_env"); ok {
		u.Ticket = s
	}
	if cn := o.get("wampcra"); cn != nil {
		u.WAMPCRA = d.cra(cn, o.at("wampcra"))
	}
	if cn := o.get("cryptosign"); cn != nil {
		u.Cryptosign = d.cryptosign(cn, o.at("cryptosign"), path, keys)
	}
	return u, idNode, roleNode
}

var errNotRegular = errors.New("not a regular file")

// secret returns the value of whichever of the inline, file and env keys
// is set; present reports whether any is. Problems are recorded, and leave
// the value empty.
func (d *decoder) secret(o *object, inline, file, env string) (value string, present bool) {
	var set []string
	for _, k := range []string{inline, file, env} {
		if o.has(k) {
			set = append(set, k)
		}
	}
	if len(set) == 0 {
		return "", false
	}
	if len(set) > 1 {
		d.errorf(o.keys[set[1]], o.at(set[1]), "set only one of %s, %s and %s", inline, file, env)
		return "", true
	}
	k := set[0]
	var v string
	vn := o.str(k, &v)
	if vn == nil {
		return "", true
	}
	path := o.at(k)
	switch k {
	case inline:
		if v == "" {
			d.errorf(vn, path, "must not be empty")
		}
		return v, true
	case file:
		p := d.resolve(v)
		if v == "" {
			d.errorf(vn, path, "must not be empty")
			return "", true
		}
		data, err := readSecretFile(p)
		if err != nil {
			d.wrapf(vn, path, err, "cannot read secret file %q: %s", p, cause(err))
			return "", true
		}
		s := strings.TrimRight(string(data), "\r\n")
		if s == "" {
			d.errorf(vn, path, "secret file %q is empty", p)
		}
		return s, true
	default: // env
		if v == "" || strings.ContainsAny(v, "=\x00") {
			d.errorf(vn, path, "bad environment variable name %q", v)
			return "", true
		}
		s, ok := os.LookupEnv(v)
		switch {
		case !ok:
			d.errorf(vn, path, "environment variable %s is not set", v)
		case s == "":
			d.errorf(vn, path, "environment variable %s is empty", v)
		}
		return s, true
	}
}

// readSecretFile reads a small regular file; one trailing line break is
// not part of the secret (the caller trims it).
func readSecretFile(p string) ([]byte, error) {
	fi, err := os.Stat(p)
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, errNotRegular
	}
	return readLimited(p, maxSecretSize)
}

func (d *decoder) cra(n *yaml.Node, path string) *CRA {
	c := &CRA{}
	o := d.object(n, path, craKeys)
	if o == nil {
		return c
	}
	if s, ok := d.secret(o, "secret", "secret_file", "secret_env"); ok {
		c.Secret = s
	} else {
		o.missing("secret", "set secret, secret_file or secret_env")
	}
	sn := o.str("salt", &c.Salt)
	in := o.int("iterations", &c.Iterations)
	kn := o.int("keylen", &c.KeyLen)
	if sn != nil && c.Salt == "" {
		d.errorf(sn, o.at("salt"), "must not be empty (leave salt out for unsalted WAMP-CRA)")
		return c
	}
	if c.Salt == "" {
		for _, f := range []struct {
			key string
			n   *yaml.Node
		}{{"iterations", in}, {"keylen", kn}} {
			if f.n != nil {
				d.errorf(f.n, o.at(f.key), "%s only applies to salted WAMP-CRA; set salt too", f.key)
			}
		}
		return c
	}
	if !o.has("iterations") {
		c.Iterations = DefaultCRAIterations
	}
	if !o.has("keylen") {
		c.KeyLen = DefaultCRAKeyLen
	}
	if in != nil && (c.Iterations < 1 || c.Iterations > maxIterations) {
		d.errorf(in, o.at("iterations"), "must be from 1 to %d", maxIterations)
	}
	if kn != nil && (c.KeyLen < 1 || c.KeyLen > maxKeyLen) {
		d.errorf(kn, o.at("keylen"), "must be from 1 to %d", maxKeyLen)
	}
	return c
}

func (d *decoder) cryptosign(n *yaml.Node, path, userPath string, keys map[string]string) *Cryptosign {
	cs := &Cryptosign{}
	o := d.object(n, path, cryptosignKeys)
	if o == nil {
		return cs
	}
	pn := o.get("pubkeys")
	if pn == nil {
		o.missing("pubkeys", "a list of Ed25519 public keys, 64 hex characters each")
		return cs
	}
	kpath := o.at("pubkeys")
	items, ok := d.seq(pn, kpath)
	if !ok {
		return cs
	}
	if len(items) == 0 {
		d.errorf(pn, kpath, "list at least one public key")
	}
	for i, it := range items {
		ipath := index(kpath, i)
		s, ok := d.scalarString(it, ipath)
		if !ok {
			continue
		}
		if len(s) != 64 {
			d.errorf(it, ipath, "want 64 hex characters (a 32-byte Ed25519 public key), got %d", len(s))
			continue
		}
		key, err := hex.DecodeString(s)
		if err != nil {
			d.errorf(it, ipath, "public key is not hexadecimal")
			continue
		}
		id := hex.EncodeToString(key)
		if other, dup := keys[id]; dup {
			d.errorf(it, ipath, "public key is also given to %s", other)
			continue
		}
		keys[id] = userPath
		cs.PubKeys = append(cs.PubKeys, key)
	}
	return cs
}
