package config

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

// FuzzLoad feeds arbitrary bytes to the loader as a config file. It must
// never panic; every problem must name the file; the result must not
// depend on the run; and a Config it accepts must hold the invariants that
// the rest of wampgate relies on.
func FuzzLoad(f *testing.F) {
	f.Add([]byte(""))
	f.Add([]byte("listen:\n  - {type: websocket, address: \"127.0.0.1:8080\", path: /ws}\n"))
	f.Add([]byte(realmIoT + "    users:\n      - {authid: a, role: backend, ticket: x}\n"))
	const name = "fuzz/wampgate.yaml"
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg, err := Parse(name, data)
		cfg2, err2 := Parse(name, data)
		if (err == nil) != (err2 == nil) || err != nil && err.Error() != err2.Error() {
			t.Fatalf("two loads differ:\n%v\n----\n%v", err, err2)
		}
		if err != nil {
			var errs *Errors
			if !errors.As(err, &errs) || len(errs.List) == 0 {
				t.Fatalf("error %T %v is not a non-empty *Errors", err, err)
			}
			if cfg != nil || cfg2 != nil {
				t.Fatal("Config returned together with errors")
			}
			for _, e := range errs.List {
				if e.File != name || !strings.HasPrefix(e.Error(), name+":") || e.Line < 0 || e.Msg == "" {
					t.Fatalf("problem without the file name or message: %#v", e)
				}
			}
			return
		}
		checkInvariants(t, cfg)
	})
}

// checkInvariants checks what Load promises about a Config it returns.
func checkInvariants(t *testing.T, cfg *Config) {
	t.Helper()
	if len(cfg.Listen) == 0 || len(cfg.Realms) == 0 {
		t.Fatalf("accepted a config with %d listeners and %d realms", len(cfg.Listen), len(cfg.Realms))
	}
	if cfg.Limits.MaxMessage <= 0 || cfg.Limits.OutQueue <= 0 || cfg.Limits.HandshakeTimeout <= 0 || cfg.Limits.WriteTimeout <= 0 {
		t.Fatalf("accepted non-positive global limits %+v", cfg.Limits)
	}
	for i, l := range cfg.Listen {
		switch l.Type {
		case ListenWebSocket:
			if !strings.HasPrefix(l.Path, "/") {
				t.Fatalf("listen[%d]: websocket path %q", i, l.Path)
			}
		case ListenRawSocket:
		case ListenUnix:
			if l.Path == "" || l.Address != "" || l.TLS != nil {
				t.Fatalf("listen[%d]: unix listener %+v", i, l)
			}
			continue
		default:
			t.Fatalf("listen[%d]: type %q", i, l.Type)
		}
		if listenAddrProblem(l.Address) != "" {
			t.Fatalf("listen[%d]: address %q", i, l.Address)
		}
	}
	realms := map[string]Realm{}
	for _, r := range cfg.Realms {
		if _, dup := realms[r.Name]; dup || r.Name == "" {
			t.Fatalf("realm name %q empty or duplicate", r.Name)
		}
		realms[r.Name] = r
		if _, ok := r.Roles[r.Anonymous]; r.Anonymous != "" && !ok {
			t.Fatalf("realm %q: anonymous role %q undefined", r.Name, r.Anonymous)
		}
		for role, rules := range r.Roles {
			for _, rule := range rules {
				if len(rule.Allow)+len(rule.Deny) == 0 || !slices.Contains(matchPolicies, rule.Match) ||
					uriProblem(rule.URI, r.StrictURIs, rule.Match) != "" {
					t.Fatalf("realm %q role %q: bad rule %+v", r.Name, role, rule)
				}
			}
		}
		ids := map[string]bool{}
		for _, u := range r.Users {
			methods := 0
			if u.Ticket != "" {
				methods++
			}
			if u.WAMPCRA != nil {
				methods++
				if u.WAMPCRA.Secret == "" {
					t.Fatalf("user %q: empty WAMP-CRA secret", u.AuthID)
				}
			}
			if u.Cryptosign != nil {
				methods++
				for _, k := range u.Cryptosign.PubKeys {
					if len(k) != 32 {
						t.Fatalf("user %q: key of %d bytes", u.AuthID, len(k))
					}
				}
			}
			if _, ok := r.Roles[u.Role]; methods != 1 || !ok || u.AuthID == "" || ids[u.AuthID] {
				t.Fatalf("realm %q: bad user %+v", r.Name, u)
			}
			ids[u.AuthID] = true
		}
	}
	names := map[string]bool{}
	for _, d := range cfg.Devices {
		places := 0
		for _, set := range []bool{d.Port != "", d.USB != nil, d.TCP != ""} {
			if set {
				places++
			}
		}
		r, ok := realms[d.Realm]
		_, roleOK := r.Roles[d.Role]
		if places != 1 || !ok || !roleOK || names[d.Name] || d.AuthID == "" ||
			d.DataBits < 5 || d.DataBits > 8 || d.StopBits < 1 || d.StopBits > 2 || d.Baud <= 0 {
			t.Fatalf("bad device %+v", d)
		}
		names[d.Name] = true
	}
}
