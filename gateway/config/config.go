package config

import (
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"
)

// Config is a whole wampgate configuration. Load fills every field that the
// file leaves out from Default, so a loaded Config is always complete.
type Config struct {
	// LogLevel is the level of the router's log (key log_level: debug,
	// info, warn or error; default info).
	LogLevel slog.Level
	// Limits are the router-wide limits and the defaults that listeners and
	// realms inherit.
	Limits Limits
	// Listen lists the listeners. Default: WebSocket on 127.0.0.1:8080 at
	// /ws, RawSocket on 127.0.0.1:8081 and RawSocket on DefaultUnixPath.
	Listen []Listener
	// Realms lists the realms. Default: realm1, open to anonymous sessions
	// with the role "anonymous", which may do everything.
	Realms []Realm
	// Devices lists the serial devices. Default: none.
	Devices []Device
}

// Listener types (key listen[].type).
const (
	ListenWebSocket = "websocket" // WebSocket over TCP, optionally TLS
	ListenRawSocket = "rawsocket" // RawSocket over TCP, optionally TLS
	ListenUnix      = "unix"      // RawSocket over a Unix socket
)

// Listener is one listening endpoint.
type Listener struct {
	// Type is ListenWebSocket, ListenRawSocket or ListenUnix.
	Type string
	// Address is host:port for websocket and rawsocket listeners (empty
	// host: all interfaces; port 0: any free port).
	Address string
	// Path is the URL path of a websocket listener (default "/ws") or the
	// socket path of a unix listener (relative paths resolved against the
	// config file's directory).
	Path string
	// TLS, when set, serves TLS on a websocket or rawsocket listener.
	TLS *TLS
	// Limits holds this listener's own limits. Zero fields inherit from
	// Config.Limits (see Limits.WithDefaults); only MaxSessions,
	// MaxMessage, OutQueue, HandshakeTimeout, PublishRate and CallRate can be
	// set here.
	Limits Limits
	// Line is the line of the listener in the config file (0 for defaults).
	Line int
}

// TLS names the certificate files of a TLS listener. Paths are resolved
// against the config file's directory. Load checks that the files exist;
// it does not parse them.
type TLS struct {
	Cert string // PEM certificate chain
	Key  string // PEM private key
	// ClientCA, when set, makes the listener require client certificates
	// signed by a CA in this PEM file.
	ClientCA string
}

// Limits are resource limits. In Config.Limits every field is in force;
// in a Listener or Realm a zero field means "inherit".
type Limits struct {
	// MaxSessions caps concurrent sessions: router-wide in Config.Limits, on
	// one listener or in one realm otherwise. 0: no cap.
	MaxSessions int
	// MaxMessage is the largest incoming message (default 1MiB).
	MaxMessage ByteSize
	// OutQueue is the outbound queue budget per session (default 1MiB).
	OutQueue ByteSize
	// HandshakeTimeout is the time from connect to WELCOME (default 10s).
	HandshakeTimeout Duration
	// WriteTimeout is the deadline for each write to a peer (default 10s;
	// global only).
	WriteTimeout Duration
	// PingInterval is the idle time before a liveness ping (default 30s; 0
	// disables; global only).
	PingInterval Duration
	// ShutdownTimeout is how long shutdown waits for sessions to say
	// goodbye (default 5s; global only).
	ShutdownTimeout Duration
	// PublishRate and CallRate limit PUBLISH and CALL messages per session
	// (default: no limit).
	PublishRate Rate
	CallRate    Rate
}

// WithDefaults returns l with each zero field other than MaxSessions and
// ShutdownTimeout taken from d. Use it to get the limits in force on a
// listener or realm: lis.Limits.WithDefaults(cfg.Limits).
func (l Limits) WithDefaults(d Limits) Limits {
	if l.MaxMessage == 0 {
		l.MaxMessage = d.MaxMessage
	}
	if l.OutQueue == 0 {
		l.OutQueue = d.OutQueue
	}
	if l.HandshakeTimeout == 0 {
		l.HandshakeTimeout = d.HandshakeTimeout
	}
	if l.WriteTimeout == 0 {
		l.WriteTimeout = d.WriteTimeout
	}
	if l.PingInterval == 0 {
		l.PingInterval = d.PingInterval
	}
	if !l.PublishRate.Limited() {
		l.PublishRate = d.PublishRate
	}
	if !l.CallRate.Limited() {
		l.CallRate = d.CallRate
	}
	return l
}

// Actions a rule allows or denies.
type Action string

// The four actions.
const (
	ActionCall      Action = "call"
	ActionRegister  Action = "register"
	ActionSubscribe Action = "subscribe"
	ActionPublish   Action = "publish"
)

// URI match policies of a Rule (the same words as WAMP's Options.match).
const (
	MatchExact    = "exact"
	MatchPrefix   = "prefix"
	MatchWildcard = "wildcard"
)

// Realm is one realm with its roles and users.
type Realm struct {
	// Name is the realm URI.
	Name string
	// Anonymous is the role given to anonymous sessions; empty refuses
	// them.
	Anonymous string
	// StrictURIs makes the realm accept only strict URIs (components of
	// [0-9a-z_]); rule URIs and device prefixes are checked the same way.
	StrictURIs bool
	// Roles maps a role name to its rules, in file order. An action on a
	// URI is permitted when a rule of the role that matches the URI allows
	// it and no matching rule denies it (deny wins; no match: denied).
	Roles map[string][]Rule
	// Users are the authenticated identities of the realm.
	Users []User
	// Limits holds this realm's own limits. Zero fields inherit from
	// Config.Limits; only MaxSessions, MaxMessage, OutQueue, PublishRate and
	// CallRate can be set here.
	Limits Limits
	// Line is the line of the realm in the config file (0 for defaults).
	Line int
}

// Rule allows or denies actions on URIs that match URI under Match.
type Rule struct {
	URI string
	// Match is MatchExact (default), MatchPrefix or MatchWildcard.
	Match string
	Allow []Action
	Deny  []Action
	// Line is the line of the rule in the config file (0 for defaults).
	Line int
}

// User is an identity that can authenticate to a realm. Exactly one of
// Ticket, WAMPCRA and Cryptosign is set.
type User struct {
	AuthID string
	// Role is the authrole the user's sessions get.
	Role string
	// Ticket is the ticket (password), read from ticket, ticket_file or
	// ticket_env.
	Ticket string
	// WAMPCRA configures WAMP-CRA challenge-response.
	WAMPCRA *CRA
	// Cryptosign configures WAMP-Cryptosign (Ed25519).
	Cryptosign *Cryptosign
	// Line is the line of the user in the config file.
	Line int
}

// AuthMethod returns the WAMP auth method name of u: "ticket", "wampcra" or
// "cryptosign" (empty if none is set).
func (u User) AuthMethod() string {
	switch {
	case u.Ticket != "":
		return "ticket"
	case u.WAMPCRA != nil:
		return "wampcra"
	case u.Cryptosign != nil:
		return "cryptosign"
	}
	return ""
}

// CRA is a WAMP-CRA secret. With a Salt the secret is first derived with
// PBKDF2-HMAC-SHA256 using Iterations (default 1000) and KeyLen (default 32).
type CRA struct {
	// Secret is read from secret, secret_file or secret_env.
	Secret     string
	Salt       string
	Iterations int
	KeyLen     int
}

// Default PBKDF2 parameters of salted WAMP-CRA (those clients assume).
const (
	DefaultCRAIterations = 1000
	DefaultCRAKeyLen     = 32
)

// Cryptosign holds the Ed25519 public keys a user may authenticate with.
type Cryptosign struct {
	// PubKeys are 32-byte keys, written as 64 hex characters.
	PubKeys [][]byte
}

// Device is a serial device whose WAMP session the gateway runs. Exactly
// one of Port, USB and TCP is set.
type Device struct {
	// Name is the device's stable name (letters, digits, '.', '-', '_').
	Name string
	// Port is the device path, such as /dev/ttyUSB0, /dev/serial0 or
	// /dev/serial/by-id/....
	Port string
	// USB matches the device by USB IDs instead of a path.
	USB *USB
	// TCP is the host:port of a TCP serial server the gateway dials
	// (written "tcp://host:port" in the file, under tcp or port).
	TCP string
	// Realm is the realm the device's session joins.
	Realm string
	// AuthID and Role are the identity the device's session gets (AuthID
	// defaults to Name; Role must be a role of Realm).
	AuthID string
	Role   string
	// Prefix is an optional URI prefix for the device, such as
	// "dev.pump1.".
	Prefix string
	// Line settings: Baud (default 115200), DataBits 5..8 (default 8),
	// Parity "none" (default), "even" or "odd", StopBits 1 (default) or 2,
	// RTSCTS hardware flow control (default off).
	Baud     int
	DataBits int
	Parity   string
	StopBits int
	RTSCTS   bool
	// Lenient counts WAMP sequence gaps instead of resetting the session.
	Lenient bool
	// PingInterval is the silence after which the gateway pings the device
	// (default 10s; 0 disables).
	PingInterval Duration
	// OutQueue is the outbound queue budget of the device's session
	// (default 16KiB).
	OutQueue ByteSize
	// MaxMessage is the largest message accepted from the device, announced
	// in the serial handshake (default 64KiB; 512B to 16MiB).
	MaxMessage ByteSize
	// Line is the line of the device in the config file.
	Line int
}

// USB matches a USB serial adapter.
type USB struct {
	VID, PID uint16
	// Serial, when set, must equal the adapter's serial number.
	Serial string
}

// Parity settings of a Device.
const (
	ParityNone = "none"
	ParityEven = "even"
	ParityOdd  = "odd"
)

// Defaults. Default returns a Config built from these; the example file
// examples/wampgate.yaml documents them, and a test keeps the two in step.
const (
	DefaultWebSocketAddress = "127.0.0.1:8080"
	DefaultWebSocketPath    = "/ws"
	DefaultRawSocketAddress = "127.0.0.1:8081"
	DefaultRealm            = "realm1"
	DefaultAnonymousRole    = "anonymous"

	DefaultMaxMessage       ByteSize = 1 << 20
	DefaultOutQueue         ByteSize = 1 << 20
	DefaultHandshakeTimeout          = Duration(10 * time.Second)
	DefaultWriteTimeout              = Duration(10 * time.Second)
	DefaultPingInterval              = Duration(30 * time.Second)
	DefaultShutdownTimeout           = Duration(5 * time.Second)

	DefaultBaud                        = 115200
	DefaultDataBits                    = 8
	DefaultStopBits                    = 1
	DefaultDevicePingInterval          = Duration(10 * time.Second)
	DefaultDeviceOutQueue     ByteSize = 16 << 10
	DefaultDeviceMaxMessage   ByteSize = 64 << 10
)

// DefaultUnixPath is where the default Unix listener goes: wampgate.sock in
// $XDG_RUNTIME_DIR when that is set, else wampgate-UID.sock in the temp
// directory.
func DefaultUnixPath() string {
	if d := os.Getenv("XDG_RUNTIME_DIR"); d != "" {
		return filepath.Join(d, "wampgate.sock")
	}
	return filepath.Join(os.TempDir(), fmt.Sprintf("wampgate-%d.sock", os.Getuid()))
}

// DefaultLimits returns the router-wide limits used when the file has no
// limits section.
func DefaultLimits() Limits {
	return Limits{
		MaxMessage:       DefaultMaxMessage,
		OutQueue:         DefaultOutQueue,
		HandshakeTimeout: DefaultHandshakeTimeout,
		WriteTimeout:     DefaultWriteTimeout,
		PingInterval:     DefaultPingInterval,
		ShutdownTimeout:  DefaultShutdownTimeout,
	}
}

// DefaultListeners returns the listeners used when the file has no listen
// section: the same as `wampgate serve` with no flags.
func DefaultListeners() []Listener {
	return []Listener{
		{Type: ListenWebSocket, Address: DefaultWebSocketAddress, Path: DefaultWebSocketPath},
		{Type: ListenRawSocket, Address: DefaultRawSocketAddress},
		{Type: ListenUnix, Path: DefaultUnixPath()},
	}
}

// DefaultRealms returns the realms used when the file has no realms
// section: realm1, where anonymous sessions get the role "anonymous", which
// may call, register, subscribe and publish on every URI.
func DefaultRealms() []Realm {
	return []Realm{{
		Name:      DefaultRealm,
		Anonymous: DefaultAnonymousRole,
		Roles: map[string][]Rule{
			DefaultAnonymousRole: {{
				URI:   "",
				Match: MatchPrefix,
				Allow: []Action{ActionCall, ActionRegister, ActionSubscribe, ActionPublish},
			}},
		},
	}}
}

// Default returns the configuration wampgate runs with when it has no
// config file, equal to `wampgate serve` with no flags. Each call returns a
// new Config.
func Default() *Config {
	return &Config{
		LogLevel: slog.LevelInfo,
		Limits:   DefaultLimits(),
		Listen:   DefaultListeners(),
		Realms:   DefaultRealms(),
	}
}
