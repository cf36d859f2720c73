// Command wampgate is the wampgate WAMP router for edge gateways, plus
// client commands (call, publish, subscribe, register) that talk to any
// WAMP router.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/wampgate/wampgate/gateway"
	"github.com/wampgate/wampgate/transports"
	"github.com/wampgate/wampgate/transports/rawsocket"
	"github.com/wampgate/wampgate/transports/websocket"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

const usage = `wampgate: a WAMP router for edge gateways

Usage:
  wampgate serve [flags]                 run the router (see wampgate serve -h)
  wampgate call [flags] URI [ARG...]     call a procedure and print the result
  wampgate publish [flags] TOPIC [ARG...] publish an event
  wampgate subscribe [flags] TOPIC       print events as JSON lines
  wampgate register [flags] URI -- COMMAND [ARG...]
                                         answer calls by running a command
  wampgate version                       print the version

Client commands talk to any WAMP router (--url ws://, tcp://, unix://).
Run a command with -h for its flags.
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	switch args[0] {
	case "serve":
		return runServe(ctx, args[1:], stdout, stderr)
	case "call":
		return runCall(ctx, args[1:], stdout, stderr)
	case "publish":
		return runPublish(ctx, args[1:], stdout, stderr)
	case "subscribe":
		return runSubscribe(ctx, args[1:], stdout, stderr)
	case "register":
		return runRegister(ctx, args[1:], stdout, stderr)
	case "version", "--version", "-version":
		fmt.Fprintf(stdout, "wampgate %s\n", version)
		return 0
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return 0
	}
	fmt.Fprintf(stderr, "wampgate: unknown command %q\n\n%s", args[0], usage)
	return 2
}

// stringList is a repeatable string flag.
type stringList []string

func (l *stringList) String() string     { return strings.Join(*l, ",") }
func (l *stringList) Set(v string) error { *l = append(*l, v); return nil }

// defaultUnixPath is where the RawSocket Unix listener goes by default: the
// user's runtime directory when there is one, else the temp directory.
func defaultUnixPath() string {
	if d := os.Getenv("XDG_RUNTIME_DIR"); d != "" {
		return filepath.Join(d, "wampgate.sock")
	}
	return filepath.Join(os.TempDir(), fmt.Sprintf("wampgate-%d.sock", os.Getuid()))
}

type serveOptions struct {
	ws, wsPath, tcp, unix string
	realms                stringList
	logLevel              string
	maxMessage            int
	outQueue              int
	handshake             time.Duration
	writeTimeout          time.Duration
	ping                  time.Duration
	shutdownWait          time.Duration
}

func runServe(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("wampgate serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var o serveOptions
	fs.StringVar(&o.ws, "ws", "127.0.0.1:8080", "WebSocket listen address (empty disables)")
	fs.StringVar(&o.wsPath, "ws-path", "/ws", "WebSocket URL path")
	fs.StringVar(&o.tcp, "tcp", "127.0.0.1:8081", "RawSocket TCP listen address (empty disables)")
	fs.StringVar(&o.unix, "unix", defaultUnixPath(), "RawSocket Unix socket path (empty disables)")
	fs.Var(&o.realms, "realm", "realm to serve, repeatable (default realm1)")
	fs.StringVar(&o.logLevel, "log-level", "info", "log level: debug, info, warn, error")
	fs.IntVar(&o.maxMessage, "max-message", 1<<20, "largest incoming message in bytes")
	fs.IntVar(&o.outQueue, "out-queue", gateway.DefaultOutQueueBytes, "outbound queue budget per session in bytes")
	fs.DurationVar(&o.handshake, "handshake-timeout", gateway.DefaultHandshakeTimeout, "time from connect to WELCOME")
	fs.DurationVar(&o.writeTimeout, "write-timeout", 10*time.Second, "deadline for each write to a peer")
	fs.DurationVar(&o.ping, "ping-interval", 30*time.Second, "idle time before a liveness ping (0 disables)")
	fs.DurationVar(&o.shutdownWait, "shutdown-timeout", 5*time.Second, "how long shutdown waits for sessions to say goodbye")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "wampgate serve: unexpected argument %q\n", fs.Arg(0))
		return 2
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(o.logLevel)); err != nil {
		fmt.Fprintf(stderr, "wampgate serve: --log-level: %v\n", err)
		return 2
	}
	if len(o.realms) == 0 {
		o.realms = stringList{"realm1"}
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
	if err := serve(ctx, o, log, stdout); err != nil {
		fmt.Fprintf(stderr, "wampgate serve: %v\n", err)
		return 1
	}
	return 0
}

func serve(ctx context.Context, o serveOptions, log *slog.Logger, stdout io.Writer) error {
	var realms []gateway.RealmConfig
	for _, name := range o.realms {
		realms = append(realms, gateway.RealmConfig{Name: name})
	}
	router, err := gateway.New(gateway.Config{
		Realms:           realms,
		OutQueueBytes:    o.outQueue,
		HandshakeTimeout: o.handshake,
		Agent:            "wampgate/" + version,
		Logger:           log,
	})
	if err != nil {
		return err
	}
	topts := transports.Options{
		MaxMessageSize:   o.maxMessage,
		HandshakeTimeout: o.handshake,
		WriteTimeout:     o.writeTimeout,
		PingInterval:     o.ping,
	}
	var (
		closers []func()
		errc    = make(chan error, 3)
		lines   []string
	)
	defer func() {
		for i := len(closers) - 1; i >= 0; i-- {
			closers[i]()
		}
	}()

	rs := &rawsocket.Server{Handler: router, Options: topts, Logger: log}
	closers = append(closers, func() { _ = rs.Close() })
	if o.tcp != "" {
		ln, err := net.Listen("tcp", o.tcp)
		if err != nil {
			return fmt.Errorf("rawsocket tcp listener: %w", err)
		}
		go func() { errc <- rs.Serve(ln) }()
		lines = append(lines, fmt.Sprintf("rawsocket  tcp://%s", ln.Addr()))
	}
	if o.unix != "" {
		ln, err := rawsocket.ListenUnix(o.unix)
		if err != nil {
			return fmt.Errorf("rawsocket unix listener: %w", err)
		}
		go func() { errc <- rs.Serve(ln) }()
		lines = append(lines, fmt.Sprintf("rawsocket  unix://%s", o.unix))
	}
	var hs *http.Server
	if o.ws != "" {
		ln, err := net.Listen("tcp", o.ws)
		if err != nil {
			return fmt.Errorf("websocket listener: %w", err)
		}
		mux := http.NewServeMux()
		mux.Handle(o.wsPath, &websocket.Server{Handler: router, Options: topts, Logger: log})
		mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path != "/" {
				http.NotFound(w, r)
				return
			}
			fmt.Fprintf(w, "wampgate %s: WAMP WebSocket endpoint at %s\n", version, o.wsPath)
		})
		hs = &http.Server{Handler: mux, ReadHeaderTimeout: o.handshake, ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn)}
		go func() {
			if err := hs.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
				errc <- err
			}
		}()
		lines = append(lines, fmt.Sprintf("websocket  ws://%s%s", ln.Addr(), o.wsPath))
	}
	if len(lines) == 0 {
		return errors.New("no listener enabled (all of --ws, --tcp and --unix are empty)")
	}
	fmt.Fprintf(stdout, "wampgate %s serving realms %s\n", version, strings.Join(o.realms, ", "))
	for _, l := range lines {
		fmt.Fprintf(stdout, "  %s\n", l)
	}
	if o.ws != "" {
		self := "wampgate"
		if len(os.Args) > 0 && strings.Contains(os.Args[0], "/") {
			self = os.Args[0]
		}
		url := ""
		if o.ws != "127.0.0.1:8080" || o.wsPath != "/ws" {
			url = fmt.Sprintf(" --url ws://%s%s", o.ws, o.wsPath)
		}
		fmt.Fprintf(stdout, "\nTry, in another terminal:\n"+
			"  %[1]s register%[2]s com.example.echo -- echo      # answer calls with a command\n"+
			"  %[1]s call%[2]s com.example.echo hello 42\n"+
			"  %[1]s subscribe%[2]s com.example.news              # print events as JSON lines\n"+
			"  %[1]s publish%[2]s com.example.news '{\"temp\": 21.5}'\n"+
			"  %[1]s call%[2]s wamp.session.count                 # meta API\n"+
			"Stop with Ctrl-C (sessions get GOODBYE wamp.close.system_shutdown).\n", self, url)
	}
	log.Info("router started", "realms", strings.Join(o.realms, ","))

	select {
	case <-ctx.Done():
	case err := <-errc:
		if err != nil {
			log.Error("listener failed", "err", err)
		}
	}
	log.Info("shutting down")
	// Order: stop accepting, say GOODBYE to every session, wait, exit.
	if hs != nil {
		_ = hs.Close()
	}
	_ = rs.Close()
	sctx, cancel := context.WithTimeout(context.Background(), o.shutdownWait)
	defer cancel()
	if err := router.Shutdown(sctx); err != nil {
		log.Warn("shutdown timed out; connections closed", "err", err)
	}
	rs.Wait()
	log.Info("stopped")
	return nil
}
