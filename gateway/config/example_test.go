package config

import (
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

const examplePath = "../../examples/wampgate.yaml"

// exampleDir copies the example config into a temp directory with the
// files and environment variables it refers to, and returns the copy's
// path. The example must load on a clean machine.
func exampleDir(t *testing.T) string {
	t.Helper()
	data, err := os.ReadFile(examplePath)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	files := map[string]string{
		"wampgate.yaml":      string(data),
		"server.crt":         "placeholder certificate\n",
		"server.key":         "placeholder key\n",
		"ca.crt":             "placeholder CA\n",
		"secrets/svc-ticket": "ticket-from-file\n",
		"secrets/svc-salted": "salted-from-file\r\n",
	}
	for name, content := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	t.Setenv("WAMPGATE_TICKET", "ticket-from-env")
	t.Setenv("WAMPGATE_CRA_SECRET", "cra-from-env")
	return filepath.Join(dir, "wampgate.yaml")
}

func TestExampleLoads(t *testing.T) {
	path := exampleDir(t)
	cfg, err := Load(path)
	if err != nil {
		t.Fatalf("example does not load:\n%v", err)
	}
	def := Default()
	dir := filepath.Dir(path)

	// The documented defaults agree with Default where they overlap.
	equal(t, "log_level", cfg.LogLevel, def.LogLevel)
	equal(t, "limits", cfg.Limits, def.Limits)
	for i := range 2 {
		got := cfg.Listen[i]
		got.Line = 0
		equal(t, "default listener", got, def.Listen[i])
	}
	equal(t, "unix listener type", cfg.Listen[2].Type, def.Listen[2].Type)
	realm1 := cfg.Realms[0]
	realm1.Line = 0
	for i := range realm1.Roles["anonymous"] {
		realm1.Roles["anonymous"][i].Line = 0
	}
	equal(t, "realm1", realm1, def.Realms[0])
	pump := cfg.Devices[0]
	equal(t, "device line settings",
		[]any{pump.Baud, pump.DataBits, pump.Parity, pump.StopBits, pump.RTSCTS, pump.Lenient, pump.PingInterval, pump.OutQueue, pump.MaxMessage},
		[]any{DefaultBaud, DefaultDataBits, ParityNone, DefaultStopBits, false, false, DefaultDevicePingInterval, DefaultDeviceOutQueue, DefaultDeviceMaxMessage})
	equal(t, "cra defaults", []int{cfg.Realms[1].Users[5].WAMPCRA.Iterations, cfg.Realms[1].Users[5].WAMPCRA.KeyLen},
		[]int{DefaultCRAIterations, DefaultCRAKeyLen})

	// Spot checks of the non-default parts.
	equal(t, "counts", []int{len(cfg.Listen), len(cfg.Realms), len(cfg.Devices)}, []int{5, 2, 3})
	equal(t, "tls", *cfg.Listen[4].TLS, TLS{
		Cert: filepath.Join(dir, "server.crt"), Key: filepath.Join(dir, "server.key"), ClientCA: filepath.Join(dir, "ca.crt"),
	})
	equal(t, "listener limits", cfg.Listen[4].Limits.MaxMessage, ByteSize(4<<20))
	iot := cfg.Realms[1]
	equal(t, "secrets", []string{iot.Users[0].Ticket, iot.Users[1].Ticket, iot.Users[2].Ticket, iot.Users[4].WAMPCRA.Secret, iot.Users[5].WAMPCRA.Secret},
		[]string{"s3cret", "ticket-from-file", "ticket-from-env", "cra-from-env", "salted-from-file"})
	equal(t, "realm call rate", iot.Limits.CallRate.Burst, 40)
	equal(t, "merged device", []any{cfg.Devices[1].Baud, cfg.Devices[1].Lenient, cfg.Devices[1].PingInterval, cfg.Devices[1].USB.VID},
		[]any{9600, true, Duration(30e9), uint16(0x0403)})
	equal(t, "merge override", []any{cfg.Devices[2].TCP, cfg.Devices[2].PingInterval}, []any{"192.168.1.50:4001", Duration(60e9)})
}

// TestExampleAnnotations checks every "key: value  # (default: X)" line of
// the example: the value shown must be the default it claims.
func TestExampleAnnotations(t *testing.T) {
	data, err := os.ReadFile(examplePath)
	if err != nil {
		t.Fatal(err)
	}
	re := regexp.MustCompile(`^\s*-?\s*([a-z_]+):\s*(\S.*?)\s*#\s*\(default: ([^)]*)\)\s*$`)
	n := 0
	for i, line := range strings.Split(string(data), "\n") {
		m := re.FindStringSubmatch(line)
		if m == nil {
			if strings.Contains(line, "(default:") && !strings.HasPrefix(strings.TrimSpace(line), "#") {
				t.Errorf("line %d: annotation the test cannot read: %s", i+1, line)
			}
			continue
		}
		n++
		if value := strings.Trim(m[2], `"`); value != m[3] {
			t.Errorf("line %d: %s is %q but the comment says the default is %q", i+1, m[1], value, m[3])
		}
	}
	if n < 20 {
		t.Errorf("found only %d default annotations", n)
	}
}

// TestExampleCoversSchema checks that the example shows every key the
// loader accepts, and only those.
func TestExampleCoversSchema(t *testing.T) {
	data, err := os.ReadFile(examplePath)
	if err != nil {
		t.Fatal(err)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	seen := map[string]map[string]bool{}
	var walk func(n *yaml.Node, pattern string)
	walk = func(n *yaml.Node, pattern string) {
		for n.Kind == yaml.AliasNode {
			n = n.Alias
		}
		switch n.Kind {
		case yaml.SequenceNode:
			for _, c := range n.Content {
				walk(c, pattern+"[]")
			}
		case yaml.MappingNode:
			for i := 0; i+1 < len(n.Content); i += 2 {
				key := n.Content[i].Value
				if key == "<<" {
					walk(n.Content[i+1], pattern)
					continue
				}
				if strings.HasSuffix(pattern, ".roles") {
					walk(n.Content[i+1], pattern+".*")
					continue
				}
				if seen[pattern] == nil {
					seen[pattern] = map[string]bool{}
				}
				seen[pattern][key] = true
				walk(n.Content[i+1], join(pattern, key))
			}
		}
	}
	walk(doc.Content[0], "")
	for pattern, ks := range schema {
		for _, k := range ks.keys {
			if !seen[pattern][k] {
				t.Errorf("example does not show %s", join(pattern, k))
			}
		}
	}
	for pattern, keys := range seen {
		ks, ok := schema[pattern]
		if !ok && !strings.HasSuffix(pattern, "_rate") {
			t.Errorf("example has a mapping at %s, which the schema does not know", pattern)
			continue
		}
		for k := range keys {
			if ok && !slices.Contains(ks.keys, k) {
				t.Errorf("example shows unknown key %s", join(pattern, k))
			}
		}
	}
}

func TestDefaultMatchesEmptyFile(t *testing.T) {
	for _, content := range []string{"", "# only a comment\n", "---\n", "~\n"} {
		path := writeFile(t, "empty.yaml", content)
		cfg, err := Load(path)
		if err != nil {
			t.Fatalf("%q: %v", content, err)
		}
		equal(t, "config from "+strconv.Quote(content), cfg, Default())
	}
}

func TestDefaultValues(t *testing.T) {
	def := Default()
	// The values of `wampgate serve` with no flags.
	equal(t, "listeners", []string{def.Listen[0].Address + def.Listen[0].Path, def.Listen[1].Address, def.Listen[2].Path},
		[]string{"127.0.0.1:8080/ws", "127.0.0.1:8081", DefaultUnixPath()})
	equal(t, "limits", []any{def.Limits.MaxMessage, def.Limits.OutQueue, def.Limits.HandshakeTimeout.String(),
		def.Limits.WriteTimeout.String(), def.Limits.PingInterval.String(), def.Limits.ShutdownTimeout.String()},
		[]any{ByteSize(1 << 20), ByteSize(1 << 20), "10s", "10s", "30s", "5s"})
	r := def.Realms[0]
	equal(t, "realm", []string{r.Name, r.Anonymous}, []string{"realm1", "anonymous"})
	rules := r.Roles[r.Anonymous]
	if len(rules) != 1 || rules[0].URI != "" || rules[0].Match != MatchPrefix || len(rules[0].Allow) != 4 {
		t.Errorf("anonymous role = %+v, want one rule allowing everything", rules)
	}
	// Each call returns a fresh Config.
	def.Realms[0].Name = "changed"
	if Default().Realms[0].Name != "realm1" {
		t.Error("Default shares state between calls")
	}
	t.Setenv("XDG_RUNTIME_DIR", "/run/user/1000")
	equal(t, "unix path", DefaultUnixPath(), "/run/user/1000/wampgate.sock")
}

func equal(t *testing.T, what string, got, want any) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s:\n got %#v\nwant %#v", what, got, want)
	}
}
