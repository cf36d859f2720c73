package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Bounds that keep Load cheap on hostile input.
const (
	maxConfigSize = 4 << 20 // bytes of YAML
	maxSecretSize = 64 << 10
	maxErrors     = 500
	maxVisits     = 100_000 // values visited, counting alias expansions
	maxMergeDepth = 8
)

// Load reads the YAML config file at path and returns the Config it
// describes, with every key the file leaves out set to its default. On any
// problem it returns a nil Config and an *Errors listing all of them.
func Load(path string) (*Config, error) {
	data, err := readLimited(path, maxConfigSize)
	if err != nil {
		return nil, &Errors{List: []*Error{{File: path, Msg: "cannot read config: " + cause(err), Err: err}}}
	}
	return Parse(path, data)
}

// Parse is Load on data already read from the file at path; path names the
// file in errors and anchors relative paths in it.
func Parse(path string, data []byte) (*Config, error) {
	d := &decoder{file: path, dir: filepath.Dir(path)}
	var cfg *Config
	if len(data) > maxConfigSize {
		d.add(0, "", nil, fmt.Sprintf("config is larger than %s", ByteSize(maxConfigSize)))
	} else {
		cfg = d.config(d.parse(data))
	}
	if len(d.errs) > 0 {
		slices.SortStableFunc(d.errs, func(a, b *Error) int { return a.Line - b.Line })
		if d.truncated {
			d.errs = append(d.errs, &Error{File: path, Msg: fmt.Sprintf("too many errors; stopped after %d", maxErrors)})
		}
		return nil, &Errors{List: d.errs}
	}
	return cfg, nil
}

// readLimited reads the file at path, failing if it holds more than limit
// bytes (so that a mistaken --config /dev/zero ends).
func readLimited(path string, limit int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("larger than %s", ByteSize(limit))
	}
	return data, nil
}

// cause returns the message of err without the path that *fs.PathError
// adds, for messages that already name the file.
func cause(err error) string {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	return err.Error()
}

// decoder walks the YAML node tree, filling a Config and collecting errors.
type decoder struct {
	file      string
	dir       string
	errs      []*Error
	visits    int
	stopped   bool // too many errors or values: decode no further
	truncated bool // errors were dropped after maxErrors
}

func (d *decoder) add(line int, path string, err error, msg string) {
	if d.stopped {
		return
	}
	if len(d.errs) == maxErrors {
		d.truncated, d.stopped = true, true
		return
	}
	d.errs = append(d.errs, &Error{File: d.file, Line: line, Path: path, Msg: msg, Err: err})
}

// errorf records a problem with node n (nil: no line) at the key path.
func (d *decoder) errorf(n *yaml.Node, path, format string, args ...any) {
	d.add(lineOf(n), path, nil, fmt.Sprintf(format, args...))
}

// wrapf is errorf with an underlying error for errors.Is.
func (d *decoder) wrapf(n *yaml.Node, path string, err error, format string, args ...any) {
	d.add(lineOf(n), path, err, fmt.Sprintf(format, args...))
}

func lineOf(n *yaml.Node) int {
	if n == nil {
		return 0
	}
	return n.Line
}

var yamlLineRe = regexp.MustCompile(`^yaml: line (\d+): (?s:(.*))$`)

// parse returns the document's root node, or nil for an empty document or
// a syntax error (recorded).
func (d *decoder) parse(data []byte) (root *yaml.Node) {
	defer func() {
		// The YAML parser reports its own errors by panicking and
		// recovering; anything that escapes is a parser bug, which must not
		// take the router down with it.
		if r := recover(); r != nil {
			d.add(0, "", nil, fmt.Sprintf("invalid YAML: %v", r))
			root = nil
		}
	}()
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if !errors.Is(err, io.EOF) {
			d.syntax(err, data)
		}
		return nil
	}
	var extra yaml.Node
	switch err := dec.Decode(&extra); {
	case err == nil:
		d.errorf(&extra, "", "more than one YAML document; the config is a single document")
	case !errors.Is(err, io.EOF):
		d.syntax(err, data)
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) == 0 {
		return nil
	}
	return doc.Content[0]
}

// parserProblems are the YAML parser's (not scanner's) messages. For these
// the YAML library reports a 0-based line (or none for the first line), so
// syntax adds one.
var parserProblems = []string{
	"did not find expected <stream-start>",
	"did not find expected <document start>",
	"did not find expected node content",
	"did not find expected '-' indicator",
	"did not find expected key",
	"did not find expected ',' or ']'",
	"did not find expected ',' or '}'",
	"found undefined tag handle",
	"found duplicate %YAML directive",
	"found incompatible YAML document",
	"found duplicate %TAG directive",
}

var unknownAnchorRe = regexp.MustCompile(`^unknown anchor '(.*)' referenced$`)

// syntax records a YAML syntax error, with the best line number it can
// find.
func (d *decoder) syntax(err error, data []byte) {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	line := 0
	if m := yamlLineRe.FindStringSubmatch(err.Error()); m != nil {
		line, _ = strconv.Atoi(m[1])
		msg = m[2]
	}
	lines := strings.Split(string(data), "\n")
	switch {
	case slices.Contains(parserProblems, msg):
		line++
	case msg == "found character that cannot start any token" && line > 0 && line <= len(lines) &&
		strings.HasPrefix(strings.TrimLeft(lines[line-1], " "), "\t"):
		msg += " (a tab; indent YAML with spaces)"
	}
	if m := unknownAnchorRe.FindStringSubmatch(msg); m != nil && line == 0 {
		for i, l := range lines {
			if strings.Contains(l, "*"+m[1]) {
				line = i + 1
				break
			}
		}
	}
	d.add(line, "", err, "invalid YAML: "+msg)
}

// visit counts one value visited and reports whether decoding goes on.
func (d *decoder) visit() bool {
	if d.stopped {
		return false
	}
	d.visits++
	if d.visits > maxVisits {
		d.add(0, "", nil, fmt.Sprintf("config is too complex: it has more than %d values, counting each expansion of an alias", maxVisits))
		d.stopped = true
	}
	return !d.stopped
}

// deref follows aliases.
func (d *decoder) deref(n *yaml.Node) *yaml.Node {
	for i := 0; n != nil && n.Kind == yaml.AliasNode && n.Alias != nil && i < 4; i++ {
		n = n.Alias
	}
	return n
}

func isNull(n *yaml.Node) bool {
	return n == nil || n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null"
}

// describe names the kind of value n holds, for type errors.
func describe(n *yaml.Node) string {
	if n == nil {
		return "nothing"
	}
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.AliasNode:
		return "an alias"
	case yaml.DocumentNode:
		return "a document"
	}
	switch t := n.ShortTag(); t {
	case "!!str":
		return fmt.Sprintf("the string %q", n.Value)
	case "!!int":
		return "the integer " + n.Value
	case "!!float":
		return "the number " + n.Value
	case "!!bool":
		return "the boolean " + n.Value
	case "!!null":
		return "nothing (null)"
	case "!!timestamp":
		return "the timestamp " + n.Value
	default:
		return fmt.Sprintf("a value tagged %s", t)
	}
}

func (d *decoder) typeErr(n *yaml.Node, path, want string) {
	d.errorf(n, path, "expected %s, got %s", want, describe(n))
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func index(path string, i int) string { return fmt.Sprintf("%s[%d]", path, i) }

// keyset is the keys a mapping may hold.
type keyset struct {
	keys []string
	// elsewhere explains keys that are valid in another section.
	elsewhere map[string]string
}

// object is a decoded mapping: its known keys and their values.
type object struct {
	d    *decoder
	path string
	node *yaml.Node
	keys map[string]*yaml.Node
	vals map[string]*yaml.Node
}

type pair struct{ key, val *yaml.Node }

// object checks that n is a mapping whose keys are all in ks and returns
// it, or nil after recording the problem. A null n is an empty mapping.
func (d *decoder) object(n *yaml.Node, path string, ks keyset) *object {
	n = d.deref(n)
	if !d.visit() {
		return nil
	}
	o := &object{d: d, path: path, node: n, keys: map[string]*yaml.Node{}, vals: map[string]*yaml.Node{}}
	if isNull(n) {
		return o
	}
	if n.Kind != yaml.MappingNode {
		d.typeErr(n, path, "a mapping")
		return nil
	}
	for _, p := range d.pairs(n, path) {
		k := p.key.Value
		if !slices.Contains(ks.keys, k) {
			if why, ok := ks.elsewhere[k]; ok {
				d.errorf(p.key, join(path, k), "%s", why)
			} else {
				d.errorf(p.key, join(path, k), "unknown key%s", hint(k, ks.keys, true))
			}
			continue
		}
		o.keys[k] = p.key
		o.vals[k] = p.val
	}
	return o
}

// pairs returns the key-value pairs of mapping n in file order, with merge
// keys (<<) expanded, recording duplicate and non-string keys.
func (d *decoder) pairs(n *yaml.Node, path string) []pair {
	var out []pair
	d.addPairs(n, path, 0, map[string]*yaml.Node{}, &out, true)
	return out
}

func (d *decoder) addPairs(n *yaml.Node, path string, depth int, seen map[string]*yaml.Node, out *[]pair, explicit bool) {
	var merges []*yaml.Node
	for i := 0; i+1 < len(n.Content); i += 2 {
		if !d.visit() {
			return
		}
		k, v := d.deref(n.Content[i]), n.Content[i+1]
		if k == nil || k.Kind != yaml.ScalarNode {
			d.errorf(k, path, "keys must be plain strings, got %s", describe(k))
			continue
		}
		if k.ShortTag() == "!!merge" {
			merges = append(merges, v)
			continue
		}
		if first, dup := seen[k.Value]; dup {
			if explicit {
				d.errorf(k, join(path, k.Value), "duplicate key (first at line %d)", first.Line)
			}
			continue
		}
		seen[k.Value] = k
		*out = append(*out, pair{k, v})
	}
	for _, m := range merges {
		if depth >= maxMergeDepth {
			d.errorf(m, path, "merge keys (<<) nested more than %d deep", maxMergeDepth)
			continue
		}
		m = d.deref(m)
		switch {
		case m.Kind == yaml.MappingNode:
			d.addPairs(m, path, depth+1, seen, out, false)
		case m.Kind == yaml.SequenceNode:
			for _, it := range m.Content {
				if it = d.deref(it); it.Kind == yaml.MappingNode {
					d.addPairs(it, path, depth+1, seen, out, false)
				} else {
					d.typeErr(it, path+".<<", "a mapping to merge")
				}
			}
		default:
			d.typeErr(m, path+".<<", "a mapping or a list of mappings to merge")
		}
	}
}

// at returns the path of key.
func (o *object) at(key string) string { return join(o.path, key) }

// has reports whether key is present with a non-null value.
func (o *object) has(key string) bool {
	return o != nil && !isNull(o.d.deref(o.vals[key]))
}

// get returns the value of key, or nil when it is absent or null.
func (o *object) get(key string) *yaml.Node {
	if o == nil {
		return nil
	}
	n := o.d.deref(o.vals[key])
	if isNull(n) || !o.d.visit() {
		return nil
	}
	return n
}

// missing records that a required key is absent.
func (o *object) missing(key, what string) {
	if what != "" {
		what = " (" + what + ")"
	}
	o.d.errorf(o.node, o.at(key), "missing%s", what)
}

// str stores the string value of key in dst and returns its node; nil when
// the key is absent or its value is not a string.
func (o *object) str(key string, dst *string) *yaml.Node {
	n := o.get(key)
	if n == nil {
		return nil
	}
	s, ok := o.d.scalarString(n, o.at(key))
	if !ok {
		return nil
	}
	*dst = s
	return n
}

// scalarString accepts any plain scalar as a string (so ticket: 1234 works)
// except booleans, which are almost always a mistake.
func (d *decoder) scalarString(n *yaml.Node, path string) (string, bool) {
	if n.Kind == yaml.ScalarNode {
		switch n.ShortTag() {
		case "!!str", "!!int", "!!float", "!!timestamp":
			return n.Value, true
		case "!!bool":
			d.errorf(n, path, "expected a string, got the boolean %s (quote it to mean the string)", n.Value)
			return "", false
		}
	}
	d.typeErr(n, path, "a string")
	return "", false
}

func (o *object) int(key string, dst *int) *yaml.Node {
	n := o.get(key)
	if n == nil {
		return nil
	}
	v, ok := o.d.integer(n, o.at(key))
	if !ok {
		return nil
	}
	*dst = v
	return n
}

// integer decodes an int that fits in 32 bits, so the config means the same
// on the Pi's 32-bit ARM builds.
func (d *decoder) integer(n *yaml.Node, path string) (int, bool) {
	if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!int" {
		d.typeErr(n, path, "an integer")
		return 0, false
	}
	var v int64
	if err := n.Decode(&v); err != nil || v > 1<<31-1 || v < -(1<<31) {
		d.errorf(n, path, "integer %s is out of range", n.Value)
		return 0, false
	}
	return int(v), true
}

func (o *object) bool(key string, dst *bool) *yaml.Node {
	n := o.get(key)
	if n == nil {
		return nil
	}
	var v bool
	if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!bool" || n.Decode(&v) != nil {
		o.d.typeErr(n, o.at(key), "a boolean (true or false)")
		return nil
	}
	*dst = v
	return n
}

func (o *object) duration(key string, dst *Duration) *yaml.Node {
	n := o.get(key)
	if n == nil {
		return nil
	}
	if n.Kind != yaml.ScalarNode || n.ShortTag() == "!!bool" {
		o.d.typeErr(n, o.at(key), `a duration such as "30s"`)
		return nil
	}
	v, problem := parseDuration(n.Value)
	if problem != "" {
		o.d.errorf(n, o.at(key), "%s", problem)
		return nil
	}
	*dst = v
	return n
}

func (o *object) size(key string, dst *ByteSize) *yaml.Node {
	n := o.get(key)
	if n == nil {
		return nil
	}
	tag := n.ShortTag()
	if n.Kind != yaml.ScalarNode || tag != "!!int" && tag != "!!str" {
		o.d.typeErr(n, o.at(key), `a size such as "64KiB"`)
		return nil
	}
	if tag == "!!int" {
		var v int64
		if err := n.Decode(&v); err != nil || v < 0 {
			o.d.errorf(n, o.at(key), "size %s is out of range", n.Value)
			return nil
		}
		*dst = ByteSize(v)
		return n
	}
	v, problem := parseByteSize(n.Value)
	if problem != "" {
		o.d.errorf(n, o.at(key), "%s", problem)
		return nil
	}
	*dst = v
	return n
}

// rate decodes "100/s" or {rate: "100/s", burst: 20}; with unlimited set,
// also "unlimited" for the zero Rate.
func (o *object) rate(key string, dst *Rate, unlimited bool) *yaml.Node {
	n := o.get(key)
	if n == nil {
		return nil
	}
	path := o.at(key)
	if n.Kind == yaml.MappingNode {
		ro := o.d.object(n, path, rateKeys)
		if ro == nil {
			return nil
		}
		var s string
		rn := ro.str("rate", &s)
		if rn == nil {
			if !ro.has("rate") {
				ro.missing("rate", `events per time, such as "100/s"`)
			}
			return nil
		}
		r, problem := parseRate(s)
		if problem != "" {
			o.d.errorf(rn, ro.at("rate"), "%s", problem)
			return nil
		}
		if bn := ro.int("burst", &r.Burst); bn != nil && r.Burst < 1 {
			o.d.errorf(bn, ro.at("burst"), "burst must be at least 1")
			return nil
		}
		*dst = r
		return n
	}
	if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!str" {
		o.d.typeErr(n, path, `a rate such as "100/s"`)
		return nil
	}
	if n.Value == "unlimited" {
		if !unlimited {
			o.d.errorf(n, path, "leave %s out to use the top-level limit; unlimited is only for the top-level limits", key)
			return nil
		}
		*dst = Rate{}
		return n
	}
	r, problem := parseRate(n.Value)
	if problem != "" {
		o.d.errorf(n, path, "%s", problem)
		return nil
	}
	*dst = r
	return n
}

// seq returns the items of a list value (aliases followed), or nil with ok
// false after recording a type error.
func (d *decoder) seq(n *yaml.Node, path string) ([]*yaml.Node, bool) {
	if n.Kind != yaml.SequenceNode {
		d.typeErr(n, path, "a list")
		return nil, false
	}
	items := make([]*yaml.Node, 0, len(n.Content))
	for _, it := range n.Content {
		if !d.visit() {
			return nil, false
		}
		items = append(items, d.deref(it))
	}
	return items, true
}

// resolve makes a relative path in the file relative to its directory.
func (d *decoder) resolve(p string) string {
	if p == "" || filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(d.dir, p)
}

// hint returns a " (did you mean ...?)" suffix for a misspelt word, or,
// when list is set, the valid choices.
func hint(word string, choices []string, list bool) string {
	best, bestDist := "", 1<<30
	for _, c := range choices {
		dist := editDistance(strings.ToLower(word), strings.ToLower(c))
		if dist < bestDist {
			best, bestDist = c, dist
		}
	}
	if best != "" && (bestDist <= 2 && bestDist*3 <= max(len(word), len(best)) || strings.EqualFold(word, best)) {
		return fmt.Sprintf(" (did you mean %q?)", best)
	}
	// A known word that starts the unknown one, or the other way round
	// ("baudrate" for "baud").
	lw := strings.ToLower(word)
	for _, c := range choices {
		lc := strings.ToLower(c)
		if min(len(lw), len(lc)) >= 4 && (strings.HasPrefix(lw, lc) || strings.HasPrefix(lc, lw)) {
			return fmt.Sprintf(" (did you mean %q?)", c)
		}
	}
	if list && len(choices) > 0 {
		return " (expected one of: " + strings.Join(choices, ", ") + ")"
	}
	return ""
}

// editDistance counts the single-byte insertions, deletions, substitutions
// and swaps of neighbours that turn a into b (optimal string alignment).
// Inputs longer than 64 bytes are not worth comparing.
func editDistance(a, b string) int {
	if len(a) > 64 || len(b) > 64 {
		return 1 << 20
	}
	// rows[i][j] is the distance between a[:i] and b[:j].
	rows := make([][]int, len(a)+1)
	for i := range rows {
		rows[i] = make([]int, len(b)+1)
		rows[i][0] = i
	}
	for j := range rows[0] {
		rows[0][j] = j
	}
	for i := 1; i <= len(a); i++ {
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			v := min(rows[i-1][j]+1, rows[i][j-1]+1, rows[i-1][j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				v = min(v, rows[i-2][j-2]+1)
			}
			rows[i][j] = v
		}
	}
	return rows[len(a)][len(b)]
}
