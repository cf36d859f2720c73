package gateway_test

import (
	"encoding/json"
	"io"
	"os/exec"
	"strings"
	"testing"
)

const module = "github.com/wampgate/wampgate"

// allowedImports lists, per package, the module packages and third-party
// modules its non-test code may import. Packages not listed may import only
// the standard library. cmd/* may import anything.
var allowedImports = map[string][]string{
	"gateway/wamp/codec":           {"gateway/wamp"},
	"gateway/broker":               {"gateway/wamp", "gateway/internal/cow"},
	"gateway/dealer":               {"gateway/wamp", "gateway/internal/cow"},
	"gateway":                      {"gateway/wamp", "gateway/wamp/codec", "gateway/broker", "gateway/dealer", "gateway/internal/outq", "gateway/auth", "transports"},
	"gateway/auth":                 {"gateway/wamp"},
	"gateway/config":               {"go.yaml.in/yaml/v3"},
	"gateway/client":               {"gateway/wamp", "gateway/wamp/codec", "transports", "transports/rawsocket", "transports/websocket"},
	"gateway/gatewaytest":          {"gateway", "gateway/wamp", "gateway/wamp/codec", "gateway/client", "transports", "transports/inproc"},
	"devices":                      {"transports", "transports/serial", "devices/discovery"},
	"devices/discovery":            {"go.bug.st/serial"},
	"firmware-sim":                 {"gateway/client", "gateway/wamp", "gateway/wamp/codec", "transports", "transports/rawsocket", "transports/serial", "transports/serial/serialtest"},
	"transports/inproc":            {"transports"},
	"transports/rawsocket":         {"transports"},
	"transports/websocket":         {"transports", "github.com/coder/websocket"},
	"transports/serial":            {"transports", "golang.org/x/sys"},
	"transports/transporttest":     {"transports"},
	"transports/serial/serialtest": {"transports", "golang.org/x/sys"},
}

// testHelpers may import "testing" in non-test code.
var testHelpers = map[string]bool{
	"gateway/gatewaytest": true, "transports/transporttest": true, "transports/serial/serialtest": true,
}

type listedPackage struct {
	ImportPath string
	Doc        string
	Imports    []string
	Standard   bool
}

func listPackages(t *testing.T) []listedPackage {
	t.Helper()
	cmd := exec.Command("go", "list", "-json", module+"/...")
	out, err := cmd.Output()
	if err != nil {
		var stderr []byte
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = ee.Stderr
		}
		t.Fatalf("go list: %v\n%s", err, stderr)
	}
	var pkgs []listedPackage
	dec := json.NewDecoder(strings.NewReader(string(out)))
	for {
		var p listedPackage
		if err := dec.Decode(&p); err == io.EOF {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		pkgs = append(pkgs, p)
	}
	if len(pkgs) < 5 {
		t.Fatalf("go list found only %d packages", len(pkgs))
	}
	return pkgs
}

func isStdlib(path string) bool {
	first, _, _ := strings.Cut(path, "/")
	return !strings.Contains(first, ".")
}

func TestImportRules(t *testing.T) {
	for _, p := range listPackages(t) {
		rel := strings.TrimPrefix(strings.TrimPrefix(p.ImportPath, module), "/")
		if strings.HasPrefix(rel, "cmd/") {
			continue
		}
		allowed := allowedImports[rel]
		for _, imp := range p.Imports {
			switch {
			case imp == "testing" && !testHelpers[rel]:
				t.Errorf("%s: non-test code imports testing", rel)
			case imp == "log":
				t.Errorf("%s: imports the std log package; use log/slog", rel)
			case isStdlib(imp):
				continue
			}
			if isStdlib(imp) {
				continue
			}
			target := strings.TrimPrefix(strings.TrimPrefix(imp, module), "/")
			ok := false
			for _, a := range allowed {
				if target == a || strings.HasPrefix(imp, a) {
					ok = true
					break
				}
			}
			if !ok {
				t.Errorf("%s may not import %s (see ARCHITECTURE.md, import rules)", rel, imp)
			}
		}
	}
}

func TestPackageDocs(t *testing.T) {
	for _, p := range listPackages(t) {
		if strings.TrimSpace(p.Doc) == "" {
			t.Errorf("%s has no package doc comment", p.ImportPath)
		}
	}
}
