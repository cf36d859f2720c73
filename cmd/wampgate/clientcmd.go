package main

// Client commands: wampgate call, publish, subscribe and register. Each
// parses its own flags and returns the process exit code; main dispatches.

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/wampgate/wampgate/gateway/client"
	"github.com/wampgate/wampgate/gateway/wamp"
	"github.com/wampgate/wampgate/transports"
)

// Exit codes of the client commands.
const (
	exitOK        = 0 // success
	exitWAMPError = 1 // the router answered with a WAMP error, or the session failed after joining
	exitUsage     = 2 // bad flag or missing argument
	exitConnect   = 3 // cannot connect or join
)

const (
	defaultURL     = "ws://127.0.0.1:8080/ws"
	defaultRealm   = "realm1"
	defaultTimeout = 10 * time.Second
	// leaveTimeout bounds the GOODBYE handshake when a command ends.
	leaveTimeout = 2 * time.Second
	// errCommandFailed is the error URI `wampgate register` answers with
	// when the command fails.
	errCommandFailed = "wampgate.error.command_failed"
	// Output captured from a registered command.
	maxCommandStdout = 16 << 20
	maxCommandStderr = 64 << 10
	cliAgent         = "wampgate-cli"
)

const valueHelp = `Each ARG (and each --kw value) is parsed as JSON, falling back to a plain
string: 2 and 2.5 are numbers, true is a bool, [1,"a"] is a list, while
hello and '"2"' are strings. Integers stay exact (no float64 rounding).
Byte strings use the WAMP JSON convention, "\u0000" followed by base64:
'"\u0000AQID"' is the bytes 01 02 03. Flags may also follow the URI or
TOPIC; after -- everything is an argument, even "--kw".
`

const exitHelp = `
Exit status:
  0  success
  1  the router answered with a WAMP error (URI and arguments are printed
     to stderr), or the session failed after joining (timeout, lost)
  2  usage error: bad flag or missing argument
  3  cannot connect or join (connection refused, ABORT reason, ...)
`

const callUsage = `Usage: wampgate call [flags] URI [ARG...]

Call the procedure URI and print the result as one JSON line: the single
positional result if there is exactly one and no keyword results, else
{"args":[...],"kwargs":{...}}. Byte strings print as "\u0000"+base64.

` + valueHelp

const publishUsage = `Usage: wampgate publish [flags] [--ack] TOPIC [ARG...]

Publish an event to TOPIC. With --ack, wait for the router's
acknowledgement, so a refused publication exits with status 1.

` + valueHelp

const subscribeUsage = `Usage: wampgate subscribe [flags] [--match prefix|wildcard] [--count N] TOPIC

Subscribe to TOPIC and print one JSON line per event:
{"topic":"...","args":[...],"kwargs":{...},"publication":N}
until interrupted (Ctrl-C) or, with --count, after N events.
Byte strings print with the WAMP JSON convention ("\u0000" + base64).
`

const registerUsage = `Usage: wampgate register [flags] URI -- COMMAND [ARGS...]

Register the procedure URI and answer every invocation by running COMMAND
with ARGS plus the invocation's positional arguments appended (strings
as-is, anything else as JSON). The keyword arguments are passed as a JSON
object in the environment variable WAMP_KWARGS, the concrete procedure in
WAMP_PROCEDURE. The command's standard output, trimmed, is the single
result: parsed as JSON, else used as a string (empty output: no result).
A non-zero exit answers with the error wampgate.error.command_failed and
the arguments [stderr text, exit code]. Invocations run concurrently.
Runs until interrupted (Ctrl-C).
`

// connectFunc opens a session; tests replace client.Connect.
type connectFunc func(ctx context.Context, url, realm string, opts client.Options) (*client.Session, error)

// clientCmd runs the client commands.
type clientCmd struct {
	connect connectFunc
	stdout  io.Writer
	stderr  io.Writer
}

func newClientCmd(stdout, stderr io.Writer) *clientCmd {
	return &clientCmd{connect: client.Connect, stdout: stdout, stderr: stderr}
}

func runCall(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	return newClientCmd(stdout, stderr).call(ctx, args)
}

func runPublish(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	return newClientCmd(stdout, stderr).publish(ctx, args)
}

func runSubscribe(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	return newClientCmd(stdout, stderr).subscribe(ctx, args)
}

func runRegister(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	return newClientCmd(stdout, stderr).register(ctx, args)
}

// commonFlags are shared by every client command.
type commonFlags struct {
	name       string
	url        string
	realm      string
	serializer string
	timeout    time.Duration
	kwargs     wamp.Dict // --kw, call and publish only
	authid     string
	ticket     string
	secret     string
	keyFile    string
}

func (c *clientCmd) newFlags(name, usage string, withKw bool) (*flag.FlagSet, *commonFlags) {
	cf := &commonFlags{name: name}
	fs := flag.NewFlagSet("wampgate "+name, flag.ContinueOnError)
	fs.SetOutput(c.stderr)
	fs.StringVar(&cf.url, "url", defaultURL, "router `URL`: ws://, wss://, tcp://host:port or unix:///path/to.sock")
	fs.StringVar(&cf.realm, "realm", defaultRealm, "`realm` to join")
	fs.StringVar(&cf.serializer, "serializer", "", "serializer `name`: json, msgpack or cbor (default json for ws/wss, cbor for tcp/unix)")
	fs.StringVar(&cf.authid, "authid", "", "authenticate as `authid` (with --ticket, --secret or --key)")
	fs.StringVar(&cf.ticket, "ticket", os.Getenv("WAMPGATE_TICKET"), "ticket for ticket authentication (default $WAMPGATE_TICKET)")
	fs.StringVar(&cf.secret, "secret", os.Getenv("WAMPGATE_SECRET"), "secret for WAMP-CRA authentication (default $WAMPGATE_SECRET)")
	fs.StringVar(&cf.keyFile, "key", "", "`file` holding a hex Ed25519 private key (32-byte seed or 64-byte key) for cryptosign")
	fs.DurationVar(&cf.timeout, "timeout", defaultTimeout, "bound for connecting and joining, and for the request (call, acknowledged publish, subscribe, register); 0: no bound on the request")
	if withKw {
		cf.kwargs = wamp.Dict{}
		fs.Func("kw", "keyword argument `key=value` (repeatable); value parsed like ARG", func(s string) error {
			k, v, ok := strings.Cut(s, "=")
			if !ok || k == "" {
				return errors.New("want key=value")
			}
			val, err := parseArg(v)
			if err != nil {
				return err
			}
			cf.kwargs[k] = val
			return nil
		})
	}
	fs.Usage = func() {
		fmt.Fprint(c.stderr, usage, "\nFlags:\n")
		fs.PrintDefaults()
		fmt.Fprint(c.stderr, exitHelp)
	}
	return fs, cf
}

// parseFlags parses args and returns the positional arguments, or a
// non-negative exit code when the command must stop (help or usage error).
// With interspersed, flags may also follow positional arguments, as long
// as they name a flag of fs (so "-5" stays an argument); "--" ends flag
// parsing.
func parseFlags(fs *flag.FlagSet, args []string, interspersed bool) ([]string, int) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, exitOK
			}
			return nil, exitUsage // flag printed the error and the usage
		}
		rest := fs.Args()
		n := len(args) - len(rest)
		if terminated := n > 0 && args[n-1] == "--"; terminated || !interspersed {
			return append(pos, rest...), -1
		}
		for len(rest) > 0 && !isFlag(fs, rest[0]) {
			if rest[0] == "--" {
				return append(pos, rest[1:]...), -1
			}
			pos = append(pos, rest[0])
			rest = rest[1:]
		}
		if len(rest) == 0 {
			return pos, -1
		}
		args = rest
	}
}

// isFlag reports whether arg is -name, --name or --name=value for a flag
// defined in fs (or help).
func isFlag(fs *flag.FlagSet, arg string) bool {
	name, ok := strings.CutPrefix(arg, "-")
	if !ok {
		return false
	}
	name = strings.TrimPrefix(name, "-")
	name, _, _ = strings.Cut(name, "=")
	return name == "h" || name == "help" || (name != "" && fs.Lookup(name) != nil)
}

func (c *clientCmd) usageError(fs *flag.FlagSet, format string, a ...any) int {
	fmt.Fprintf(c.stderr, "%s: %s\n", fs.Name(), fmt.Sprintf(format, a...))
	fs.Usage()
	return exitUsage
}

// dial connects and joins. On failure it prints the reason and returns
// the exit code.
func (c *clientCmd) dial(ctx context.Context, fs *flag.FlagSet, cf *commonFlags) (*client.Session, int) {
	opts := client.Options{
		Logger: slog.New(slog.NewTextHandler(c.stderr, &slog.HandlerOptions{Level: slog.LevelWarn})),
		Agent:  cliAgent,
	}
	if cf.serializer != "" {
		ser, err := transports.ParseSerializer(cf.serializer)
		if err != nil {
			return nil, c.usageError(fs, "bad --serializer %q: want json, msgpack or cbor", cf.serializer)
		}
		opts.Serializer = ser
	}
	switch {
	case cf.keyFile != "":
		key, err := readEd25519Key(cf.keyFile)
		if err != nil {
			return nil, c.usageError(fs, "--key: %v", err)
		}
		opts = client.WithCryptosign(opts, cf.authid, key)
	case cf.ticket != "" && cf.authid != "":
		opts = client.WithTicket(opts, cf.authid, cf.ticket)
	case cf.secret != "" && cf.authid != "":
		opts = client.WithWAMPCRA(opts, cf.authid, cf.secret)
	case cf.authid != "":
		return nil, c.usageError(fs, "--authid needs --ticket, --secret or --key")
	}
	if cf.timeout > 0 {
		opts.JoinTimeout = cf.timeout
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, cf.timeout)
		defer cancel()
	}
	s, err := c.connect(ctx, cf.url, cf.realm, opts)
	if err == nil {
		return s, -1
	}
	if errors.Is(err, client.ErrUnsupportedURL) {
		return nil, c.usageError(fs, "bad --url: %v", err)
	}
	var we *client.Error
	if errors.As(err, &we) {
		fmt.Fprintf(c.stderr, "%s: cannot join realm %s at %s: router aborted: %s\n", fs.Name(), cf.realm, cf.url, formatWAMPError(we))
	} else {
		fmt.Fprintf(c.stderr, "%s: cannot connect to %s: %v\n", fs.Name(), cf.url, err)
	}
	return nil, exitConnect
}

// requestContext bounds one request by --timeout.
func requestContext(ctx context.Context, cf *commonFlags) (context.Context, context.CancelFunc) {
	if cf.timeout > 0 {
		return context.WithTimeout(ctx, cf.timeout)
	}
	return context.WithCancel(ctx)
}

// leave ends the session politely even when ctx is already cancelled
// (Ctrl-C), and waits until its handlers have returned.
func leave(ctx context.Context, s *client.Session) {
	lctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), leaveTimeout)
	defer cancel()
	_ = s.Leave(lctx, "")
	<-s.Done()
}

// failed prints a request failure and returns exit code 1.
func (c *clientCmd) failed(fs *flag.FlagSet, err error) int {
	var we *client.Error
	if errors.As(err, &we) {
		fmt.Fprintf(c.stderr, "%s: %s\n", fs.Name(), formatWAMPError(we))
	} else {
		fmt.Fprintf(c.stderr, "%s: %v\n", fs.Name(), err)
	}
	return exitWAMPError
}

// formatWAMPError renders "URI [args] {kwargs}", leaving out empty parts.
func formatWAMPError(e *client.Error) string {
	var b strings.Builder
	b.WriteString(e.URI)
	if len(e.Args) > 0 {
		b.WriteByte(' ')
		b.Write(marshalJSON(e.Args))
	}
	if len(e.Kwargs) > 0 {
		b.WriteByte(' ')
		b.Write(marshalJSON(e.Kwargs))
	}
	if len(e.Args) == 0 && len(e.Kwargs) == 0 {
		if msg := wamp.OptString(e.Details, "message", ""); msg != "" {
			b.WriteString(": ")
			b.WriteString(msg)
		}
	}
	return b.String()
}

func (c *clientCmd) call(ctx context.Context, args []string) int {
	fs, cf := c.newFlags("call", callUsage, true)
	pos, code := parseFlags(fs, args, true)
	if code >= 0 {
		return code
	}
	if len(pos) < 1 {
		return c.usageError(fs, "missing procedure URI")
	}
	callArgs, err := parseArgs(pos[1:])
	if err != nil {
		return c.usageError(fs, "%v", err)
	}
	s, code := c.dial(ctx, fs, cf)
	if s == nil {
		return code
	}
	defer leave(ctx, s)
	rctx, cancel := requestContext(ctx, cf)
	defer cancel()
	res, err := s.Call(rctx, pos[0], callArgs, cf.kwargs, nil)
	if err != nil {
		return c.failed(fs, err)
	}
	writeJSONLine(c.stdout, callOutput(res))
	return exitOK
}

// callOutput is what `wampgate call` prints for a result, ready for
// writeJSONLine.
func callOutput(res *client.Result) any {
	if len(res.Args) == 1 && len(res.Kwargs) == 0 {
		return toJSON(res.Args[0])
	}
	return newPayloadJSON(res.Args, res.Kwargs)
}

func (c *clientCmd) publish(ctx context.Context, args []string) int {
	fs, cf := c.newFlags("publish", publishUsage, true)
	ack := fs.Bool("ack", false, "ask the router to acknowledge the publication and wait for it")
	pos, code := parseFlags(fs, args, true)
	if code >= 0 {
		return code
	}
	if len(pos) < 1 {
		return c.usageError(fs, "missing TOPIC")
	}
	pubArgs, err := parseArgs(pos[1:])
	if err != nil {
		return c.usageError(fs, "%v", err)
	}
	s, code := c.dial(ctx, fs, cf)
	if s == nil {
		return code
	}
	// Leaving also makes sure the router read the PUBLISH before the
	// connection closes.
	defer leave(ctx, s)
	var opts wamp.Dict
	if *ack {
		opts = wamp.Dict{"acknowledge": true}
	}
	rctx, cancel := requestContext(ctx, cf)
	defer cancel()
	if err := s.Publish(rctx, pos[0], pubArgs, cf.kwargs, opts); err != nil {
		return c.failed(fs, err)
	}
	return exitOK
}

// matchFlag defines --match; the caller validates the value.
func matchFlag(fs *flag.FlagSet, kinds string) *string {
	return fs.String("match", wamp.MatchExact, "match `policy`: "+kinds)
}

func (c *clientCmd) subscribe(ctx context.Context, args []string) int {
	fs, cf := c.newFlags("subscribe", subscribeUsage, false)
	match := matchFlag(fs, "exact, prefix or wildcard")
	count := fs.Int("count", 0, "exit after `N` events (0: run until interrupted)")
	pos, code := parseFlags(fs, args, true)
	if code >= 0 {
		return code
	}
	switch {
	case len(pos) != 1:
		return c.usageError(fs, "want exactly one TOPIC, got %d arguments", len(pos))
	case *count < 0:
		return c.usageError(fs, "--count must not be negative")
	case *match != wamp.MatchExact && *match != wamp.MatchPrefix && *match != wamp.MatchWildcard:
		return c.usageError(fs, "bad --match %q: want exact, prefix or wildcard", *match)
	}
	var opts wamp.Dict
	if *match != wamp.MatchExact {
		opts = wamp.Dict{"match": *match}
	}
	s, code := c.dial(ctx, fs, cf)
	if s == nil {
		return code
	}
	defer leave(ctx, s)

	// The handler runs on the session's dispatch goroutine, one event at a
	// time; leave waits for it, so nothing is written after we return.
	enough := make(chan struct{})
	seen := 0
	handler := func(ev *client.Event) {
		if *count > 0 && seen >= *count {
			return
		}
		p := newPayloadJSON(ev.Args, ev.Kwargs)
		writeJSONLine(c.stdout, eventJSON{ev.Topic, p.Args, p.Kwargs, uint64(ev.Publication)})
		seen++
		if *count > 0 && seen == *count {
			close(enough)
		}
	}
	rctx, cancel := requestContext(ctx, cf)
	defer cancel()
	if _, err := s.Subscribe(rctx, pos[0], opts, handler); err != nil {
		return c.failed(fs, err)
	}
	return c.serve(ctx, fs, s, enough)
}

// serve waits until ctx is cancelled (exit 0), stop is closed (exit 0) or
// the router ends the session (exit 1).
func (c *clientCmd) serve(ctx context.Context, fs *flag.FlagSet, s *client.Session, stop <-chan struct{}) int {
	select {
	case <-ctx.Done():
		return exitOK
	case <-stop:
		return exitOK
	case <-s.Done():
		fmt.Fprintf(c.stderr, "%s: %v\n", fs.Name(), s.Err())
		return exitWAMPError
	}
}

func (c *clientCmd) register(ctx context.Context, args []string) int {
	fs, cf := c.newFlags("register", registerUsage, false)
	match := matchFlag(fs, "exact, prefix or wildcard")
	invoke := fs.String("invoke", "single", "shared registration `policy`: single, roundrobin, random, first or last")
	// Flags only before the URI: what follows belongs to COMMAND.
	rest, code := parseFlags(fs, args, false)
	if code >= 0 {
		return code
	}
	if len(rest) < 1 || rest[0] == "--" {
		return c.usageError(fs, "missing procedure URI")
	}
	uri := rest[0]
	rest = rest[1:]
	if len(rest) > 0 && rest[0] == "--" {
		rest = rest[1:]
	}
	if len(rest) == 0 {
		return c.usageError(fs, "missing COMMAND after the URI")
	}
	switch *match {
	case wamp.MatchExact, wamp.MatchPrefix, wamp.MatchWildcard:
	default:
		return c.usageError(fs, "bad --match %q: want exact, prefix or wildcard", *match)
	}
	switch *invoke {
	case "single", "roundrobin", "random", "first", "last":
	default:
		return c.usageError(fs, "bad --invoke %q", *invoke)
	}
	opts := wamp.Dict{}
	if *match != wamp.MatchExact {
		opts["match"] = *match
	}
	if *invoke != "single" {
		opts["invoke"] = *invoke
	}
	s, code := c.dial(ctx, fs, cf)
	if s == nil {
		return code
	}
	defer leave(ctx, s)
	command := rest
	handler := func(ictx context.Context, inv *client.Invocation) (*client.Result, error) {
		return c.runCommand(ictx, command, inv)
	}
	rctx, cancel := requestContext(ctx, cf)
	defer cancel()
	if _, err := s.Register(rctx, uri, opts, handler); err != nil {
		return c.failed(fs, err)
	}
	return c.serve(ctx, fs, s, nil)
}

// runCommand answers one invocation with the registered command.
func (c *clientCmd) runCommand(ctx context.Context, command []string, inv *client.Invocation) (*client.Result, error) {
	argv := make([]string, 0, len(command)-1+len(inv.Args))
	argv = append(argv, command[1:]...)
	for _, a := range inv.Args {
		if s, ok := a.(string); ok {
			argv = append(argv, s)
		} else {
			argv = append(argv, string(marshalJSON(a)))
		}
	}
	cmd := exec.CommandContext(ctx, command[0], argv...)
	cmd.Env = append(os.Environ(),
		"WAMP_KWARGS="+string(marshalJSON(nonNilDict(inv.Kwargs))),
		"WAMP_PROCEDURE="+inv.Procedure)
	cmd.WaitDelay = time.Second // do not hang on pipes held by orphaned children
	stdout := &cappedBuffer{limit: maxCommandStdout}
	stderr := &cappedBuffer{limit: maxCommandStderr}
	cmd.Stdout, cmd.Stderr = stdout, stderr
	err := cmd.Run()
	if ctx.Err() != nil {
		return nil, ctx.Err() // interrupted by the caller or the session ended
	}
	var exitErr *exec.ExitError
	switch {
	case errors.As(err, &exitErr):
		return nil, &client.Error{URI: errCommandFailed,
			Args: wamp.List{strings.TrimSpace(stderr.String()), int64(exitErr.ExitCode())}}
	case err != nil:
		return nil, &client.Error{URI: errCommandFailed, Args: wamp.List{err.Error(), int64(-1)}}
	case stdout.truncated:
		return nil, &client.Error{URI: errCommandFailed,
			Args: wamp.List{fmt.Sprintf("output larger than %d bytes", maxCommandStdout), int64(0)}}
	}
	out := strings.TrimSpace(stdout.String())
	if out == "" {
		return &client.Result{}, nil
	}
	v, err := parseJSON(out)
	if err != nil {
		v = out
	}
	return &client.Result{Args: wamp.List{v}}, nil
}

// cappedBuffer keeps the first limit bytes written and drops the rest, so
// a chatty command cannot exhaust memory (and is not killed by EPIPE).
type cappedBuffer struct {
	mu        sync.Mutex
	buf       bytes.Buffer
	limit     int
	truncated bool
}

func (b *cappedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	room := b.limit - b.buf.Len()
	if len(p) > room {
		b.truncated = true
		b.buf.Write(p[:max(room, 0)])
		return len(p), nil
	}
	b.buf.Write(p)
	return len(p), nil
}

func (b *cappedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// errNotJSON: the text is not one JSON document (the caller falls back to
// a plain string).
var errNotJSON = errors.New("not a JSON value")

// parseArgs parses command-line values with parseArg.
func parseArgs(args []string) (wamp.List, error) {
	if len(args) == 0 {
		return nil, nil
	}
	l := make(wamp.List, len(args))
	for i, a := range args {
		v, err := parseArg(a)
		if err != nil {
			return nil, err
		}
		l[i] = v
	}
	return l, nil
}

// parseArg parses one command-line value: JSON if it is one JSON document,
// else the text itself. A JSON number that no WAMP value can hold exactly
// is an error.
func parseArg(s string) (any, error) {
	v, err := parseJSON(s)
	if errors.Is(err, errNotJSON) {
		return s, nil
	}
	return v, err
}

// parseJSON decodes exactly one JSON document into the WAMP value model:
// integers as int64 (uint64 above math.MaxInt64), other numbers as
// float64, "\u0000"+base64 strings as []byte.
func parseJSON(s string) (any, error) {
	dec := json.NewDecoder(strings.NewReader(s))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, errNotJSON
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errNotJSON // trailing data: "1 2", "[] x"
	}
	return fromJSON(v)
}

func fromJSON(v any) (any, error) {
	switch v := v.(type) {
	case json.Number:
		return parseNumber(string(v))
	case string:
		if rest, ok := strings.CutPrefix(v, "\x00"); ok {
			if b, err := base64.StdEncoding.DecodeString(rest); err == nil {
				return b, nil
			}
		}
		return v, nil
	case []any:
		for i, x := range v {
			y, err := fromJSON(x)
			if err != nil {
				return nil, err
			}
			v[i] = y
		}
		return v, nil
	case map[string]any:
		for k, x := range v {
			y, err := fromJSON(x)
			if err != nil {
				return nil, err
			}
			v[k] = y
		}
		return v, nil
	}
	return v, nil // nil, bool
}

func parseNumber(s string) (any, error) {
	if !strings.ContainsAny(s, ".eE") {
		if n, err := strconv.ParseInt(s, 10, 64); err == nil {
			return n, nil
		}
		if n, err := strconv.ParseUint(s, 10, 64); err == nil {
			return n, nil
		}
		return nil, fmt.Errorf("integer %s does not fit 64 bits", s)
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return nil, fmt.Errorf("number %s out of range", s)
	}
	return f, nil
}

// toJSON maps a WAMP value onto what encoding/json prints with the WAMP
// conventions: []byte as "\u0000"+base64; floats always with a fraction or
// exponent; NaN and infinities, which JSON cannot carry, as null.
func toJSON(v any) any {
	switch v := v.(type) {
	case []byte:
		return "\x00" + base64.StdEncoding.EncodeToString(v)
	case []any:
		out := make([]any, len(v))
		for i, x := range v {
			out[i] = toJSON(x)
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(v))
		for k, x := range v {
			out[k] = toJSON(x)
		}
		return out
	case float64:
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return nil
		}
		// Keep floats recognisable as floats: 1.0 prints as 1.0, not 1,
		// and 9.17e19 as 9.17e+19, not as an integer out of range.
		s := strconv.FormatFloat(v, 'g', -1, 64)
		if !strings.ContainsAny(s, ".e") {
			s += ".0"
		}
		return json.Number(s)
	case float32:
		return toJSON(float64(v))
	case nil, bool, string, int64, uint64, int, int32, uint32, int16, uint16, int8, uint8, uint:
		return v
	}
	return fmt.Sprint(v)
}

// marshalJSON encodes a WAMP value as compact JSON without a newline.
func marshalJSON(v any) []byte {
	var b bytes.Buffer
	writeJSONLine(&b, toJSON(v))
	return bytes.TrimSuffix(b.Bytes(), []byte{'\n'})
}

// writeJSONLine prints v, already passed through toJSON, as one line of
// JSON with map keys sorted.
func writeJSONLine(w io.Writer, v any) {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		// Unreachable for toJSON output; keep one line per value anyway.
		fmt.Fprintf(w, "%q\n", err.Error())
	}
}

// payloadJSON is the {"args":[...],"kwargs":{...}} form of a payload.
type payloadJSON struct {
	Args   []any          `json:"args"`
	Kwargs map[string]any `json:"kwargs"`
}

func newPayloadJSON(args wamp.List, kwargs wamp.Dict) payloadJSON {
	return payloadJSON{toJSON(nonNilList(args)).([]any), toJSON(nonNilDict(kwargs)).(map[string]any)}
}

// eventJSON is one line of `wampgate subscribe` output.
type eventJSON struct {
	Topic       string         `json:"topic"`
	Args        []any          `json:"args"`
	Kwargs      map[string]any `json:"kwargs"`
	Publication uint64         `json:"publication"`
}

func nonNilList(l wamp.List) wamp.List {
	if l == nil {
		return wamp.List{}
	}
	return l
}

func nonNilDict(d wamp.Dict) wamp.Dict {
	if d == nil {
		return wamp.Dict{}
	}
	return d
}

// readEd25519Key reads a hex-encoded Ed25519 private key: a 32-byte seed or
// the 64-byte seed+public key form.
func readEd25519Key(path string) (ed25519.PrivateKey, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	raw, err := hex.DecodeString(strings.TrimSpace(string(b)))
	if err != nil {
		return nil, fmt.Errorf("%s: not hex: %w", path, err)
	}
	switch len(raw) {
	case ed25519.SeedSize:
		return ed25519.NewKeyFromSeed(raw), nil
	case ed25519.PrivateKeySize:
		return ed25519.PrivateKey(raw), nil
	}
	return nil, fmt.Errorf("%s: %d bytes, want a 32-byte seed or a 64-byte key", path, len(raw))
}
