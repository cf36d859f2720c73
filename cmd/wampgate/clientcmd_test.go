package main

import (
	"bytes"
	"context"
	"io"
	"math"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wampgate/wampgate/gateway/client"
	"github.com/wampgate/wampgate/gateway/wamp"
	"github.com/wampgate/wampgate/gateway/wamp/codec"
	"github.com/wampgate/wampgate/transports"
	"github.com/wampgate/wampgate/transports/inproc"
)

const testTimeout = 5 * time.Second

// cliRouter is a tiny behavioural router on the far end of an inproc pipe.
//
//	CALL echo         RESULT with the call's args and kwargs
//	CALL bytes        RESULT [bytes 01 02 03, MaxUint64, 1.5, null]
//	CALL fail         ERROR com.example.failed ["it failed", 42] {"k": "v"}
//	CALL slow         no answer
//	PUBLISH denied    ERROR wamp.error.not_authorized (when acknowledged)
//	SUBSCRIBE kick    SUBSCRIBED, then GOODBYE wamp.close.killed
//	SUBSCRIBE other   SUBSCRIBED, then the configured events
//	REGISTER          REGISTERED, then the configured invocations
//	HELLO realm bad   ABORT wamp.error.no_such_realm
type cliRouter struct {
	t           *testing.T
	events      []*wamp.Event      // Subscription is filled in
	invocations []*wamp.Invocation // Registration is filled in
	interrupt   string             // if set, INTERRUPT with this mode follows each invocation
	got         chan wamp.Message  // everything the client sent
	wg          sync.WaitGroup

	mu   sync.Mutex
	url  string
	opts client.Options
}

func newCLIRouter(t *testing.T) *cliRouter {
	rt := &cliRouter{t: t, got: make(chan wamp.Message, 256)}
	t.Cleanup(rt.wg.Wait)
	return rt
}

// cmd returns a clientCmd whose connect joins rt over an inproc pipe.
func (rt *cliRouter) cmd(stdout, stderr *syncBuffer) *clientCmd {
	c := newClientCmd(stdout, stderr)
	c.connect = func(ctx context.Context, url, realm string, opts client.Options) (*client.Session, error) {
		rt.mu.Lock()
		rt.url, rt.opts = url, opts
		rt.mu.Unlock()
		ser := opts.Serializer
		if ser == 0 {
			ser = transports.JSON
		}
		cc, rc := inproc.Pipe(ser)
		rt.wg.Add(1)
		go rt.serve(rc)
		return client.Join(ctx, cc, realm, opts)
	}
	return c
}

func (rt *cliRouter) serve(conn transports.Conn) {
	defer rt.wg.Done()
	defer conn.Close()
	cd, err := codec.ByName(conn.Serializer().String())
	if err != nil {
		rt.t.Error(err)
		return
	}
	send := func(m wamp.Message) {
		data, err := cd.Encode(m)
		if err != nil {
			rt.t.Errorf("router: encode %s: %v", m.MessageType(), err)
			return
		}
		_ = conn.Write([][]byte{data})
	}
	for {
		data, err := conn.Read()
		if err != nil {
			return
		}
		m, err := cd.Decode(data)
		if err != nil {
			rt.t.Errorf("router: decode: %v", err)
			return
		}
		rt.got <- m
		switch m := m.(type) {
		case *wamp.Hello:
			if m.Realm == "bad" {
				send(&wamp.Abort{Details: wamp.Dict{}, Reason: wamp.ErrNoSuchRealm, Payload: wamp.Payload{Args: wamp.List{"no realm bad"}}})
				return
			}
			send(&wamp.Welcome{Session: 1, Details: wamp.Dict{"roles": wamp.Dict{
				"broker": wamp.Dict{"features": wamp.Dict{}},
				"dealer": wamp.Dict{"features": wamp.Dict{"call_canceling": true}},
			}}})
		case *wamp.Call:
			switch m.Procedure {
			case "echo":
				send(&wamp.Result{Request: m.Request, Details: wamp.Dict{}, Payload: m.Payload})
			case "bytes":
				send(&wamp.Result{Request: m.Request, Details: wamp.Dict{},
					Payload: wamp.Payload{Args: wamp.List{[]byte{1, 2, 3}, uint64(math.MaxUint64), 1.5, nil}}})
			case "fail":
				send(&wamp.Error{RequestType: wamp.TypeCall, Request: m.Request, Details: wamp.Dict{}, Error: "com.example.failed",
					Payload: wamp.Payload{Args: wamp.List{"it failed", int64(42)}, Kwargs: wamp.Dict{"k": "v"}}})
			case "slow":
			default:
				send(&wamp.Error{RequestType: wamp.TypeCall, Request: m.Request, Details: wamp.Dict{}, Error: wamp.ErrNoSuchProcedure})
			}
		case *wamp.Publish:
			if !wamp.OptBool(m.Options, "acknowledge", false) {
				break
			}
			if m.Topic == "denied" {
				send(&wamp.Error{RequestType: wamp.TypePublish, Request: m.Request, Details: wamp.Dict{}, Error: wamp.ErrNotAuthorized})
			} else {
				send(&wamp.Published{Request: m.Request, Publication: 99})
			}
		case *wamp.Subscribe:
			send(&wamp.Subscribed{Request: m.Request, Subscription: 1})
			if m.Topic == "kick" {
				send(&wamp.Goodbye{Details: wamp.Dict{}, Reason: wamp.CloseKilled})
				continue
			}
			for _, ev := range rt.events {
				ev.Subscription = 1
				send(ev)
			}
		case *wamp.Register:
			send(&wamp.Registered{Request: m.Request, Registration: 1})
			for _, inv := range rt.invocations {
				inv.Registration = 1
				send(inv)
				if rt.interrupt != "" {
					send(&wamp.Interrupt{Request: inv.Request, Options: wamp.Dict{"mode": rt.interrupt}})
				}
			}
		case *wamp.Goodbye:
			if m.Reason != wamp.CloseGoodbyeAndOut {
				send(&wamp.Goodbye{Details: wamp.Dict{}, Reason: wamp.CloseGoodbyeAndOut})
			}
			return
		}
	}
}

// next returns the next message the client sent of type T, skipping others.
func next[T wamp.Message](t *testing.T, rt *cliRouter) T {
	t.Helper()
	deadline := time.After(testTimeout)
	for {
		select {
		case m := <-rt.got:
			if v, ok := m.(T); ok {
				return v
			}
		case <-deadline:
			var zero T
			t.Fatalf("router: no %T from the client", zero)
			return zero
		}
	}
}

// syncBuffer is a bytes.Buffer safe for the concurrent writes of handlers.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

type cmdRun struct {
	code           int
	stdout, stderr string
}

func runCmd(t *testing.T, rt *cliRouter, ctx context.Context, f func(*clientCmd, context.Context, []string) int, args ...string) cmdRun {
	t.Helper()
	var stdout, stderr syncBuffer
	code := f(rt.cmd(&stdout, &stderr), ctx, args)
	return cmdRun{code, stdout.String(), stderr.String()}
}

func (r cmdRun) want(t *testing.T, code int, stdout string) {
	t.Helper()
	if r.code != code {
		t.Errorf("exit code %d, want %d (stderr: %s)", r.code, code, r.stderr)
	}
	if r.stdout != stdout {
		t.Errorf("stdout %q, want %q", r.stdout, stdout)
	}
}

func (r cmdRun) wantStderr(t *testing.T, parts ...string) {
	t.Helper()
	for _, p := range parts {
		if !strings.Contains(r.stderr, p) {
			t.Errorf("stderr %q does not contain %q", r.stderr, p)
		}
	}
}

func TestCallOutput(t *testing.T) {
	for _, tt := range []struct {
		name string
		args []string
		want string
	}{
		{"single number", []string{"echo", "2"}, "2\n"},
		{"single string", []string{"echo", "hello"}, "\"hello\"\n"},
		{"quoted number stays string", []string{"echo", `"2"`}, "\"2\"\n"},
		{"two args", []string{"echo", "2", "3"}, `{"args":[2,3],"kwargs":{}}` + "\n"},
		{"no args", []string{"echo"}, `{"args":[],"kwargs":{}}` + "\n"},
		{"kwargs", []string{"--kw", "a=1", "--kw", "b=x", "--kw", "c=[true,null]", "echo", "x"},
			`{"args":["x"],"kwargs":{"a":1,"b":"x","c":[true,null]}}` + "\n"},
		{"big integers exact", []string{"echo", "9007199254740993", "18446744073709551615", "-9223372036854775808"},
			`{"args":[9007199254740993,18446744073709551615,-9223372036854775808],"kwargs":{}}` + "\n"},
		{"float", []string{"echo", "2.5"}, "2.5\n"},
		{"object", []string{"echo", `{"b":[1,{"c":"<&>"}],"a":null}`}, `{"a":null,"b":[1,{"c":"<&>"}]}` + "\n"},
		{"bytes round trip", []string{"echo", `"\u0000AQID"`}, `"\u0000AQID"` + "\n"},
		{"binary and big result", []string{"bytes"}, `{"args":["\u0000AQID",18446744073709551615,1.5,null],"kwargs":{}}` + "\n"},
		{"not JSON", []string{"echo", "[1,"}, "\"[1,\"\n"},
		{"trailing data", []string{"echo", "1 2"}, "\"1 2\"\n"},
		{"empty string", []string{"echo", ""}, "\"\"\n"},
		{"flags after URI", []string{"echo", "2", "--kw", "a=1", "-timeout=5s", "3"}, `{"args":[2,3],"kwargs":{"a":1}}` + "\n"},
		{"negative number is no flag", []string{"echo", "-5"}, "-5\n"},
		{"unknown flag after URI is an argument", []string{"echo", "--ack"}, "\"--ack\"\n"},
		{"double dash ends flags", []string{"--kw", "a=1", "echo", "--", "--kw", "x"}, `{"args":["--kw","x"],"kwargs":{"a":1}}` + "\n"},
		{"double dash before URI", []string{"--", "echo", "--kw"}, "\"--kw\"\n"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			rt := newCLIRouter(t)
			r := runCmd(t, rt, context.Background(), (*clientCmd).call, tt.args...)
			r.want(t, exitOK, tt.want)
		})
	}
}

func TestCallSendsArguments(t *testing.T) {
	rt := newCLIRouter(t)
	r := runCmd(t, rt, context.Background(), (*clientCmd).call,
		"--url", "tcp://router:1234", "--realm", "r2", "--serializer", "msgpack", "--timeout", "3s",
		"--kw", "n=18446744073709551615", "echo", "7", "x", `"\u0000AQID"`)
	r.want(t, exitOK, `{"args":[7,"x","\u0000AQID"],"kwargs":{"n":18446744073709551615}}`+"\n")
	hello := next[*wamp.Hello](t, rt)
	equal(t, "realm", hello.Realm, "r2")
	call := next[*wamp.Call](t, rt)
	equal(t, "args", call.Args, wamp.List{int64(7), "x", []byte{1, 2, 3}})
	equal(t, "kwargs", call.Kwargs, wamp.Dict{"n": uint64(math.MaxUint64)})
	next[*wamp.Goodbye](t, rt)
	rt.mu.Lock()
	defer rt.mu.Unlock()
	equal(t, "url", rt.url, "tcp://router:1234")
	equal(t, "serializer", rt.opts.Serializer, transports.MsgPack)
	equal(t, "join timeout", rt.opts.JoinTimeout, 3*time.Second)
}

func TestCallErrors(t *testing.T) {
	bg := context.Background()
	t.Run("wamp error", func(t *testing.T) {
		r := runCmd(t, newCLIRouter(t), bg, (*clientCmd).call, "fail")
		r.want(t, exitWAMPError, "")
		r.wantStderr(t, `com.example.failed ["it failed",42] {"k":"v"}`)
	})
	t.Run("no such procedure", func(t *testing.T) {
		r := runCmd(t, newCLIRouter(t), bg, (*clientCmd).call, "nothing.here")
		r.want(t, exitWAMPError, "")
		r.wantStderr(t, wamp.ErrNoSuchProcedure)
	})
	t.Run("timeout", func(t *testing.T) {
		rt := newCLIRouter(t)
		r := runCmd(t, rt, bg, (*clientCmd).call, "--timeout", "50ms", "slow")
		r.want(t, exitWAMPError, "")
		r.wantStderr(t, "deadline exceeded")
		next[*wamp.Cancel](t, rt)
	})
	t.Run("abort", func(t *testing.T) {
		r := runCmd(t, newCLIRouter(t), bg, (*clientCmd).call, "--realm", "bad", "echo")
		r.want(t, exitConnect, "")
		r.wantStderr(t, "cannot join realm bad", `wamp.error.no_such_realm ["no realm bad"]`)
	})
}

func TestUsageErrors(t *testing.T) {
	bg := context.Background()
	for _, tt := range []struct {
		name   string
		f      func(*clientCmd, context.Context, []string) int
		args   []string
		stderr string
	}{
		{"call missing URI", (*clientCmd).call, nil, "missing procedure URI"},
		{"call bad flag", (*clientCmd).call, []string{"--nope", "p"}, "flag provided but not defined"},
		{"call bad kw", (*clientCmd).call, []string{"--kw", "novalue", "p"}, "want key=value"},
		{"call huge integer", (*clientCmd).call, []string{"p", "123456789012345678901234567890"}, "does not fit 64 bits"},
		{"call bad serializer", (*clientCmd).call, []string{"--serializer", "xml", "echo"}, "bad --serializer"},
		{"call bad timeout", (*clientCmd).call, []string{"--timeout", "soon", "echo"}, "invalid value"},
		{"publish missing topic", (*clientCmd).publish, nil, "missing TOPIC"},
		{"subscribe missing topic", (*clientCmd).subscribe, nil, "want exactly one TOPIC"},
		{"subscribe two topics", (*clientCmd).subscribe, []string{"a", "b"}, "want exactly one TOPIC"},
		{"subscribe bad match", (*clientCmd).subscribe, []string{"--match", "regex", "a"}, "bad --match"},
		{"subscribe negative count", (*clientCmd).subscribe, []string{"--count", "-1", "a"}, "--count"},
		{"register missing URI", (*clientCmd).register, nil, "missing procedure URI"},
		{"register missing command", (*clientCmd).register, []string{"p"}, "missing COMMAND"},
		{"register missing command after --", (*clientCmd).register, []string{"p", "--"}, "missing COMMAND"},
		{"register bad invoke", (*clientCmd).register, []string{"--invoke", "all", "p", "--", "true"}, "bad --invoke"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			rt := newCLIRouter(t)
			r := runCmd(t, rt, bg, tt.f, tt.args...)
			r.want(t, exitUsage, "")
			r.wantStderr(t, tt.stderr, "Usage: wampgate", "Exit status:")
			select {
			case m := <-rt.got:
				t.Errorf("a usage error reached the router: %v", m)
			default:
			}
		})
	}
}

func TestHelp(t *testing.T) {
	for name, f := range map[string]func(context.Context, []string, io.Writer, io.Writer) int{
		"call": runCall, "publish": runPublish, "subscribe": runSubscribe, "register": runRegister,
	} {
		var stdout, stderr bytes.Buffer
		if code := f(context.Background(), []string{"-h"}, &stdout, &stderr); code != exitOK {
			t.Errorf("%s -h: exit code %d", name, code)
		}
		for _, want := range []string{"Usage: wampgate " + name, "-url", "-realm", "-serializer", "-timeout", "Exit status:"} {
			if !strings.Contains(stderr.String(), want) {
				t.Errorf("%s -h: usage lacks %q", name, want)
			}
		}
	}
}

func TestConnectFailures(t *testing.T) {
	bg := context.Background()
	sock := filepath.Join(t.TempDir(), "nobody.sock")
	for _, tt := range []struct {
		name string
		url  string
		code int
		want string
	}{
		{"refused", "unix://" + sock, exitConnect, "cannot connect to unix://" + sock},
		{"bad scheme", "http://127.0.0.1/", exitUsage, "bad --url"},
		{"tcp without port", "tcp://127.0.0.1", exitUsage, "bad --url"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := runCall(bg, []string{"--url", tt.url, "--timeout", "2s", "p"}, &stdout, &stderr)
			if code != tt.code {
				t.Errorf("exit code %d, want %d (stderr: %s)", code, tt.code, stderr.String())
			}
			if !strings.Contains(stderr.String(), tt.want) {
				t.Errorf("stderr %q does not contain %q", stderr.String(), tt.want)
			}
		})
	}
}

func TestPublish(t *testing.T) {
	bg := context.Background()
	t.Run("ack", func(t *testing.T) {
		rt := newCLIRouter(t)
		r := runCmd(t, rt, bg, (*clientCmd).publish, "--ack", "--kw", "k=1", "com.example.t", "1", "x")
		r.want(t, exitOK, "")
		p := next[*wamp.Publish](t, rt)
		equal(t, "topic", p.Topic, "com.example.t")
		equal(t, "args", p.Args, wamp.List{int64(1), "x"})
		equal(t, "kwargs", p.Kwargs, wamp.Dict{"k": int64(1)})
		equal(t, "options", p.Options, wamp.Dict{"acknowledge": true})
	})
	t.Run("no ack", func(t *testing.T) {
		rt := newCLIRouter(t)
		r := runCmd(t, rt, bg, (*clientCmd).publish, "com.example.t")
		r.want(t, exitOK, "")
		p := next[*wamp.Publish](t, rt)
		equal(t, "options", p.Options, wamp.Dict{})
		next[*wamp.Goodbye](t, rt) // the PUBLISH went out before GOODBYE
	})
	t.Run("denied", func(t *testing.T) {
		r := runCmd(t, newCLIRouter(t), bg, (*clientCmd).publish, "--ack", "denied")
		r.want(t, exitWAMPError, "")
		r.wantStderr(t, wamp.ErrNotAuthorized)
	})
}

func TestSubscribeCount(t *testing.T) {
	rt := newCLIRouter(t)
	rt.events = []*wamp.Event{
		{Publication: 10, Details: wamp.Dict{"topic": "com.example.a"}, Payload: wamp.Payload{Args: wamp.List{int64(1)}}},
		{Publication: 11, Details: wamp.Dict{"topic": "com.example.b"}, Payload: wamp.Payload{Args: wamp.List{[]byte{0xff}}, Kwargs: wamp.Dict{"x": "y"}}},
		{Publication: 12, Details: wamp.Dict{"topic": "com.example.c"}},
	}
	r := runCmd(t, rt, context.Background(), (*clientCmd).subscribe, "--match", "prefix", "--count", "2", "com.example.")
	r.want(t, exitOK,
		`{"topic":"com.example.a","args":[1],"kwargs":{},"publication":10}`+"\n"+
			`{"topic":"com.example.b","args":["\u0000/w=="],"kwargs":{"x":"y"},"publication":11}`+"\n")
	sub := next[*wamp.Subscribe](t, rt)
	equal(t, "options", sub.Options, wamp.Dict{"match": "prefix"})
	next[*wamp.Goodbye](t, rt)
}

func TestSubscribeUntilCanceled(t *testing.T) {
	rt := newCLIRouter(t)
	rt.events = []*wamp.Event{{Publication: 1, Details: wamp.Dict{}}}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var stdout, stderr syncBuffer
	done := make(chan int, 1)
	go func() { done <- rt.cmd(&stdout, &stderr).subscribe(ctx, []string{"t"}) }()
	deadline := time.Now().Add(testTimeout)
	for !strings.Contains(stdout.String(), "\n") {
		if time.Now().After(deadline) {
			cancel()
			<-done
			t.Fatal("no event printed")
		}
		time.Sleep(time.Millisecond)
	}
	cancel()
	select {
	case code := <-done:
		if code != exitOK {
			t.Errorf("exit code %d (stderr %s)", code, stderr.String())
		}
	case <-time.After(testTimeout):
		t.Fatal("subscribe did not stop after cancel")
	}
	equal(t, "stdout", stdout.String(), `{"topic":"t","args":[],"kwargs":{},"publication":1}`+"\n")
	next[*wamp.Goodbye](t, rt)
}

func TestSubscribeRouterGoodbye(t *testing.T) {
	r := runCmd(t, newCLIRouter(t), context.Background(), (*clientCmd).subscribe, "kick")
	r.want(t, exitWAMPError, "")
	r.wantStderr(t, wamp.CloseKilled)
}

const registerScript = `case "$1" in
json) echo ' {"a": [1, 2], "big": 18446744073709551615} ' ;;
fail) echo "boom" >&2; exit 3 ;;
args) shift; printf '%s|' "$@"; printf '%s' "$WAMP_KWARGS" ;;
empty) ;;
sleep) exec sleep 30 ;;
esac
`

func TestRegister(t *testing.T) {
	rt := newCLIRouter(t)
	inv := func(req wamp.ID, args wamp.List, kwargs wamp.Dict) *wamp.Invocation {
		return &wamp.Invocation{Request: req, Details: wamp.Dict{}, Payload: wamp.Payload{Args: args, Kwargs: kwargs}}
	}
	rt.invocations = []*wamp.Invocation{
		inv(1, wamp.List{"json"}, nil),
		inv(2, wamp.List{"fail"}, nil),
		inv(3, wamp.List{"args", "hello world", int64(2), wamp.List{int64(1), "x"}, []byte{1}}, wamp.Dict{"k": int64(1)}),
		inv(4, wamp.List{"empty"}, nil),
		inv(5, wamp.List{"unknown"}, nil),
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var stdout, stderr syncBuffer
	done := make(chan int, 1)
	go func() {
		done <- rt.cmd(&stdout, &stderr).register(ctx, []string{"--match", "prefix", "com.example.", "--", "sh", "-c", registerScript, "sh"})
	}()
	reg := next[*wamp.Register](t, rt)
	equal(t, "register options", reg.Options, wamp.Dict{"match": "prefix"})

	replies := map[wamp.ID]wamp.Message{}
	deadline := time.After(testTimeout)
	for len(replies) < len(rt.invocations) {
		select {
		case m := <-rt.got:
			switch m := m.(type) {
			case *wamp.Yield:
				replies[m.Request] = m
			case *wamp.Error:
				replies[m.Request] = m
			}
		case <-deadline:
			cancel()
			<-done
			t.Fatalf("got %d replies, want %d", len(replies), len(rt.invocations))
		}
	}
	cancel()
	if code := <-done; code != exitOK {
		t.Errorf("exit code %d (stderr %s)", code, stderr.String())
	}

	y := func(req wamp.ID) *wamp.Yield {
		v, ok := replies[req].(*wamp.Yield)
		if !ok {
			t.Fatalf("reply %d is %#v, want YIELD", req, replies[req])
		}
		return v
	}
	e := func(req wamp.ID) *wamp.Error {
		v, ok := replies[req].(*wamp.Error)
		if !ok {
			t.Fatalf("reply %d is %#v, want ERROR", req, replies[req])
		}
		return v
	}
	equal(t, "json result", y(1).Args, wamp.List{map[string]any{"a": []any{int64(1), int64(2)}, "big": uint64(math.MaxUint64)}})
	equal(t, "fail uri", e(2).Error, errCommandFailed)
	equal(t, "fail args", e(2).Args, wamp.List{"boom", int64(3)})
	equal(t, "args result", y(3).Args, wamp.List{`hello world|2|[1,"x"]|"\u0000AQ=="|{"k":1}`})
	if !y(4).Empty() {
		t.Errorf("empty output gave %+v, want no result", y(4).Payload)
	}
	equal(t, "unknown result", y(5).Payload.Args, wamp.List(nil))
}

func TestRegisterCommandErrors(t *testing.T) {
	rt := newCLIRouter(t)
	rt.invocations = []*wamp.Invocation{{Request: 1, Details: wamp.Dict{}}}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var stdout, stderr syncBuffer
	done := make(chan int, 1)
	go func() {
		done <- rt.cmd(&stdout, &stderr).register(ctx, []string{"p", "--", filepath.Join(t.TempDir(), "no-such-command")})
	}()
	e := next[*wamp.Error](t, rt)
	cancel()
	<-done
	equal(t, "uri", e.Error, errCommandFailed)
	if len(e.Args) != 2 || e.Args[1] != int64(-1) {
		t.Errorf("args %v, want [message, -1]", e.Args)
	}
}

func TestRegisterInterrupt(t *testing.T) {
	rt := newCLIRouter(t)
	rt.interrupt = "kill"
	rt.invocations = []*wamp.Invocation{{Request: 1, Details: wamp.Dict{}, Payload: wamp.Payload{Args: wamp.List{"sleep"}}}}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var stdout, stderr syncBuffer
	done := make(chan int, 1)
	go func() {
		done <- rt.cmd(&stdout, &stderr).register(ctx, []string{"p", "--", "sh", "-c", registerScript, "sh"})
	}()
	e := next[*wamp.Error](t, rt)
	cancel()
	<-done
	equal(t, "uri", e.Error, wamp.ErrCanceled)
}

func TestParseArg(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want any
	}{
		{"2", int64(2)},
		{"-7", int64(-7)},
		{"9223372036854775807", int64(math.MaxInt64)},
		{"9223372036854775808", uint64(math.MaxInt64) + 1},
		{"2.5", 2.5},
		{"1e3", 1000.0},
		{"true", true},
		{"null", nil},
		{"hello", "hello"},
		{`"2"`, "2"},
		{`"\u0000AQID"`, []byte{1, 2, 3}},
		{`"\u0000not base64!"`, "\x00not base64!"},
		{`[1,"a",{"b":2}]`, []any{int64(1), "a", map[string]any{"b": int64(2)}}},
		{" 3 ", int64(3)},
		{"3 4", "3 4"},
		{"", ""},
		{"{", "{"},
	} {
		got, err := parseArg(tt.in)
		if err != nil {
			t.Errorf("parseArg(%q): %v", tt.in, err)
			continue
		}
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("parseArg(%q) = %#v, want %#v", tt.in, got, tt.want)
		}
	}
	for _, in := range []string{"18446744073709551616", "-9223372036854775809", "1e400", "[1e999]"} {
		if v, err := parseArg(in); err == nil {
			t.Errorf("parseArg(%q) = %#v, want an error", in, v)
		}
	}
}

func TestMarshalJSON(t *testing.T) {
	for _, tt := range []struct {
		in   any
		want string
	}{
		{[]byte{1, 2, 3}, `"\u0000AQID"`},
		{uint64(math.MaxUint64), "18446744073709551615"},
		{math.NaN(), "null"},
		{1.0, "1.0"},
		{2.5, "2.5"},
		{9.17e19, "9.17e+19"},
		{-1e-7, "-1e-07"},
		{math.Inf(1), "null"},
		{wamp.Dict{"b": int64(1), "a": []any{[]byte{}}}, `{"a":["\u0000"],"b":1}`},
		{"<tag>&", `"<tag>&"`},
		{struct{ X int }{1}, `"{1}"`},
	} {
		equal(t, "marshalJSON", string(marshalJSON(tt.in)), tt.want)
	}
}

func FuzzParseArg(f *testing.F) {
	for _, s := range []string{"2", "hello", `"\u0000AQID"`, `{"a":[1,2.5,null]}`, "18446744073709551615", "1e3", "[", "\x00AQID", "\xff"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		// A JSON document survives print and parse unchanged.
		if v, err := parseJSON(s); err == nil {
			out := marshalJSON(v)
			v2, err := parseJSON(string(out))
			if err != nil {
				t.Fatalf("parseJSON(%s) from %q: %v", out, s, err)
			}
			if !reflect.DeepEqual(v, v2) {
				t.Fatalf("round trip of %q: %#v printed as %s parses as %#v", s, v, out, v2)
			}
		}
		v, err := parseArg(s)
		if err != nil {
			return
		}
		// Printing is stable: what we print parses back, and from then on
		// print and parse agree.
		out := marshalJSON(v)
		v2, err := parseJSON(string(out))
		if err != nil {
			t.Fatalf("parseJSON(marshalJSON(%#v) = %s): %v", v, out, err)
		}
		out2 := marshalJSON(v2)
		v3, err := parseJSON(string(out2))
		if err != nil {
			t.Fatalf("parseJSON(%s): %v", out2, err)
		}
		if !reflect.DeepEqual(v2, v3) {
			t.Fatalf("unstable round trip for %q: %#v then %#v", s, v2, v3)
		}
	})
}

func equal(t *testing.T, what string, got, want any) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s = %#v, want %#v", what, got, want)
	}
}
