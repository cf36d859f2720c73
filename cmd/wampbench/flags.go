package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"time"

	"github.com/wampgate/wampgate/transports"
)

// target is where the router listens, parsed from --url.
type target struct {
	url     string
	kind    string // "rawsocket-tcp", "rawsocket-unix" or "websocket"
	network string // "tcp" or "unix" for RawSocket; "" for WebSocket
	address string // host:port or socket path for RawSocket; the URL for WebSocket
}

// errUsage reports bad command-line arguments; the message has been
// printed already.
var errUsage = errors.New("wampbench: usage")

// parseTarget parses tcp://host:port, unix:///path or ws(s)://host:port/path.
func parseTarget(raw string) (target, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return target{}, fmt.Errorf("wampbench: --url %q: %w", raw, err)
	}
	t := target{url: raw}
	switch u.Scheme {
	case "tcp":
		if u.Host == "" || u.Port() == "" || (u.Path != "" && u.Path != "/") {
			return target{}, fmt.Errorf("wampbench: --url %q: want tcp://host:port", raw)
		}
		t.kind, t.network, t.address = "rawsocket-tcp", "tcp", u.Host
	case "unix":
		path := u.Path
		if path == "" {
			path = u.Opaque
		}
		if u.Host != "" || path == "" {
			return target{}, fmt.Errorf("wampbench: --url %q: want unix:///path/to.sock", raw)
		}
		t.kind, t.network, t.address = "rawsocket-unix", "unix", path
	case "ws", "wss":
		if u.Host == "" {
			return target{}, fmt.Errorf("wampbench: --url %q: want ws://host:port/path", raw)
		}
		t.kind, t.address = "websocket", raw
	default:
		return target{}, fmt.Errorf("wampbench: --url %q: scheme must be tcp, unix, ws or wss", raw)
	}
	return t, nil
}

// options are the parsed flags of one scenario run.
type options struct {
	scenario string
	target   target
	ser      transports.Serializer
	realm    string
	duration time.Duration
	warmup   time.Duration
	timeout  time.Duration // bound on connecting, joining and draining
	payload  int           // bytes in the string argument of calls and events
	json     bool

	inflight    int // calls: calls in flight in total
	callers     int // calls: caller connections
	subscribers int // fanout
	window      int // fanout: deliveries in flight; 0 = auto
	maxLag      int // fanout: publications one subscriber may be behind; 0 = auto
	concurrency int // joins, idle: concurrent workers
	sessions    int // idle
	hold        time.Duration
	routerPID   int // process whose CPU time (and for idle VmRSS) is sampled

	progress io.Writer // where progress lines go (stdout); not a flag
}

// scenarios lists the load scenarios with their one-line help.
var scenarios = []struct{ name, help string }{
	{"rtt", "one caller, one callee, one call in flight: round-trip latency percentiles"},
	{"calls", "pipelined calls with --inflight calls in flight: calls/s"},
	{"fanout", "one publisher, --subscribers subscribers: event deliveries/s, loss check"},
	{"joins", "connect, HELLO, WELCOME, GOODBYE with --concurrency workers: joins/s"},
	{"idle", "hold --sessions idle sessions for --hold; router RSS per session"},
}

func isScenario(name string) bool {
	for _, s := range scenarios {
		if s.name == name {
			return true
		}
	}
	return false
}

// parseOptions parses the flags of scenario. Flag errors are printed to
// stderr and reported as errUsage; -h returns flag.ErrHelp.
func parseOptions(scenario string, args []string, stderr io.Writer) (options, error) {
	o := options{scenario: scenario, progress: io.Discard}
	fs := flag.NewFlagSet("wampbench "+scenario, flag.ContinueOnError)
	fs.SetOutput(stderr)
	var rawURL, ser string
	fs.StringVar(&rawURL, "url", "tcp://127.0.0.1:8081", "router address: tcp://host:port, unix:///path or ws://host:port/path")
	fs.StringVar(&ser, "serializer", "cbor", "serializer: json, msgpack or cbor")
	fs.StringVar(&o.realm, "realm", "realm1", "realm to join")
	fs.DurationVar(&o.timeout, "timeout", 10*time.Second, "bound on connecting, joining and draining")
	fs.BoolVar(&o.json, "json", false, "also print the result as one JSON line")
	fs.IntVar(&o.routerPID, "router-pid", 0, "router process to sample CPU time (and for idle VmRSS) from /proc/PID; 0 disables")
	switch scenario {
	case "rtt", "calls", "fanout":
		fs.DurationVar(&o.duration, "duration", 10*time.Second, "measurement time")
		fs.IntVar(&o.payload, "payload", 16, "size in bytes of the string argument carried by each call or event")
	case "joins":
		fs.DurationVar(&o.duration, "duration", 10*time.Second, "measurement time")
	}
	switch scenario {
	case "rtt", "calls":
		fs.DurationVar(&o.warmup, "warmup", time.Second, "time before measuring starts")
	case "joins":
		fs.DurationVar(&o.warmup, "warmup", 0, "time before measuring starts")
	}
	switch scenario {
	case "calls":
		fs.IntVar(&o.inflight, "inflight", 256, "calls in flight, spread over the callers")
		fs.IntVar(&o.callers, "callers", 1, "caller connections")
	case "fanout":
		fs.IntVar(&o.subscribers, "subscribers", 1, "subscriber connections")
		fs.IntVar(&o.window, "window", 0, "event deliveries in flight, published*subscribers - received (0: max(16384, 64*subscribers))")
		fs.IntVar(&o.maxLag, "max-lag", 0, "publications any one subscriber may be behind (0: what fits in 256 KiB of the router's queue)")
		fs.IntVar(&o.concurrency, "concurrency", 32, "workers connecting the subscribers")
	case "joins":
		fs.IntVar(&o.concurrency, "concurrency", 8, "concurrent join workers")
	case "idle":
		fs.IntVar(&o.sessions, "sessions", 10000, "idle sessions to open")
		fs.DurationVar(&o.hold, "hold", 10*time.Second, "how long to hold the sessions once all are open")
		fs.IntVar(&o.concurrency, "concurrency", 32, "workers opening sessions")
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return o, err
		}
		return o, errUsage
	}
	fail := func(format string, a ...any) (options, error) {
		fmt.Fprintf(stderr, "wampbench %s: "+format+"\n", append([]any{scenario}, a...)...)
		return o, errUsage
	}
	if fs.NArg() > 0 {
		return fail("unexpected argument %q", fs.Arg(0))
	}
	t, err := parseTarget(rawURL)
	if err != nil {
		return fail("%v", err)
	}
	o.target = t
	if o.ser, err = transports.ParseSerializer(ser); err != nil {
		return fail("--serializer: %v", err)
	}
	if o.realm == "" {
		return fail("--realm must not be empty")
	}
	if o.timeout <= 0 {
		return fail("--timeout must be positive")
	}
	if o.routerPID < 0 {
		return fail("--router-pid must not be negative")
	}
	switch scenario {
	case "rtt", "calls", "fanout", "joins":
		if o.duration <= 0 {
			return fail("--duration must be positive")
		}
		if o.warmup < 0 {
			return fail("--warmup must not be negative")
		}
	}
	if o.payload < 0 || o.payload > 1<<20 {
		return fail("--payload must be in [0, 1048576]")
	}
	switch scenario {
	case "rtt":
		o.inflight, o.callers = 1, 1
	case "calls":
		if o.callers < 1 || o.inflight < o.callers {
			return fail("need --callers >= 1 and --inflight >= --callers")
		}
	case "fanout":
		if o.window == 0 {
			o.window = max(16384, 64*o.subscribers)
		}
		if o.subscribers < 1 || o.window < o.subscribers || o.maxLag < 0 {
			return fail("need --subscribers >= 1, --window >= --subscribers and --max-lag >= 0")
		}
	case "idle":
		if o.sessions < 1 || o.hold < 0 {
			return fail("need --sessions >= 1 and --hold >= 0")
		}
	}
	if o.concurrency < 0 || (o.concurrency == 0 && (scenario == "joins" || scenario == "idle" || scenario == "fanout")) {
		return fail("--concurrency must be positive")
	}
	return o, nil
}
