package config

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// problem is one expected entry of an *Errors: the exact line and key path,
// and a part of the message.
type problem struct {
	line int
	path string
	msg  string
}

func (p problem) String() string { return fmt.Sprintf("%d: %s: ...%s...", p.line, p.path, p.msg) }

// matches reports whether e is the expected problem in file.
func (p problem) matches(file string, e *Error) bool {
	prefix := fmt.Sprintf("%s:%d: ", file, p.line)
	if p.path != "" {
		prefix += p.path + ": "
	}
	return e.File == file && e.Line == p.line && e.Path == p.path &&
		strings.HasPrefix(e.Error(), prefix) && strings.Contains(e.Msg, p.msg)
}

// testDir holds the files that error cases refer to as $DIR/...
func testDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range map[string]string{
		"secret.txt": "hunter2\n",
		"empty.txt":  "\r\n",
		"cert.pem":   "cert\n",
		"key.pem":    "key\n",
	} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Mkdir(filepath.Join(dir, "adir"), 0o700); err != nil {
		t.Fatal(err)
	}
	t.Setenv("WG_TEST_SECRET", "from-env")
	t.Setenv("WG_TEST_EMPTY", "")
	os.Unsetenv("WG_TEST_UNSET")
	return dir
}

// loadProblems loads content (with $DIR replaced by dir) from a file in
// dir and checks that the problems are exactly want, in order.
func loadProblems(t *testing.T, dir, content string, want []problem) {
	t.Helper()
	path := filepath.Join(dir, "wampgate.yaml")
	if err := os.WriteFile(path, []byte(strings.ReplaceAll(content, "$DIR", dir)), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := Load(path)
	if len(want) == 0 {
		if err != nil {
			t.Fatalf("unexpected errors:\n%v", err)
		}
		return
	}
	var errs *Errors
	if !errors.As(err, &errs) {
		t.Fatalf("Load = %v, %v; want *Errors", cfg, err)
	}
	if cfg != nil {
		t.Errorf("Load returned a Config with errors")
	}
	ok := len(errs.List) == len(want)
	for i := 0; ok && i < len(want); i++ {
		ok = want[i].matches(path, errs.List[i])
	}
	if !ok {
		t.Errorf("got problems:\n%v\nwant (file %s):\n%s", err, path, formatProblems(want))
	}
}

func formatProblems(ps []problem) string {
	var b strings.Builder
	for _, p := range ps {
		fmt.Fprintln(&b, p)
	}
	return b.String()
}

// A valid realm that error cases build on.
const realmIoT = `realms:
  - name: iot
    roles:
      backend:
        - {uri: "", match: prefix, allow: [call]}
`

func TestLoadErrors(t *testing.T) {
	dir := testDir(t)
	tests := []struct {
		name string
		yaml string
		want []problem
	}{
		// YAML syntax.
		{"syntax unclosed flow", "log_level: info\nlisten:\n  - {type: websocket\nrealms: x\n",
			[]problem{{3, "", "invalid YAML: did not find expected ',' or '}'"}}},
		{"syntax bad indent", "limits:\n  max_sessions: 1\n   out_queue: 1\n",
			[]problem{{3, "", "mapping values are not allowed"}}},
		{"syntax tab", "limits:\n\tmax_sessions: 1\n",
			[]problem{{2, "", "a tab; indent YAML with spaces"}}},
		{"syntax block", "log_level: info\n- a\n",
			[]problem{{2, "", "did not find expected key"}}},
		{"unknown anchor", "log_level: info\nlimits: *nope\n",
			[]problem{{2, "", "unknown anchor 'nope'"}}},
		{"two documents", "log_level: info\n---\nlog_level: debug\n",
			[]problem{{2, "", "more than one YAML document"}}},
		{"root not a mapping", "- a\n- b\n",
			[]problem{{1, "", "expected a mapping, got a list"}}},

		// Unknown and duplicate keys, at every level.
		{"unknown top key", "realm:\n  - name: x\n",
			[]problem{{1, "realm", `unknown key (did you mean "realms"?)`}}},
		{"unknown top key no hint", "frobnicate: 1\n",
			[]problem{{1, "frobnicate", "unknown key (expected one of: log_level, limits, listen, realms, devices)"}}},
		{"unknown listener key", "listen:\n  - {type: rawsocket, adress: \"127.0.0.1:1\"}\n",
			[]problem{{2, "listen[0].adress", `did you mean "address"?`}, {2, "listen[0].address", "missing"}}},
		{"unknown key transposed", "listen:\n  - {tpye: unix, path: /tmp/x.sock}\n",
			[]problem{{2, "listen[0].tpye", `did you mean "type"?`}, {2, "listen[0].type", "missing"}}},
		{"unknown rule key", realmIoT + "        - {uri: a, alow: [call]}\n",
			[]problem{{6, "realms[0].roles.backend[1].alow", `did you mean "allow"?`}, {6, "realms[0].roles.backend[1]", "neither allows nor denies"}}},
		{"unknown user key", realmIoT + "    users:\n      - {authid: a, role: backend, ticket: x, tiket_file: y}\n",
			[]problem{{7, "realms[0].users[0].tiket_file", `did you mean "ticket_file"?`}}},
		{"unknown cra key", realmIoT + "    users:\n      - authid: a\n        role: backend\n        wampcra:\n          secret: x\n          Salt: y\n",
			[]problem{{11, "realms[0].users[0].wampcra.Salt", `did you mean "salt"?`}}},
		{"unknown device key", realmIoT + "devices:\n  - {name: a, port: /dev/ttyS0, realm: iot, role: backend, baudrate: 9600}\n",
			[]problem{{7, "devices[0].baudrate", `did you mean "baud"?`}}},
		{"key valid elsewhere", "listen:\n  - type: rawsocket\n    address: \":1\"\n    limits: {write_timeout: 1s}\n",
			[]problem{{4, "listen[0].limits.write_timeout", "can only be set in the top-level limits"}}},
		{"realm handshake timeout", realmIoT + "    limits: {handshake_timeout: 1s}\n",
			[]problem{{6, "realms[0].limits.handshake_timeout", "not a realm's"}}},
		{"duplicate key", "log_level: info\nlog_level: debug\n",
			[]problem{{2, "log_level", "duplicate key (first at line 1)"}}},
		{"duplicate role", realmIoT + "      backend: []\n",
			[]problem{{6, "realms[0].roles.backend", "duplicate key (first at line 4)"}}},
		{"non-string key", "? [a]\n: b\n",
			[]problem{{1, "", "keys must be plain strings, got a list"}}},

		// Wrong types.
		{"listen not a list", "listen: {type: unix}\n",
			[]problem{{1, "listen", "expected a list, got a mapping"}}},
		{"listener not a mapping", "listen:\n  - websocket\n",
			[]problem{{2, "listen[0]", `expected a mapping, got the string "websocket"`}}},
		{"null list item", "listen:\n  -\n",
			[]problem{{2, "listen[0].type", "missing"}}},
		{"string is a list", realmIoT + "    anonymous: [backend]\n",
			[]problem{{6, "realms[0].anonymous", "expected a string, got a list"}}},
		{"string is a boolean", "realms:\n  - name: yes\n  - name: true\n",
			[]problem{{3, "realms[1].name", "expected a string, got the boolean true (quote it"}}},
		{"integer is a string", realmIoT + "devices:\n  - {name: a, port: /dev/ttyS0, realm: iot, role: backend, baud: fast}\n",
			[]problem{{7, "devices[0].baud", `expected an integer, got the string "fast"`}}},
		{"integer is quoted", "limits: {max_sessions: \"10\"}\n",
			[]problem{{1, "limits.max_sessions", `expected an integer, got the string "10"`}}},
		{"integer too big", "limits: {max_sessions: 99999999999}\n",
			[]problem{{1, "limits.max_sessions", "out of range"}}},
		{"boolean", realmIoT + "    strict_uris: maybe\n",
			[]problem{{6, "realms[0].strict_uris", "expected a boolean (true or false)"}}},
		{"roles not a mapping", "realms:\n  - name: r\n    anonymous: x\n    roles: [a]\n",
			[]problem{{4, "realms[0].roles", "expected a mapping from role names to lists of rules"}}},
		{"rules not a list", "realms:\n  - name: r\n    anonymous: a\n    roles:\n      a: {uri: x}\n",
			[]problem{{5, "realms[0].roles.a", "expected a list, got a mapping"}}},
		{"tagged value", "log_level: !!binary aGVsbG8=\n",
			[]problem{{1, "log_level", "expected a string, got a value tagged !!binary"}}},
		{"bad log level", "log_level: loud\n",
			[]problem{{1, "log_level", `unknown log level "loud" (want debug, info, warn or error)`}}},

		// Durations, sizes, rates.
		{"duration without unit", "limits:\n  handshake_timeout: 30\n",
			[]problem{{2, "limits.handshake_timeout", `duration "30" has no unit; write "30s"`}}},
		{"duration quoted without unit", "limits:\n  write_timeout: \"1.5\"\n",
			[]problem{{2, "limits.write_timeout", `write "1.5s"`}}},
		{"duration bad", "limits:\n  ping_interval: 5 minutes\n",
			[]problem{{2, "limits.ping_interval", `bad duration "5 minutes"`}}},
		{"duration negative", "limits:\n  shutdown_timeout: -1s\n",
			[]problem{{2, "limits.shutdown_timeout", "is negative"}}},
		{"duration zero where positive", "limits:\n  handshake_timeout: 0s\n",
			[]problem{{2, "limits.handshake_timeout", "must be greater than 0"}}},
		{"duration boolean", "limits:\n  ping_interval: false\n",
			[]problem{{2, "limits.ping_interval", "expected a duration"}}},
		{"size ambiguous", "limits:\n  max_message: 64K\n",
			[]problem{{2, "limits.max_message", `ambiguous unit; write "64KiB" (powers of 1024) or "64KB"`}}},
		{"size fraction", "limits:\n  max_message: 1.5MiB\n",
			[]problem{{2, "limits.max_message", "not a whole number"}}},
		{"size unknown unit", "limits:\n  out_queue: 64 bananas\n",
			[]problem{{2, "limits.out_queue", `unknown unit "bananas"`}}},
		{"size zero", "limits:\n  out_queue: 0\n",
			[]problem{{2, "limits.out_queue", "must be greater than 0"}}},
		{"size too small", "limits:\n  max_message: 100B\n",
			[]problem{{2, "limits.max_message", "100B is too small (at least 512B)"}}},
		{"size too large", "limits:\n  max_message: 2GiB\n",
			[]problem{{2, "limits.max_message", "2GiB is too large (at most 1GiB)"}}},
		{"size negative", "limits:\n  max_message: -5\n",
			[]problem{{2, "limits.max_message", "out of range"}}},
		{"rate number", "limits:\n  publish_rate: 100\n",
			[]problem{{2, "limits.publish_rate", `expected a rate such as "100/s", got the integer 100`}}},
		{"rate bad unit", "limits:\n  call_rate: 100/fortnight\n",
			[]problem{{2, "limits.call_rate", "not a positive duration"}}},
		{"rate mapping", "limits:\n  call_rate: {rate: 10/s, burst: 0, bust: 1}\n",
			[]problem{{2, "limits.call_rate.bust", `did you mean "burst"?`}, {2, "limits.call_rate.burst", "at least 1"}}},
		{"rate unlimited in realm", realmIoT + "    limits: {publish_rate: unlimited}\n",
			[]problem{{6, "realms[0].limits.publish_rate", "leave publish_rate out"}}},

		// Listeners.
		{"address without port", "listen:\n  - {type: websocket, address: \"127.0.0.1\"}\n",
			[]problem{{2, "listen[0].address", `bad address "127.0.0.1": want host:port`}}},
		{"port out of range", "listen:\n  - {type: rawsocket, address: \"127.0.0.1:99999\"}\n",
			[]problem{{2, "listen[0].address", `bad port "99999" in "127.0.0.1:99999" (want a number from 0 to 65535)`}}},
		{"port not a number", "listen:\n  - {type: rawsocket, address: \"localhost:http\"}\n",
			[]problem{{2, "listen[0].address", `bad port "http"`}}},
		{"bad host", "listen:\n  - {type: rawsocket, address: \"exa mple:80\"}\n",
			[]problem{{2, "listen[0].address", `bad host "exa mple"`}}},
		{"duplicate address", "listen:\n  - {type: websocket, address: \"127.0.0.1:8080\"}\n  - {type: rawsocket, address: \"127.0.0.1:8080\"}\n",
			[]problem{{3, "listen[1].address", "conflicts with listen[0] (line 2)"}}},
		{"wildcard conflict", "listen:\n  - {type: websocket, address: \"127.0.0.1:8080\"}\n  - {type: rawsocket, address: \":8080\"}\n  - {type: rawsocket, address: \"127.0.0.1:0\"}\n  - {type: rawsocket, address: \"127.0.0.1:0\"}\n",
			[]problem{{3, "listen[1].address", "conflicts with listen[0] (line 2)"}}},
		{"duplicate unix path", "listen:\n  - {type: unix, path: /tmp/a.sock}\n  - {type: unix, path: /tmp/../tmp/a.sock}\n",
			[]problem{{3, "listen[1].path", "conflicts with listen[0] (line 2)"}}},
		{"unknown type", "listen:\n  - {type: webscoket, address: \":1\"}\n",
			[]problem{{2, "listen[0].type", `unknown listener type "webscoket" (did you mean "websocket"?)`}}},
		{"missing type", "listen:\n  - {address: \":1\"}\n",
			[]problem{{2, "listen[0].type", "missing (websocket, rawsocket or unix)"}}},
		{"missing address", "listen:\n  - type: websocket\n    path: /ws\n",
			[]problem{{2, "listen[0].address", "missing"}}},
		{"unix without path", "listen:\n  - {type: unix}\n",
			[]problem{{2, "listen[0].path", "missing (the socket file, required for unix listeners)"}}},
		{"unix with address and tls", "listen:\n  - {type: unix, path: /tmp/x.sock, address: \":1\", tls: {cert: $DIR/cert.pem, key: $DIR/key.pem}}\n",
			[]problem{{2, "listen[0].address", "unix listeners have no address"}, {2, "listen[0].tls", "do not support TLS"}}},
		{"rawsocket with path", "listen:\n  - {type: rawsocket, address: \":1\", path: /x}\n",
			[]problem{{2, "listen[0].path", "rawsocket listeners have no path"}}},
		{"websocket path without slash", "listen:\n  - {type: websocket, address: \":1\", path: ws}\n",
			[]problem{{2, "listen[0].path", `URL path "ws" must start with "/"`}}},
		{"empty listen", "listen: []\n",
			[]problem{{1, "listen", "no listeners"}}},
		{"tls files missing", "listen:\n  - type: rawsocket\n    address: \":1\"\n    tls:\n      cert: nope.crt\n      key: $DIR/adir\n      client_ca: /nonexistent/ca.crt\n",
			[]problem{
				{5, "listen[0].tls.cert", fmt.Sprintf(`cannot use %q: no such file or directory`, filepath.Join(dir, "nope.crt"))},
				{6, "listen[0].tls.key", "is a directory"},
				{7, "listen[0].tls.client_ca", `cannot use "/nonexistent/ca.crt"`},
			}},
		{"tls key missing", "listen:\n  - type: rawsocket\n    address: \":1\"\n    tls: {cert: $DIR/cert.pem}\n",
			[]problem{{4, "listen[0].tls.key", "missing (PEM private key file)"}}},
		{"listener limits", "listen:\n  - type: rawsocket\n    address: \":1\"\n    limits: {max_sessions: -1, max_message: 10B}\n",
			[]problem{{4, "listen[0].limits.max_sessions", "must not be negative"}, {4, "listen[0].limits.max_message", "too small"}}},

		// Realms, roles, rules.
		{"duplicate realm", realmIoT + "  - name: iot\n",
			[]problem{{6, "realms[1].name", `duplicate realm "iot" (first in realms[0], line 2)`}}},
		{"missing realm name", "realms:\n  - anonymous: \"\"\n",
			[]problem{{2, "realms[0].name", "missing"}}},
		{"bad realm name", "realms:\n  - name: \"my realm\"\n  - {name: Realm2, strict_uris: true}\n",
			[]problem{{2, "realms[0].name", `bad realm name: URI "my realm" contains ' '`}, {3, "realms[1].name", "strict URIs allow only"}}},
		{"empty realms", "realms: []\n",
			[]problem{{1, "realms", "no realms"}}},
		{"bad rule uris", "realms:\n  - name: r\n    strict_uris: true\n    roles:\n      a:\n" +
			"        - {uri: \"a..b\", allow: [call]}\n" +
			"        - {uri: \"\", allow: [call]}\n" +
			"        - {uri: \"a#b\", match: wildcard, allow: [call]}\n" +
			"        - {uri: \"a..b.\", match: prefix, allow: [call]}\n" +
			"        - {uri: \"A.b\", allow: [call]}\n" +
			"        - {uri: \"a..b\", match: wildcard, allow: [call]}\n" +
			"        - {uri: \"a.b.\", match: prefix, allow: [call]}\n",
			[]problem{
				{6, "realms[0].roles.a[0].uri", `URI "a..b" has an empty component (allowed only with match: wildcard)`},
				{7, "realms[0].roles.a[1].uri", "empty URI with match exact"},
				{8, "realms[0].roles.a[2].uri", `contains '#'`},
				{9, "realms[0].roles.a[3].uri", `a prefix may only end with "."`},
				{10, "realms[0].roles.a[4].uri", `contains 'A'; strict URIs allow only a-z, 0-9 and _`},
			}},
		{"bad match", realmIoT + "        - {uri: x, match: prefx, allow: [call]}\n",
			[]problem{{6, "realms[0].roles.backend[1].match", `unknown match policy "prefx" (did you mean "prefix"?)`}}},
		{"bad action", realmIoT + "        - {uri: x, allow: [subscibe, frob]}\n",
			[]problem{
				{6, "realms[0].roles.backend[1].allow[0]", `unknown action "subscibe" (did you mean "subscribe"?)`},
				{6, "realms[0].roles.backend[1].allow[1]", `unknown action "frob" (expected one of: call, register, subscribe, publish)`},
			}},
		{"rule without actions", realmIoT + "        - {uri: x}\n        - {uri: y, allow: [], deny: []}\n",
			[]problem{
				{6, "realms[0].roles.backend[1]", "rule neither allows nor denies anything"},
				{7, "realms[0].roles.backend[2]", "rule neither allows nor denies anything"},
			}},
		{"allowed and denied", realmIoT + "        - {uri: x, allow: [call, publish], deny: [publish, publish]}\n",
			[]problem{
				{6, "realms[0].roles.backend[1].deny[1]", `"publish" is listed twice`},
				{6, "realms[0].roles.backend[1].deny[0]", `"publish" is both allowed and denied`},
			}},
		{"rule without uri", realmIoT + "        - {allow: [call]}\n",
			[]problem{{6, "realms[0].roles.backend[1].uri", "missing"}}},
		{"anonymous role unknown", realmIoT + "    anonymous: bakend\n",
			[]problem{{6, "realms[0].anonymous", `role "bakend" is not defined in realms[0].roles (did you mean "backend"?)`}}},
		{"user role unknown", realmIoT + "    users:\n      - {authid: a, role: admin, ticket: x}\n",
			[]problem{{7, "realms[0].users[0].role", `role "admin" is not defined in realms[0].roles (expected one of: backend)`}}},
		{"roles broken no cascade", "realms:\n  - name: r\n    anonymous: x\n    roles: 5\n    users:\n      - {authid: a, role: y, ticket: x}\n",
			[]problem{{4, "realms[0].roles", "expected a mapping"}}},
		{"realm limits", realmIoT + "    limits: {max_sessions: 10, max_message: 10B, out_queue: 2GiB}\n",
			[]problem{{6, "realms[0].limits.max_message", "too small"}, {6, "realms[0].limits.out_queue", "too large"}}},

		// Users and secrets.
		{"duplicate authid", realmIoT + "    users:\n      - {authid: a, role: backend, ticket: x}\n      - {authid: a, role: backend, ticket: y}\n",
			[]problem{{8, "realms[0].users[1].authid", `duplicate authid "a" (first in realms[0].users[0], line 7)`}}},
		{"no auth method", realmIoT + "    users:\n      - {authid: a, role: backend}\n",
			[]problem{{7, "realms[0].users[0]", "no auth method; set one of ticket, ticket_file, ticket_env, wampcra or cryptosign"}}},
		{"two auth methods", realmIoT + "    users:\n      - {authid: a, role: backend, ticket: x, wampcra: {secret: y}}\n",
			[]problem{{7, "realms[0].users[0]", "more than one auth method (ticket, wampcra)"}}},
		{"two ticket sources", realmIoT + "    users:\n      - {authid: a, role: backend, ticket: x, ticket_env: WG_TEST_SECRET}\n",
			[]problem{{7, "realms[0].users[0].ticket_env", "set only one of ticket, ticket_file and ticket_env"}}},
		{"missing authid and role", realmIoT + "    users:\n      - {ticket: x}\n",
			[]problem{{7, "realms[0].users[0].authid", "missing"}, {7, "realms[0].users[0].role", "missing"}}},
		{"empty ticket", realmIoT + "    users:\n      - {authid: a, role: backend, ticket: \"\"}\n",
			[]problem{{7, "realms[0].users[0].ticket", "must not be empty"}}},
		{"secret file missing", realmIoT + "    users:\n      - {authid: a, role: backend, ticket_file: missing.txt}\n",
			[]problem{{7, "realms[0].users[0].ticket_file", fmt.Sprintf("cannot read secret file %q: no such file or directory", filepath.Join(dir, "missing.txt"))}}},
		{"secret file is a directory", realmIoT + "    users:\n      - {authid: a, role: backend, ticket_file: adir}\n",
			[]problem{{7, "realms[0].users[0].ticket_file", "not a regular file"}}},
		{"secret file empty", realmIoT + "    users:\n      - {authid: a, role: backend, wampcra: {secret_file: $DIR/empty.txt}}\n",
			[]problem{{7, "realms[0].users[0].wampcra.secret_file", "is empty"}}},
		{"env unset", realmIoT + "    users:\n      - {authid: a, role: backend, ticket_env: WG_TEST_UNSET}\n",
			[]problem{{7, "realms[0].users[0].ticket_env", "environment variable WG_TEST_UNSET is not set"}}},
		{"env empty", realmIoT + "    users:\n      - {authid: a, role: backend, wampcra: {secret_env: WG_TEST_EMPTY}}\n",
			[]problem{{7, "realms[0].users[0].wampcra.secret_env", "environment variable WG_TEST_EMPTY is empty"}}},
		{"env bad name", realmIoT + "    users:\n      - {authid: a, role: backend, ticket_env: \"A=B\"}\n",
			[]problem{{7, "realms[0].users[0].ticket_env", `bad environment variable name "A=B"`}}},
		{"cra without secret", realmIoT + "    users:\n      - {authid: a, role: backend, wampcra: {salt: s}}\n",
			[]problem{{7, "realms[0].users[0].wampcra.secret", "missing (set secret, secret_file or secret_env)"}}},
		{"cra iterations without salt", realmIoT + "    users:\n      - {authid: a, role: backend, wampcra: {secret: s, iterations: 10, keylen: 16}}\n",
			[]problem{{7, "realms[0].users[0].wampcra.iterations", "set salt too"}, {7, "realms[0].users[0].wampcra.keylen", "set salt too"}}},
		{"cra bad iterations", realmIoT + "    users:\n      - {authid: a, role: backend, wampcra: {secret: s, salt: x, iterations: 0, keylen: 2000}}\n",
			[]problem{{7, "realms[0].users[0].wampcra.iterations", "must be from 1 to"}, {7, "realms[0].users[0].wampcra.keylen", "must be from 1 to 1024"}}},
		{"cryptosign keys", realmIoT + "    users:\n      - authid: a\n        role: backend\n        cryptosign:\n          pubkeys:\n" +
			"            - abcd\n" +
			"            - " + strings.Repeat("zz", 32) + "\n" +
			"            - " + strings.Repeat("ab", 32) + "\n" +
			"      - authid: b\n        role: backend\n        cryptosign: {pubkeys: [" + strings.Repeat("AB", 32) + "]}\n",
			[]problem{
				{11, "realms[0].users[0].cryptosign.pubkeys[0]", "want 64 hex characters (a 32-byte Ed25519 public key), got 4"},
				{12, "realms[0].users[0].cryptosign.pubkeys[1]", "not hexadecimal"},
				{16, "realms[0].users[1].cryptosign.pubkeys[0]", "public key is also given to realms[0].users[0]"},
			}},
		{"cryptosign no keys", realmIoT + "    users:\n      - {authid: a, role: backend, cryptosign: {pubkeys: []}}\n      - {authid: b, role: backend, cryptosign: {}}\n",
			[]problem{{7, "realms[0].users[0].cryptosign.pubkeys", "list at least one public key"}, {8, "realms[0].users[1].cryptosign.pubkeys", "missing"}}},

		// Devices.
		{"duplicate device", realmIoT + "devices:\n  - {name: a, port: /dev/ttyS0, realm: iot, role: backend}\n  - {name: a, port: /dev/ttyS1, realm: iot, role: backend}\n",
			[]problem{{8, "devices[1].name", `duplicate device name "a" (first in devices[0], line 7)`}}},
		{"same port", realmIoT + "devices:\n  - {name: a, port: /dev/ttyS0, realm: iot, role: backend}\n  - {name: b, port: /dev/ttyS0, realm: iot, role: backend}\n",
			[]problem{{8, "devices[1]", "same port /dev/ttyS0 as devices[0] (line 7)"}}},
		{"device unknown realm", realmIoT + "devices:\n  - {name: a, port: /dev/ttyS0, realm: iott, role: backend}\n",
			[]problem{{7, "devices[0].realm", `realm "iott" is not defined in realms (did you mean "iot"?)`}}},
		{"device unknown role", realmIoT + "devices:\n  - {name: a, port: /dev/ttyS0, realm: iot, role: device}\n",
			[]problem{{7, "devices[0].role", `role "device" is not defined in realms[0].roles (expected one of: backend)`}}},
		{"device default realm", "devices:\n  - {name: a, port: /dev/ttyS0, realm: realm1, role: nobody}\n",
			[]problem{{2, "devices[0].role", `role "nobody" is not defined in realms[0].roles`}}},
		{"device no port", realmIoT + "devices:\n  - {name: a, realm: iot, role: backend}\n",
			[]problem{{7, "devices[0]", "no port; set one of port, usb or tcp"}}},
		{"device two ports", realmIoT + "devices:\n  - {name: a, port: /dev/ttyS0, tcp: \"tcp://h:1\", realm: iot, role: backend}\n",
			[]problem{{7, "devices[0].tcp", "set only one of port, usb and tcp"}}},
		{"device bad places", realmIoT + "devices:\n" +
			"  - {name: a, port: ttyS0, realm: iot, role: backend}\n" +
			"  - {name: b, port: \"tcp://host\", realm: iot, role: backend}\n" +
			"  - {name: c, tcp: \"udp://h:1\", realm: iot, role: backend}\n" +
			"  - {name: d, tcp: \"h:0\", realm: iot, role: backend}\n" +
			"  - {name: e, usb: {vid: 403, pid: \"60x1\"}, realm: iot, role: backend}\n" +
			"  - {name: f, usb: {pid: \"6001\", serial: \"\"}, realm: iot, role: backend}\n",
			[]problem{
				{7, "devices[0].port", `port "ttyS0" is not an absolute device path`},
				{8, "devices[1].port", `bad address "host": want tcp://host:port`},
				{9, "devices[2].tcp", `bad address "udp://h:1": want tcp://host:port`},
				{10, "devices[3].tcp", `bad port "0" in "h:0" (want a number from 1 to 65535)`},
				{11, "devices[4].usb.vid", `bad USB ID "403"`},
				{11, "devices[4].usb.pid", `bad USB ID "60x1"`},
				{12, "devices[5].usb.vid", "missing"},
				{12, "devices[5].usb.serial", "must not be empty"},
			}},
		{"device settings", realmIoT + "devices:\n  - name: \"bad name\"\n    port: /dev/ttyS0\n    realm: iot\n    role: backend\n" +
			"    baud: 0\n    data_bits: 9\n    parity: evn\n    stop_bits: 3\n    rtscts: 1\n    ping_interval: 10\n    out_queue: 0\n    max_message: 32MiB\n    prefix: \"dev..x\"\n",
			[]problem{
				{7, "devices[0].name", `bad device name "bad name"`},
				{11, "devices[0].baud", "must be greater than 0"},
				{12, "devices[0].data_bits", "must be 5, 6, 7 or 8"},
				{13, "devices[0].parity", `unknown parity "evn" (did you mean "even"?)`},
				{14, "devices[0].stop_bits", "must be 1 or 2"},
				{15, "devices[0].rtscts", "expected a boolean"},
				{16, "devices[0].ping_interval", `write "10s"`},
				{17, "devices[0].out_queue", "must be from 1B to 1GiB"},
				{18, "devices[0].max_message", "must be from 512B to 16MiB"},
				{19, "devices[0].prefix", "empty component"},
			}},
		{"device missing keys", "devices:\n  - {port: /dev/ttyS0}\n",
			[]problem{{2, "devices[0].name", "missing"}, {2, "devices[0].realm", "missing"}, {2, "devices[0].role", "missing"}}},
		{"strict realm device prefix", "realms:\n  - {name: r, strict_uris: true, roles: {d: []}}\ndevices:\n  - {name: a, port: /dev/ttyS0, realm: r, role: d, prefix: \"Dev.\"}\n",
			[]problem{{4, "devices[0].prefix", "strict URIs allow only"}}},
		{"device realm broken no cascade", "realms:\n  - name: [x]\ndevices:\n  - {name: a, port: /dev/ttyS0, realm: r, role: d}\n",
			[]problem{{2, "realms[0].name", "expected a string"}}},

		// Aliases and merge keys.
		{"self-referencing alias", "listen: &a [*a]\n",
			[]problem{{1, "listen[0]", "expected a mapping, got a list"}}},
		{"merge not a mapping", "limits:\n  <<: 5\n",
			[]problem{{2, "limits.<<", "expected a mapping or a list of mappings to merge"}}},
		{"merged unknown key", "limits:\n  <<: {max_sesions: 1}\n",
			[]problem{{2, "limits.max_sesions", `did you mean "max_sessions"?`}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			loadProblems(t, dir, tt.yaml, tt.want)
		})
	}
}

func TestLoadReportsEveryProblem(t *testing.T) {
	dir := testDir(t)
	content := `log_level: verbose
limits:
  max_message: 64K
listen:
  - {type: websocket, address: "127.0.0.1:8080", path: ws}
  - {type: unix}
realms:
  - name: iot
    anonymous: guest
    roles:
      backend:
        - {uri: "a..b", allow: [call]}
    users:
      - {authid: svc, role: backend}
      - {authid: svc, role: backend, ticket_env: WG_TEST_UNSET}
devices:
  - {name: pump1, port: /dev/ttyUSB0, realm: iot, role: device, parity: odd}
  - {name: pump1, tcp: "tcp://gw:4001", realm: farm, role: backend}
`
	loadProblems(t, dir, content, []problem{
		{1, "log_level", "unknown log level"},
		{3, "limits.max_message", "ambiguous unit"},
		{5, "listen[0].path", `must start with "/"`},
		{6, "listen[1].path", "missing"},
		{9, "realms[0].anonymous", `role "guest" is not defined`},
		{12, "realms[0].roles.backend[0].uri", "empty component"},
		{14, "realms[0].users[0]", "no auth method"},
		{15, "realms[0].users[1].ticket_env", "WG_TEST_UNSET is not set"},
		{15, "realms[0].users[1].authid", "duplicate authid"},
		{17, "devices[0].role", `role "device" is not defined`},
		{18, "devices[1].name", "duplicate device name"},
		{18, "devices[1].realm", `realm "farm" is not defined`},
	})
}

func TestLoadValid(t *testing.T) {
	dir := testDir(t)
	for _, f := range []string{"server.crt", "server.key", "ca.crt"} {
		if err := os.WriteFile(filepath.Join(dir, f), []byte("x"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	// The schema of the issue, with secrets from a file and the environment.
	content := `listen:
  - {type: websocket, address: "127.0.0.1:8080", path: /ws}
  - {type: rawsocket, address: "127.0.0.1:8081"}
  - {type: unix, path: run/wampgate.sock}
  - {type: websocket, address: "0.0.0.0:8443", path: /ws,
     tls: {cert: server.crt, key: $DIR/server.key}}
  - {type: rawsocket, address: "0.0.0.0:8444",
     tls: {cert: server.crt, key: server.key, client_ca: ca.crt},
     limits: {max_sessions: 10, handshake_timeout: 2s, publish_rate: "5/100ms"}}
realms:
  - name: realm1
    anonymous: public            # role given to anonymous sessions; omit to refuse them
    roles:
      public:
        - {uri: "", match: prefix, allow: [call, register, subscribe, publish]}
  - name: iot
    roles:
      backend:
        - {uri: "", match: prefix, allow: [call, subscribe, publish]}
        - {uri: "admin.", match: prefix, deny: [call]}
      device:
        - {uri: "dev.", match: prefix, allow: [register, publish, subscribe, call]}
    users:
      - {authid: svc-ticket, role: backend, ticket: "s3cret"}
      - {authid: svc-cra, role: backend, wampcra: {secret: "s3cret"}}
      - {authid: svc-salted, role: backend,
         wampcra: {secret: "s3cret", salt: "salt123", iterations: 1000, keylen: 32}}
      - {authid: svc-key, role: backend,
         cryptosign: {pubkeys: ["` + strings.Repeat("0f", 32) + `"]}}
      - {authid: svc-file, role: device, ticket_file: secret.txt}
      - {authid: svc-env, role: device, wampcra: {secret_env: WG_TEST_SECRET, salt: s}}
    limits: {max_message: 64KiB, call_rate: {rate: 10/s, burst: 3}}
devices:
  - {name: pump1, port: /dev/ttyUSB0, baud: 115200, realm: iot, authid: pump1, role: device}
  - {name: meter, usb: {vid: "0x403", pid: "6001"}, realm: iot, role: device, parity: even, stop_bits: 2, data_bits: 7, rtscts: true}
  - {name: plc, port: "tcp://[::1]:4001", realm: iot, role: device, lenient: true, ping_interval: 0, out_queue: 2048}
limits:
  max_sessions: 1000
  publish_rate: 100/s
log_level: DEBUG
`
	path := filepath.Join(dir, "wampgate.yaml")
	if err := os.WriteFile(path, []byte(strings.ReplaceAll(content, "$DIR", dir)), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := Load(path)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}

	equal(t, "log level", cfg.LogLevel.String(), "DEBUG")
	want := DefaultLimits()
	want.MaxSessions = 1000
	want.PublishRate = Rate{Count: 100, Per: time.Second, Burst: 100}
	equal(t, "limits", cfg.Limits, want)

	equal(t, "listeners", len(cfg.Listen), 5)
	equal(t, "listener 0", cfg.Listen[0], Listener{Type: ListenWebSocket, Address: "127.0.0.1:8080", Path: "/ws", Line: 2})
	equal(t, "listener 1", cfg.Listen[1], Listener{Type: ListenRawSocket, Address: "127.0.0.1:8081", Line: 3})
	equal(t, "unix path", cfg.Listen[2].Path, filepath.Join(dir, "run/wampgate.sock"))
	equal(t, "tls 3", *cfg.Listen[3].TLS, TLS{Cert: filepath.Join(dir, "server.crt"), Key: filepath.Join(dir, "server.key")})
	equal(t, "tls 4 ca", cfg.Listen[4].TLS.ClientCA, filepath.Join(dir, "ca.crt"))
	equal(t, "listener limits", cfg.Listen[4].Limits, Limits{
		MaxSessions: 10, HandshakeTimeout: Duration(2 * time.Second),
		PublishRate: Rate{Count: 5, Per: 100 * time.Millisecond, Burst: 5},
	})
	eff := cfg.Listen[4].Limits.WithDefaults(cfg.Limits)
	equal(t, "effective listener limits", []any{eff.MaxSessions, eff.MaxMessage, eff.HandshakeTimeout, eff.PublishRate.PerSecond(), eff.WriteTimeout},
		[]any{10, DefaultMaxMessage, Duration(2 * time.Second), 50.0, DefaultWriteTimeout})

	r0, iot := cfg.Realms[0], cfg.Realms[1]
	equal(t, "realm1", []any{r0.Name, r0.Anonymous, r0.Line}, []any{"realm1", "public", 11})
	equal(t, "backend rules", iot.Roles["backend"], []Rule{
		{URI: "", Match: MatchPrefix, Allow: []Action{ActionCall, ActionSubscribe, ActionPublish}, Line: 19},
		{URI: "admin.", Match: MatchPrefix, Deny: []Action{ActionCall}, Line: 20},
	})
	equal(t, "iot anonymous", iot.Anonymous, "")
	users := iot.Users
	equal(t, "users", len(users), 6)
	equal(t, "ticket", []string{users[0].AuthID, users[0].Role, users[0].Ticket, users[0].AuthMethod()}, []string{"svc-ticket", "backend", "s3cret", "ticket"})
	equal(t, "cra", *users[1].WAMPCRA, CRA{Secret: "s3cret"})
	equal(t, "salted cra", *users[2].WAMPCRA, CRA{Secret: "s3cret", Salt: "salt123", Iterations: 1000, KeyLen: 32})
	equal(t, "cryptosign", users[3].Cryptosign.PubKeys, [][]byte{[]byte(strings.Repeat("\x0f", 32))})
	equal(t, "auth methods", []string{users[1].AuthMethod(), users[3].AuthMethod()}, []string{"wampcra", "cryptosign"})
	equal(t, "ticket from file", users[4].Ticket, "hunter2")
	equal(t, "cra from env with default kdf", *users[5].WAMPCRA, CRA{Secret: "from-env", Salt: "s", Iterations: DefaultCRAIterations, KeyLen: DefaultCRAKeyLen})
	equal(t, "realm limits", iot.Limits, Limits{MaxMessage: 64 << 10, CallRate: Rate{Count: 10, Per: time.Second, Burst: 3}})

	equal(t, "device 0", cfg.Devices[0], Device{
		Name: "pump1", Port: "/dev/ttyUSB0", Realm: "iot", AuthID: "pump1", Role: "device",
		Baud: 115200, DataBits: 8, Parity: ParityNone, StopBits: 1,
		PingInterval: DefaultDevicePingInterval, OutQueue: DefaultDeviceOutQueue, MaxMessage: DefaultDeviceMaxMessage, Line: 34,
	})
	m := cfg.Devices[1]
	equal(t, "device 1", []any{*m.USB, m.AuthID, m.Parity, m.StopBits, m.DataBits, m.RTSCTS}, []any{USB{VID: 0x403, PID: 0x6001}, "meter", ParityEven, 2, 7, true})
	p := cfg.Devices[2]
	equal(t, "device 2", []any{p.TCP, p.Port, p.Lenient, p.PingInterval, p.OutQueue}, []any{"[::1]:4001", "", true, Duration(0), ByteSize(2048)})
}

func TestLoadMissingFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "nope.yaml")
	_, err := Load(path)
	var errs *Errors
	if !errors.As(err, &errs) || len(errs.List) != 1 {
		t.Fatalf("Load = %v, want one *Errors entry", err)
	}
	if !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("errors.Is(err, fs.ErrNotExist) = false for %v", err)
	}
	equal(t, "message", err.Error(), path+": cannot read config: no such file or directory")
}

func TestLoadTooLarge(t *testing.T) {
	_, err := Parse("big.yaml", make([]byte, maxConfigSize+1))
	if err == nil || !strings.Contains(err.Error(), "big.yaml: config is larger than 4MiB") {
		t.Errorf("Parse = %v", err)
	}
}

func TestSecretErrorsUnwrap(t *testing.T) {
	dir := testDir(t)
	path := filepath.Join(dir, "c.yaml")
	content := realmIoT + "    users:\n      - {authid: a, role: backend, ticket_file: /nonexistent/secret}\n"
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := Load(path)
	if !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("errors.Is(err, fs.ErrNotExist) = false for %v", err)
	}
	var e *Error
	if !errors.As(err, &e) || e.Line != 7 || !strings.Contains(e.Msg, `"/nonexistent/secret"`) {
		t.Errorf("errors.As gave %+v", e)
	}
}

func TestSecretSources(t *testing.T) {
	dir := testDir(t)
	if err := os.WriteFile(filepath.Join(dir, "multi.txt"), []byte("line one\nline two\n\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	content := realmIoT + `    users:
      - {authid: inline, role: backend, ticket: 12345}
      - {authid: rel, role: backend, ticket_file: secret.txt}
      - {authid: abs, role: backend, ticket_file: $DIR/secret.txt}
      - {authid: env, role: backend, ticket_env: WG_TEST_SECRET}
      - {authid: multi, role: backend, wampcra: {secret_file: multi.txt}}
`
	path := filepath.Join(dir, "wampgate.yaml")
	if err := os.WriteFile(path, []byte(strings.ReplaceAll(content, "$DIR", dir)), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := Load(path)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	u := cfg.Realms[0].Users
	equal(t, "tickets", []string{u[0].Ticket, u[1].Ticket, u[2].Ticket, u[3].Ticket}, []string{"12345", "hunter2", "hunter2", "from-env"})
	equal(t, "multi-line secret keeps inner lines", u[4].WAMPCRA.Secret, "line one\nline two")
}

func TestAliasesAndMerge(t *testing.T) {
	content := `realms:
  - name: a
    roles:
      r: &rules
        - &rule {uri: x, allow: [call]}
        - {<<: *rule, uri: y}
      s: *rules
devices:
  - &dev {name: one, port: /dev/ttyS0, realm: a, role: r, baud: 9600}
  - {<<: [{name: ignored, baud: 1200}, *dev], name: two, port: /dev/ttyS1}
`
	cfg, err := Parse(filepath.Join(t.TempDir(), "c.yaml"), []byte(content))
	if err != nil {
		t.Fatal(err)
	}
	r := cfg.Realms[0].Roles
	equal(t, "aliased rules", r["s"], r["r"])
	equal(t, "merged rule", []string{r["r"][1].URI, string(r["r"][1].Allow[0])}, []string{"y", "call"})
	d := cfg.Devices[1]
	equal(t, "merged device", []any{d.Name, d.Port, d.Baud, d.Realm}, []any{"two", "/dev/ttyS1", 1200, "a"})
}

// TestAliasExpansionBounded feeds a small file whose aliases expand to
// millions of values: Load must give up with an error, not work for ages.
func TestAliasExpansionBounded(t *testing.T) {
	var b strings.Builder
	b.WriteString("realms:\n  - name: a\n    roles:\n      r0: &l [&r {uri: x, allow: [call, publish, register, subscribe]}")
	for range 999 {
		b.WriteString(", *r")
	}
	b.WriteString("]\n")
	for i := 1; i < 300; i++ {
		fmt.Fprintf(&b, "      r%d: *l\n", i)
	}
	_, err := Parse("bomb.yaml", []byte(b.String()))
	var errs *Errors
	if !errors.As(err, &errs) {
		t.Fatalf("Parse = %v, want *Errors", err)
	}
	if len(errs.List) != 1 || !strings.Contains(errs.List[0].Msg, "too complex") {
		t.Errorf("got %d problems, first %v; want only the too-complex error", len(errs.List), errs.List[0])
	}
}

func TestTooManyErrors(t *testing.T) {
	var b strings.Builder
	b.WriteString("listen:\n")
	for range maxErrors + 100 {
		b.WriteString("  - {type: bogus}\n")
	}
	b.WriteString("log_level: loud\n") // decoded before listen, sorted after it
	_, err := Parse("many.yaml", []byte(b.String()))
	var errs *Errors
	if !errors.As(err, &errs) {
		t.Fatalf("Parse = %v", err)
	}
	equal(t, "count", len(errs.List), maxErrors+1)
	if last := errs.List[len(errs.List)-1]; last.Msg != fmt.Sprintf("too many errors; stopped after %d", maxErrors) || last.Line != 0 {
		t.Errorf("last = %v", last)
	}
	if first := errs.List[0]; first.Line != 2 || first.Path != "listen[0].type" {
		t.Errorf("first = %v, want the first listener", first)
	}
}

func TestErrorFormat(t *testing.T) {
	for _, tt := range []struct {
		e    Error
		want string
	}{
		{Error{File: "f.yaml", Line: 3, Path: "a.b", Msg: "bad"}, "f.yaml:3: a.b: bad"},
		{Error{File: "f.yaml", Line: 3, Msg: "invalid YAML: x"}, "f.yaml:3: invalid YAML: x"},
		{Error{File: "f.yaml", Msg: "cannot read config: x"}, "f.yaml: cannot read config: x"},
	} {
		equal(t, "Error()", tt.e.Error(), tt.want)
	}
	errs := &Errors{List: []*Error{{File: "a", Line: 1, Msg: "x"}, {File: "a", Line: 2, Msg: "y"}}}
	equal(t, "Errors.Error()", errs.Error(), "a:1: x\na:2: y")
}

func TestWithDefaults(t *testing.T) {
	global := DefaultLimits()
	global.MaxSessions = 100
	global.CallRate = Rate{Count: 1, Per: time.Second, Burst: 1}
	got := Limits{OutQueue: 5 << 10}.WithDefaults(global)
	want := global
	want.MaxSessions = 0 // not inherited: the global cap is router-wide
	want.ShutdownTimeout = 0
	want.OutQueue = 5 << 10
	equal(t, "WithDefaults", got, want)
}

func TestHint(t *testing.T) {
	keys := []string{"name", "roles", "users", "anonymous", "address", "baud"}
	for _, tt := range []struct{ word, want string }{
		{"rolez", ` (did you mean "roles"?)`},
		{"Roles", ` (did you mean "roles"?)`},
		{"nmae", ` (did you mean "name"?)`},
		{"adress", ` (did you mean "address"?)`},
		{"baudrate", ` (did you mean "baud"?)`},
		{"anon", ` (did you mean "anonymous"?)`},
		{"xyz", ""},
		{"zzzzzzzz", ""},
	} {
		equal(t, "hint "+tt.word, hint(tt.word, keys, false), tt.want)
	}
	equal(t, "hint list", hint("xyz", []string{"a", "b"}, true), " (expected one of: a, b)")
	equal(t, "swap", editDistance("tpye", "type"), 1)
	equal(t, "distance", editDistance("kitten", "sitting"), 3)
}
