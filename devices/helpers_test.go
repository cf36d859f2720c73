package devices_test

import (
	"bytes"
	"io"
	"os"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/wampgate/wampgate/devices"
	"github.com/wampgate/wampgate/devices/discovery"
	"github.com/wampgate/wampgate/transports"
	"github.com/wampgate/wampgate/transports/serial"
	"github.com/wampgate/wampgate/transports/serial/serialtest"
)

const waitTimeout = 10 * time.Second

// waitFor polls cond until it holds or the timeout passes.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(waitTimeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond) // polling interval, not synchronisation
	}
}

// checkGoroutines records the goroutine count and, at cleanup, waits until
// it is back there.
func checkGoroutines(t *testing.T) {
	t.Helper()
	base := runtime.NumGoroutine()
	t.Cleanup(func() {
		deadline := time.Now().Add(waitTimeout)
		for runtime.NumGoroutine() > base {
			if time.Now().After(deadline) {
				buf := make([]byte, 1<<20)
				t.Errorf("goroutines: %d, want <= %d\n%s", runtime.NumGoroutine(), base, buf[:runtime.Stack(buf, true)])
				return
			}
			time.Sleep(5 * time.Millisecond) // polling interval
		}
	})
}

// openPty opens a pty pair; the test owns the master. The master is closed
// at cleanup unless the test closed it (unplug) already.
func openPty(t *testing.T) (*os.File, string) {
	t.Helper()
	m, path, err := serialtest.OpenPty()
	if err != nil {
		t.Skipf("no ptys here: %v", err)
	}
	t.Cleanup(func() { m.Close() })
	return m, path
}

// stream is what a fake device talks over: a pty master or a TCP conn.
type stream interface {
	io.ReadWriteCloser
	SetReadDeadline(time.Time) error
}

// fakeDevice plays the device's end of the framing. Its frame-reading
// methods are used by one goroutine at a time; writes may come from any.
type fakeDevice struct {
	t    *testing.T
	s    stream
	dec  *serial.Decoder
	rbuf []byte
	buf  []byte

	wmu   sync.Mutex
	txSeq uint8 // guarded by wmu
}

func newFakeDevice(t *testing.T, s stream) *fakeDevice {
	return &fakeDevice{t: t, s: s, dec: serial.NewDecoder(64 << 10), rbuf: make([]byte, 4096)}
}

func (d *fakeDevice) writeFrame(typ serial.FrameType, payload []byte) error {
	d.wmu.Lock()
	defer d.wmu.Unlock()
	_, err := d.s.Write(serial.AppendFrame(nil, typ, 0, payload, true))
	return err
}

// sendWAMP sends one WAMP message with the next sequence number.
func (d *fakeDevice) sendWAMP(msg []byte) error {
	d.wmu.Lock()
	defer d.wmu.Unlock()
	_, err := d.s.Write(serial.AppendFrame(nil, serial.FrameWAMP, d.txSeq, msg, true))
	d.txSeq++
	return err
}

// sendHandshake announces a new session, as after a (re)boot.
func (d *fakeDevice) sendHandshake(maxLen int, s transports.Serializer) error {
	d.wmu.Lock()
	d.txSeq = 0
	d.wmu.Unlock()
	h := serial.NewHandshake(maxLen, s)
	return d.writeFrame(serial.FrameHandshake, h[:])
}

// next returns the next good frame, waiting until deadline.
func (d *fakeDevice) next(deadline time.Time) (serial.Frame, error) {
	for {
		for len(d.buf) > 0 {
			n, f, ok := d.dec.Feed(d.buf)
			d.buf = d.buf[n:]
			if ok {
				f.Payload = bytes.Clone(f.Payload)
				return f, nil
			}
		}
		if err := d.s.SetReadDeadline(deadline); err != nil {
			return serial.Frame{}, err
		}
		n, err := d.s.Read(d.rbuf)
		d.buf = d.rbuf[:n]
		if err != nil && n == 0 {
			return serial.Frame{}, err
		}
	}
}

// expect waits for a frame of type typ, answering PINGs and skipping other
// frames on the way.
func (d *fakeDevice) expect(typ serial.FrameType) serial.Frame {
	d.t.Helper()
	deadline := time.Now().Add(waitTimeout)
	for {
		f, err := d.next(deadline)
		if err != nil {
			d.t.Fatalf("waiting for %v: %v", typ, err)
		}
		if f.Type == typ {
			return f
		}
		if f.Type == serial.FramePing {
			_ = d.writeFrame(serial.FramePong, f.Payload)
		}
		d.t.Logf("device skips %v frame while waiting for %v", f.Type, typ)
	}
}

// expectWAMP waits for a WAMP frame carrying want.
func (d *fakeDevice) expectWAMP(want string) {
	d.t.Helper()
	if f := d.expect(serial.FrameWAMP); string(f.Payload) != want {
		d.t.Fatalf("device got %q, want %q", f.Payload, want)
	}
}

// connect waits for the RESET a freshly opened link sends, handshakes and
// checks the gateway's reply.
func (d *fakeDevice) connect(s transports.Serializer) {
	d.t.Helper()
	d.expect(serial.FrameReset)
	d.handshake(s)
}

// handshake sends HANDSHAKE and checks the reply.
func (d *fakeDevice) handshake(s transports.Serializer) {
	d.t.Helper()
	if err := d.sendHandshake(1024, s); err != nil {
		d.t.Fatalf("send handshake: %v", err)
	}
	f := d.expect(serial.FrameHandshake)
	h, code := serial.ParseHandshake(f.Payload)
	if code != 0 || h.Code() != 0 || h.Serializer() != s {
		d.t.Fatalf("handshake reply % x: code %v/%v serializer %v", f.Payload, code, h.Code(), h.Serializer())
	}
}

// session is one conn handed to the fake attacher.
type session struct {
	conn transports.Conn
	msgs chan string
	done chan struct{}
	err  error // why it ended; set before done is closed
}

// fakeAttacher plays the router: it echoes every message as "echo:<msg>"
// before reporting it, closes the session on "bye", and records sessions in
// order.
type fakeAttacher struct {
	sessions chan *session
}

func newFakeAttacher() *fakeAttacher {
	return &fakeAttacher{sessions: make(chan *session, 64)}
}

func (a *fakeAttacher) ServeConn(c transports.Conn) {
	s := &session{conn: c, msgs: make(chan string, 64), done: make(chan struct{})}
	a.sessions <- s
	defer close(s.done)
	defer c.Close()
	for {
		b, err := c.Read()
		if err != nil {
			s.err = err
			return
		}
		m := string(b)
		if m != "bye" {
			if err := c.Write([][]byte{[]byte("echo:" + m)}); err != nil {
				s.err = err
				return
			}
		}
		// Reported after the echo is written, so a test that saw the
		// message may close the manager without losing the echo.
		select {
		case s.msgs <- m:
		default:
		}
		if m == "bye" {
			s.err = transports.ErrClosed
			return
		}
	}
}

func (a *fakeAttacher) next(t *testing.T) *session {
	t.Helper()
	select {
	case s := <-a.sessions:
		return s
	case <-time.After(waitTimeout):
		t.Fatal("no session attached")
		return nil
	}
}

func (s *session) expectMsg(t *testing.T, want string) {
	t.Helper()
	select {
	case m := <-s.msgs:
		if m != want {
			t.Fatalf("router got %q, want %q", m, want)
		}
	case <-time.After(waitTimeout):
		t.Fatalf("router did not get %q", want)
	}
}

func (s *session) waitDone(t *testing.T) error {
	t.Helper()
	select {
	case <-s.done:
		return s.err
	case <-time.After(waitTimeout):
		t.Fatal("session did not end")
		return nil
	}
}

// recorder collects OnChange events.
type recorder struct {
	ch chan devices.Event
}

func newRecorder() *recorder { return &recorder{ch: make(chan devices.Event, 256)} }

func (r *recorder) on(e devices.Event) {
	select {
	case r.ch <- e:
	default:
		panic("recorder: event buffer full")
	}
}

// expect waits for the next event of device name and checks it.
func (r *recorder) expect(t *testing.T, name string, online bool, reason devices.Reason) devices.Event {
	t.Helper()
	for {
		select {
		case e := <-r.ch:
			if e.Device != name {
				continue
			}
			if e.Online != online || e.Reason != reason {
				t.Fatalf("event %s online=%v reason=%v, want online=%v reason=%v (status %+v)", e.Device, e.Online, e.Reason, online, reason, e.Status)
			}
			if (e.Status.State == devices.StateOnline) != online {
				t.Fatalf("event online=%v with status state %v", online, e.Status.State)
			}
			return e
		case <-time.After(waitTimeout):
			t.Fatalf("no event for %s (online=%v reason=%v)", name, online, reason)
			return devices.Event{}
		}
	}
}

// fakeLister is a discovery.Lister whose ports the test sets.
type fakeLister struct {
	mu    sync.Mutex
	ports []discovery.PortInfo
	calls int
}

func (l *fakeLister) set(ports ...discovery.PortInfo) {
	l.mu.Lock()
	l.ports = ports
	l.mu.Unlock()
}

func (l *fakeLister) Ports() ([]discovery.PortInfo, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.calls++
	return append([]discovery.PortInfo(nil), l.ports...), nil
}

func (l *fakeLister) Calls() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.calls
}

// fastConfig is a manager config with short backoffs for tests.
func fastConfig(a devices.Attacher, r *recorder, devs ...devices.Device) devices.Config {
	return devices.Config{
		Devices:    devs,
		Attacher:   a,
		Lister:     &fakeLister{},
		MinBackoff: 5 * time.Millisecond,
		MaxBackoff: 40 * time.Millisecond,
		OnChange:   r.on,
	}
}

func status(t *testing.T, m *devices.Manager, name string) devices.Status {
	t.Helper()
	s, ok := m.Get(name)
	if !ok {
		t.Fatalf("device %q unknown", name)
	}
	return s
}
