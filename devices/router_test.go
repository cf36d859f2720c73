package devices_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/wampgate/wampgate/devices"
	"github.com/wampgate/wampgate/gateway"
	"github.com/wampgate/wampgate/gateway/client"
	"github.com/wampgate/wampgate/gateway/wamp"
	"github.com/wampgate/wampgate/transports"
	"github.com/wampgate/wampgate/transports/inproc"
	"github.com/wampgate/wampgate/transports/serial"
)

// deviceConn is the device's end of one session as a transports.Conn, so
// that the WAMP client can play the device's firmware over the pty master.
type deviceConn struct {
	d      *fakeDevice
	ser    transports.Serializer
	mu     sync.Mutex
	closed bool
}

var errSessionOver = errors.New("device: link reset by the gateway")

func (c *deviceConn) isClosed() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.closed
}

func (c *deviceConn) Serializer() transports.Serializer { return c.ser }

// Read polls the master in short slices so that Close takes effect without
// touching the stream the next session will use.
func (c *deviceConn) Read() ([]byte, error) {
	for {
		if c.isClosed() {
			return nil, transports.ErrClosed
		}
		f, err := c.d.next(time.Now().Add(20 * time.Millisecond))
		if errors.Is(err, os.ErrDeadlineExceeded) {
			continue
		}
		if err != nil {
			return nil, err
		}
		switch f.Type {
		case serial.FrameWAMP:
			return f.Payload, nil
		case serial.FramePing:
			_ = c.d.writeFrame(serial.FramePong, f.Payload)
		case serial.FrameReset, serial.FrameHandshake:
			return nil, errSessionOver
		}
	}
}

func (c *deviceConn) Write(msgs [][]byte) error {
	for _, m := range msgs {
		if c.isClosed() {
			return transports.ErrClosed
		}
		if err := c.d.sendWAMP(m); err != nil {
			return err
		}
	}
	return nil
}

func (c *deviceConn) MaxOutgoing() int { return serial.DefaultLinkMaxMessageSize }

func (c *deviceConn) Close() error {
	c.mu.Lock()
	c.closed = true
	c.mu.Unlock()
	return nil
}

func (c *deviceConn) Info() transports.Info { return transports.Info{Kind: "device-side"} }

// TestE2ERouterDevice runs the manager against the real router: the
// device's session gets the configured identity and realm, its
// single-component URIs get the prefix, and a device reboot makes a pending
// call to it fail at once with an ERROR; after the new handshake the device
// serves calls again.
func TestE2ERouterDevice(t *testing.T) {
	checkGoroutines(t)
	router, err := gateway.New(gateway.Config{Realms: []gateway.RealmConfig{{Name: "realm1"}}})
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
		defer cancel()
		if err := router.Shutdown(ctx); err != nil {
			t.Errorf("router shutdown: %v", err)
		}
	}()
	master, path := openPty(t)
	r := newRecorder()
	m := devices.New(devices.Config{
		Devices: []devices.Device{{
			Name: "pump1", Port: path, Realm: "realm1", Prefix: "dev.pump1", AuthRole: "pump", PingInterval: -1,
		}},
		Attacher:   router,
		Lister:     &fakeLister{},
		MinBackoff: 5 * time.Millisecond,
		MaxBackoff: 40 * time.Millisecond,
		OnChange:   r.on,
	})
	m.Start()
	defer m.Close()

	ctx, cancel := context.WithTimeout(t.Context(), 2*waitTimeout)
	defer cancel()

	// The backend, on an in-process connection.
	bc, rc := inproc.Pipe(transports.JSON)
	var routerWG sync.WaitGroup
	routerWG.Add(1)
	go func() {
		defer routerWG.Done()
		router.ServeConn(rc)
	}()
	defer routerWG.Wait()
	backend, err := client.Join(ctx, bc, "realm1", client.Options{})
	if err != nil {
		t.Fatalf("backend join: %v", err)
	}
	defer backend.Close()

	// The device's firmware: a WAMP client over the framing.
	d := newFakeDevice(t, master)
	d.connect(transports.JSON)
	invoked := make(chan struct{}, 1)
	joinDevice := func() (*deviceConn, *client.Session) {
		t.Helper()
		dc := &deviceConn{d: d, ser: transports.JSON}
		sess, err := client.Join(ctx, dc, "whatever-the-firmware-says", client.Options{})
		if err != nil {
			t.Fatalf("device join: %v", err)
		}
		if _, err := sess.Register(ctx, "add2", nil, func(_ context.Context, inv *client.Invocation) (*client.Result, error) {
			if len(inv.Args) != 2 {
				return nil, &client.Error{URI: "wamp.error.invalid_argument"}
			}
			a, b := fmt.Sprint(inv.Args[0]), fmt.Sprint(inv.Args[1])
			return &client.Result{Args: wamp.List{a + "+" + b}}, nil
		}); err != nil {
			t.Fatalf("register: %v", err)
		}
		if _, err := sess.Register(ctx, "hang", nil, func(ctx context.Context, _ *client.Invocation) (*client.Result, error) {
			invoked <- struct{}{}
			<-ctx.Done()
			return nil, ctx.Err()
		}); err != nil {
			t.Fatalf("register: %v", err)
		}
		return dc, sess
	}
	dc1, dev1 := joinDevice()
	r.expect(t, "pump1", true, devices.ReasonNone)
	if det := dev1.Details(); det["authid"] != "pump1" || det["authrole"] != "pump" || det["realm"] != "realm1" {
		t.Errorf("WELCOME details %v, want authid pump1, authrole pump, realm realm1", det)
	}

	res, err := backend.Call(ctx, "dev.pump1.add2", wamp.List{2, 3}, nil, nil)
	if err != nil {
		t.Fatalf("call through the prefix: %v", err)
	}
	if len(res.Args) != 1 || res.Args[0] != "2+3" {
		t.Fatalf("result %v", res.Args)
	}

	// A call in flight when the device reboots fails at once.
	callErr := make(chan error, 1)
	go func() {
		_, err := backend.Call(ctx, "dev.pump1.hang", nil, nil, nil)
		callErr <- err
	}()
	select {
	case <-invoked:
	case <-time.After(waitTimeout):
		t.Fatal("device was not invoked")
	}
	dc1.Close() // the firmware reboots: its session state is gone
	<-dev1.Done()
	d.handshake(transports.JSON)
	select {
	case err := <-callErr:
		var werr *client.Error
		if !errors.As(err, &werr) {
			t.Fatalf("pending call ended with %v, want a WAMP ERROR", err)
		}
		t.Logf("pending call failed with %s", werr.URI)
	case <-time.After(waitTimeout):
		t.Fatal("pending call to the rebooted device did not fail")
	}
	r.expect(t, "pump1", false, devices.ReasonDeviceReset)

	// The registration went with the old session.
	var werr *client.Error
	if _, err := backend.Call(ctx, "dev.pump1.add2", wamp.List{1, 1}, nil, nil); !errors.As(err, &werr) || werr.URI != "wamp.error.no_such_procedure" {
		t.Fatalf("call after reboot: %v, want wamp.error.no_such_procedure", err)
	}

	_, dev2 := joinDevice()
	r.expect(t, "pump1", true, devices.ReasonNone)
	res, err = backend.Call(ctx, "dev.pump1.add2", wamp.List{4, 5}, nil, nil)
	if err != nil || len(res.Args) != 1 || res.Args[0] != "4+5" {
		t.Fatalf("call after rejoin: %v, %v", res, err)
	}
	if st := status(t, m, "pump1"); st.Sessions != 2 || st.Resets != 1 || st.State != devices.StateOnline {
		t.Fatalf("status %+v", st)
	}

	// Shutdown of the manager ends the device session; the device sees RESET.
	m.Close()
	select {
	case <-dev2.Done():
	case <-time.After(waitTimeout):
		t.Fatal("device session survived the manager's Close")
	}
	r.expect(t, "pump1", false, devices.ReasonShutdown)
}
