package config

import (
	"log/slog"
	"strings"

	"go.yaml.in/yaml/v3"
)

// The keys of each section. examples/wampgate.yaml must show every one;
// TestExampleCoversSchema checks it against schema.
var (
	topKeys = keyset{keys: []string{"log_level", "limits", "listen", "realms", "devices"}}

	globalLimitKeys = keyset{keys: []string{"max_sessions", "max_message", "out_queue",
		"handshake_timeout", "write_timeout", "ping_interval", "shutdown_timeout",
		"publish_rate", "call_rate"}}
	listenerLimitKeys = keyset{
		keys: []string{"max_sessions", "max_message", "out_queue", "handshake_timeout", "publish_rate", "call_rate"},
		elsewhere: map[string]string{
			"write_timeout":    "write_timeout can only be set in the top-level limits",
			"ping_interval":    "ping_interval can only be set in the top-level limits",
			"shutdown_timeout": "shutdown_timeout can only be set in the top-level limits",
		},
	}
	realmLimitKeys = keyset{
		keys: []string{"max_sessions", "max_message", "out_queue", "publish_rate", "call_rate"},
		elsewhere: map[string]string{
			"handshake_timeout": "handshake_timeout can be set in the top-level or a listener's limits, not a realm's (the realm is not known before HELLO)",
			"write_timeout":     "write_timeout can only be set in the top-level limits",
			"ping_interval":     "ping_interval can only be set in the top-level limits",
			"shutdown_timeout":  "shutdown_timeout can only be set in the top-level limits",
		},
	}
	rateKeys = keyset{keys: []string{"rate", "burst"}}

	listenerKeys   = keyset{keys: []string{"type", "address", "path", "tls", "limits"}}
	tlsKeys        = keyset{keys: []string{"cert", "key", "client_ca"}}
	realmKeys      = keyset{keys: []string{"name", "anonymous", "strict_uris", "roles", "users", "limits"}}
	ruleKeys       = keyset{keys: []string{"uri", "match", "allow", "deny"}}
	userKeys       = keyset{keys: []string{"authid", "role", "ticket", "ticket_file", "ticket_env", "wampcra", "cryptosign"}}
	craKeys        = keyset{keys: []string{"secret", "secret_file", "secret_env", "salt", "iterations", "keylen"}}
	cryptosignKeys = keyset{keys: []string{"pubkeys"}}
	deviceKeys     = keyset{keys: []string{"name", "port", "usb", "tcp", "realm", "authid", "role", "prefix",
		"baud", "data_bits", "parity", "stop_bits", "rtscts", "lenient", "ping_interval", "out_queue", "max_message"}}
	usbKeys = keyset{keys: []string{"vid", "pid", "serial"}}
)

// schema maps key path patterns ("[]" for any list index, "*" for any role
// name) to the keys allowed there. Rates may be written as a mapping
// wherever a *_rate key is allowed; the pattern lists one of them.
var schema = map[string]keyset{
	"":                            topKeys,
	"limits":                      globalLimitKeys,
	"realms[].limits.call_rate":   rateKeys,
	"listen[]":                    listenerKeys,
	"listen[].tls":                tlsKeys,
	"listen[].limits":             listenerLimitKeys,
	"realms[]":                    realmKeys,
	"realms[].limits":             realmLimitKeys,
	"realms[].roles.*[]":          ruleKeys,
	"realms[].users[]":            userKeys,
	"realms[].users[].wampcra":    craKeys,
	"realms[].users[].cryptosign": cryptosignKeys,
	"devices[]":                   deviceKeys,
	"devices[].usb":               usbKeys,
}

var (
	listenerTypes = []string{ListenWebSocket, ListenRawSocket, ListenUnix}
	matchPolicies = []string{MatchExact, MatchPrefix, MatchWildcard}
	actionNames   = []string{string(ActionCall), string(ActionRegister), string(ActionSubscribe), string(ActionPublish)}
	parities      = []string{ParityNone, ParityEven, ParityOdd}
	logLevels     = map[string]slog.Level{"debug": slog.LevelDebug, "info": slog.LevelInfo, "warn": slog.LevelWarn, "error": slog.LevelError}
)

// Sanity bounds, which also keep sizes within a 32-bit int.
const (
	minMaxMessage    ByteSize = 512
	maxSize          ByteSize = 1 << 30
	minDeviceMessage ByteSize = 512
	maxDeviceMessage ByteSize = 16 << 20
	maxIterations             = 10_000_000
	maxKeyLen                 = 1024
)

func (d *decoder) config(root *yaml.Node) *Config {
	c := &Config{LogLevel: slog.LevelInfo, Limits: DefaultLimits(), Listen: DefaultListeners(), Realms: DefaultRealms()}
	if root == nil {
		return c
	}
	o := d.object(root, "", topKeys)
	if o == nil {
		return c
	}
	var level string
	if n := o.str("log_level", &level); n != nil {
		if l, ok := logLevels[strings.ToLower(level)]; ok {
			c.LogLevel = l
		} else {
			d.errorf(n, o.at("log_level"), "unknown log level %q (want debug, info, warn or error)", level)
		}
	}
	if n := o.get("limits"); n != nil {
		c.Limits = d.limits(n, "limits", globalLimitKeys, c.Limits, true)
	}
	if n := o.get("listen"); n != nil {
		c.Listen = d.listeners(n, "listen")
	}
	realms := realmIndex{names: map[string]*realmInfo{}, complete: true}
	for i := range c.Realms {
		realms.names[c.Realms[i].Name] = &realmInfo{index: i, realm: &c.Realms[i], rolesOK: true}
	}
	if n := o.get("realms"); n != nil {
		c.Realms, realms = d.realms(n, "realms")
	}
	if n := o.get("devices"); n != nil {
		c.Devices = d.devices(n, "devices", realms)
	}
	return c
}

// limits decodes a limits section over l. In the global section sizes and
// the handshake and write timeouts must be positive; elsewhere 0 inherits.
func (d *decoder) limits(n *yaml.Node, path string, ks keyset, l Limits, global bool) Limits {
	o := d.object(n, path, ks)
	if o == nil {
		return l
	}
	if mn := o.int("max_sessions", &l.MaxSessions); mn != nil && l.MaxSessions < 0 {
		d.errorf(mn, o.at("max_sessions"), "must not be negative (0: no limit)")
	}
	for _, f := range []struct {
		key string
		dst *ByteSize
		min ByteSize
	}{{"max_message", &l.MaxMessage, minMaxMessage}, {"out_queue", &l.OutQueue, 1}} {
		sn := o.size(f.key, f.dst)
		switch {
		case sn == nil:
		case *f.dst == 0 && global:
			d.errorf(sn, o.at(f.key), "must be greater than 0")
		case *f.dst != 0 && *f.dst < f.min:
			d.errorf(sn, o.at(f.key), "%s is too small (at least %s)", *f.dst, f.min)
		case *f.dst > maxSize:
			d.errorf(sn, o.at(f.key), "%s is too large (at most %s)", *f.dst, maxSize)
		}
	}
	for _, f := range []struct {
		key string
		dst *Duration
	}{{"handshake_timeout", &l.HandshakeTimeout}, {"write_timeout", &l.WriteTimeout}} {
		if tn := o.duration(f.key, f.dst); tn != nil && *f.dst == 0 && global {
			d.errorf(tn, o.at(f.key), "must be greater than 0")
		}
	}
	o.duration("ping_interval", &l.PingInterval)
	o.duration("shutdown_timeout", &l.ShutdownTimeout)
	o.rate("publish_rate", &l.PublishRate, global)
	o.rate("call_rate", &l.CallRate, global)
	return l
}
