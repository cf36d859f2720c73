package client_test

import (
	"context"
	"errors"
	"math"
	"net"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/wampgate/wampgate/gateway/client"
	"github.com/wampgate/wampgate/gateway/wamp"
	"github.com/wampgate/wampgate/gateway/wamp/codec"
	"github.com/wampgate/wampgate/transports"
	"github.com/wampgate/wampgate/transports/rawsocket"
	"github.com/wampgate/wampgate/transports/websocket"
)

// echoRouter is a transports.Handler answering HELLO with WELCOME, every
// CALL with its own arguments plus the serializer name in kwargs, and
// GOODBYE with GOODBYE.
func echoRouter(t *testing.T) transports.Handler {
	return transports.HandlerFunc(func(c transports.Conn) {
		cd, err := codec.ByName(c.Serializer().String())
		if err != nil {
			t.Error(err)
			return
		}
		send := func(m wamp.Message) {
			data, err := cd.Encode(m)
			if err == nil {
				err = c.Write([][]byte{data})
			}
			if err != nil {
				t.Errorf("echo router: send %s: %v", m.MessageType(), err)
			}
		}
		for {
			data, err := c.Read()
			if err != nil {
				return
			}
			m, err := cd.Decode(data)
			if err != nil {
				t.Errorf("echo router: %v", err)
				return
			}
			switch m := m.(type) {
			case *wamp.Hello:
				send(&wamp.Welcome{Session: 1, Details: routerDetails()})
			case *wamp.Call:
				send(&wamp.Result{Request: m.Request, Details: wamp.Dict{},
					Payload: wamp.Payload{Args: m.Args, Kwargs: wamp.Dict{"serializer": c.Serializer().String()}}})
			case *wamp.Goodbye:
				send(&wamp.Goodbye{Details: wamp.Dict{}, Reason: wamp.CloseGoodbyeAndOut})
				return
			}
		}
	})
}

// shortTempDir returns a directory whose paths fit in a Unix socket address.
func shortTempDir(t *testing.T) string {
	dir, err := os.MkdirTemp("", "wgc")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

func TestConnect(t *testing.T) {
	rs := &rawsocket.Server{Handler: echoRouter(t)}
	var wg sync.WaitGroup
	serve := func(ln net.Listener) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_ = rs.Serve(ln)
		}()
	}
	tcp, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	serve(tcp)
	sock := filepath.Join(shortTempDir(t), "r.sock")
	unix, err := rawsocket.ListenUnix(sock)
	if err != nil {
		t.Fatal(err)
	}
	serve(unix)
	hs := httptest.NewServer(&websocket.Server{Handler: echoRouter(t)})
	t.Cleanup(func() {
		hs.Close()
		rs.Close()
		wg.Wait()
		rs.Wait()
	})

	for _, tt := range []struct {
		name string
		url  string
		ser  transports.Serializer
		want string
	}{
		{"tcp default", "tcp://" + tcp.Addr().String(), 0, "cbor"},
		{"tcp msgpack", "tcp://" + tcp.Addr().String(), transports.MsgPack, "msgpack"},
		{"unix triple slash", "unix://" + sock, 0, "cbor"},
		{"unix single slash", "unix:" + sock, transports.JSON, "json"},
		{"ws default", "ws://" + hs.Listener.Addr().String() + "/ws", 0, "json"},
		{"ws cbor", "ws://" + hs.Listener.Addr().String() + "/ws", transports.CBOR, "cbor"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s, err := client.Connect(context.Background(), tt.url, "realm1", client.Options{Serializer: tt.ser})
			if err != nil {
				t.Fatal(err)
			}
			args := wamp.List{[]byte{0, 1}, uint64(math.MaxUint64), "x"}
			res, err := s.Call(context.Background(), "echo", args, nil, nil)
			if err != nil {
				t.Fatal(err)
			}
			equal(t, "args", res.Args, args)
			equal(t, "serializer", res.Kwargs["serializer"], tt.want)
			if err := s.Leave(context.Background(), ""); err != nil {
				t.Errorf("Leave: %v", err)
			}
			waitDone(t, s)
		})
	}
}

func TestConnectBadURL(t *testing.T) {
	for _, u := range []string{
		"http://127.0.0.1/", "tcp://127.0.0.1", "tcp://127.0.0.1:80/path", "unix://host/x.sock", "unix:", "://", "127.0.0.1:8080",
	} {
		_, err := client.Connect(context.Background(), u, "realm1", client.Options{})
		if !errors.Is(err, client.ErrUnsupportedURL) {
			t.Errorf("Connect(%q) = %v, want ErrUnsupportedURL", u, err)
		}
	}
}

func TestConnectRefused(t *testing.T) {
	sock := filepath.Join(shortTempDir(t), "none.sock")
	_, err := client.Connect(context.Background(), "unix://"+sock, "realm1", client.Options{})
	if err == nil || errors.Is(err, client.ErrUnsupportedURL) {
		t.Fatalf("Connect to a missing socket = %v", err)
	}
}
