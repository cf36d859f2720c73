//go:build linux

package devices_test

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wampgate/wampgate/devices"
	"github.com/wampgate/wampgate/devices/discovery"
	firmwaresim "github.com/wampgate/wampgate/firmware-sim"
	"github.com/wampgate/wampgate/gateway/client"
	"github.com/wampgate/wampgate/gateway/wamp"
	"github.com/wampgate/wampgate/transports"
	"github.com/wampgate/wampgate/transports/serial"
)

// TestE2EDeviceCallsAndEvents: a WebSocket (JSON) and a RawSocket (CBOR)
// client call the procedures of a simulated device on a pty (add, echo with
// keyword arguments, set and get) and get exact results; the device's
// temperature and humidity readings reach subscribers on both transports.
func TestE2EDeviceCallsAndEvents(t *testing.T) {
	e2eLeakCheck(t)
	pubs := firmwaresim.DefaultPublishers(40 * time.Millisecond)
	fleet := e2eFleet(t, firmwaresim.FleetConfig{Count: 1, Template: firmwaresim.DeviceConfig{
		Seed:       11,
		Publishers: pubs,
	}})
	dev := fleet.Devices()[0]
	g := startE2EGateway(t, e2eGatewayConfig{Devices: e2eDevices(fleet)})
	g.waitReady(fleet)

	ws := g.connect(g.wsURL, transports.JSON)
	raw := g.connect(g.tcpURL, transports.CBOR)
	clients := []struct {
		name string
		s    *client.Session
	}{{"websocket", ws}, {"rawsocket", raw}}

	// Subscribe first, so that readings flow while the calls run.
	type subs struct{ temp, hum *e2eCollector }
	var collectors []subs
	for _, c := range clients {
		collectors = append(collectors, subs{
			temp: e2eSubscribe(t, c.s, "dev.sim1.temp", e2eReadingCheck(pubs[0])),
			hum:  e2eSubscribe(t, c.s, "dev.sim1.hum", e2eReadingCheck(pubs[1])),
		})
	}

	for i, c := range clients {
		a, b := int64(1000*(i+1)), int64(-7*(i+1))
		e2eWantInt(t, c.name+" add", e2eMustCall(t, c.s, "dev.sim1.add", wamp.List{a, b}, nil), a+b)

		res := e2eMustCall(t, c.s, "dev.sim1.add", wamp.List{1.5, 2.25}, nil)
		if len(res.Args) != 1 || res.Args[0] != 3.75 {
			t.Errorf("%s: add(1.5, 2.25) = %#v, want [3.75]", c.name, res.Args)
		}

		args := wamp.List{"héllo", int64(42), 2.5, true, nil, wamp.List{int64(1), "two"}}
		kwargs := wamp.Dict{"unit": "°C", "n": int64(-3), "nested": map[string]any{"ok": false}}
		res = e2eMustCall(t, c.s, "dev.sim1.echo", args, kwargs)
		if !reflect.DeepEqual(res.Args, args) || !reflect.DeepEqual(res.Kwargs, kwargs) {
			t.Errorf("%s: echo returned %#v %#v, want %#v %#v", c.name, res.Args, res.Kwargs, args, kwargs)
		}
	}

	// set over one transport, get over the other.
	state := wamp.Dict{"valve": "open", "level": int64(3)}
	if res := e2eMustCall(t, ws, "dev.sim1.set", nil, state); !reflect.DeepEqual(res.Kwargs, state) || len(res.Args) != 0 {
		t.Errorf("set returned %#v %#v, want kwargs %#v", res.Args, res.Kwargs, state)
	}
	if res := e2eMustCall(t, raw, "dev.sim1.get", nil, nil); !reflect.DeepEqual(res.Kwargs, state) || len(res.Args) != 0 {
		t.Errorf("get over rawsocket returned %#v %#v, want kwargs %#v", res.Args, res.Kwargs, state)
	}
	if got := dev.State(); !reflect.DeepEqual(got, state) {
		t.Errorf("device state %#v, want %#v", got, state)
	}
	e2eMustCall(t, raw, "dev.sim1.set", wamp.List{"closed"}, nil)
	if res := e2eMustCall(t, ws, "dev.sim1.get", nil, nil); !reflect.DeepEqual(res.Args, wamp.List{"closed"}) || len(res.Kwargs) != 0 {
		t.Errorf("get over websocket returned %#v %#v, want [closed]", res.Args, res.Kwargs)
	}

	// An unknown procedure of the device is an ERROR, not a hang.
	if _, err := e2eCall(ws, "dev.sim1.nope", nil, nil); err == nil {
		t.Error("call to dev.sim1.nope succeeded")
	} else if uri, ok := e2eWAMPError(err); !ok || uri != wamp.ErrNoSuchProcedure {
		t.Errorf("call to dev.sim1.nope: %v, want %s", err, wamp.ErrNoSuchProcedure)
	}

	for i, c := range collectors {
		e2eEventually(t, clients[i].name+" to receive temp and hum readings", func() bool {
			return c.temp.count() >= 3 && c.hum.count() >= 3
		})
		for _, col := range []*e2eCollector{c.temp, c.hum} {
			if bad := col.corrupted(); len(bad) > 0 {
				t.Errorf("%s: bad events:\n%s", clients[i].name, strings.Join(bad, "\n"))
			}
		}
	}
	st := g.status("sim1")
	if st.State != devices.StateOnline || st.Sessions != 1 || st.Handshakes != 1 || st.Resets != 0 || st.Path != dev.Path() {
		t.Errorf("status %+v, want online with one session on %s", st, dev.Path())
	}
	if st.CRCDrops+st.COBSDrops+st.OtherDrops+st.SeqGaps != 0 || st.FramesIn == 0 || st.FramesOut == 0 {
		t.Errorf("clean line: status %+v, want frames both ways and no drop", st)
	}
	if ds := dev.Stats(); ds.Calls < 10 || ds.Sessions != 1 {
		t.Errorf("device stats: %d calls, %d sessions; want >= 10 calls in one session", ds.Calls, ds.Sessions)
	}
}

// TestE2EDevice20Devices: twenty devices come online together, and each
// answers the call addressed to it by its prefix, all calls in flight at
// once.
func TestE2EDevice20Devices(t *testing.T) {
	e2eLeakCheck(t)
	const n = 20
	fleet := e2eFleet(t, firmwaresim.FleetConfig{Count: n, Template: firmwaresim.DeviceConfig{
		Seed:       100,
		Publishers: []firmwaresim.Publisher{},
	}})
	g := startE2EGateway(t, e2eGatewayConfig{Devices: e2eDevices(fleet)})
	g.waitReady(fleet)
	sessions := []*client.Session{g.connect(g.wsURL, transports.JSON), g.connect(g.tcpURL, transports.CBOR)}

	errs := make(chan error, n)
	var wg sync.WaitGroup
	for i := 1; i <= n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			a, b := int64(i), int64(1000*i)
			res, err := e2eCall(sessions[i%2], fmt.Sprintf("dev.sim%d.add", i), wamp.List{a, b}, nil)
			if err == nil {
				err = e2eCheckInt(res, a+b)
			}
			if err != nil {
				errs <- fmt.Errorf("sim%d: %w", i, err)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	// Each call reached its own device and no other.
	for _, d := range fleet.Devices() {
		if c := d.Stats().Calls; c != 1 {
			t.Errorf("device %s handled %d calls, want 1", d.Name(), c)
		}
		if st := g.status(d.Name()); st.State != devices.StateOnline || st.Sessions != 1 {
			t.Errorf("device %s: status %v with %d sessions", d.Name(), st.State, st.Sessions)
		}
	}
}

// TestE2EDeviceNoisyLine: bit errors (1e-4) and garbage bursts on both
// directions of the lines of two devices, one in the default strict mode
// (a lost frame resets the session) and one lenient on both ends (lost
// frames are counted and the session goes on; a call whose INVOCATION or
// YIELD is lost ends with the router's call timeout). Hundreds of calls
// with distinct arguments and a stream of readings: every call returns the
// right sum or fails with an ERROR, never a wrong value, and every reading
// that arrives is intact. The counters on both sides show that noise was
// injected and caught.
func TestE2EDeviceNoisyLine(t *testing.T) {
	e2eLeakCheck(t)
	noise := firmwaresim.LineFaults{BitErrorRate: 1e-4, GarbageRate: 2e-4, GarbageLen: 12}
	pubs := firmwaresim.DefaultPublishers(250 * time.Millisecond)
	base := firmwaresim.DeviceConfig{
		Publishers: pubs,
		Procedures: []firmwaresim.Procedure{{Name: firmwaresim.KindAdd}},
		Faults:     firmwaresim.FaultConfig{TX: noise, RX: noise},
		// A HELLO of a few hundred bytes is lost about every third time:
		// give up on a join soon and handshake again.
		JoinTimeout:    500 * time.Millisecond,
		HandshakeRetry: []time.Duration{50 * time.Millisecond, 100 * time.Millisecond, 200 * time.Millisecond},
	}
	strictCfg, lenientCfg := base, base
	strictCfg.Name, strictCfg.Seed = "strict", 7
	lenientCfg.Name, lenientCfg.Seed, lenientCfg.Lenient = "lenient", 8, true
	fleet := e2eFleet(t, firmwaresim.FleetConfig{Devices: []firmwaresim.DeviceConfig{strictCfg, lenientCfg}})
	devs := e2eDevices(fleet)
	for i := range devs {
		devs[i].PingInterval = 500 * time.Millisecond
		devs[i].Lenient = fleet.Devices()[i].Config().Lenient
	}
	g := startE2EGateway(t, e2eGatewayConfig{Devices: devs})
	g.waitReady(fleet)
	ws := g.connect(g.wsURL, transports.JSON)
	raw := g.connect(g.tcpURL, transports.CBOR)
	var cols []*e2eCollector
	for _, s := range []*client.Session{ws, raw} {
		for _, d := range fleet.Devices() {
			for _, p := range pubs {
				cols = append(cols, e2eSubscribe(t, s, "dev."+d.Name()+"."+p.Topic, e2eReadingCheck(p)))
			}
		}
	}

	type tally struct {
		ok, failedERROR, failedOther, wrong int
		errURIs                             map[string]int
		wrongs                              []string
	}
	var mu sync.Mutex
	tallies := map[string]*tally{}
	for _, d := range fleet.Devices() {
		tallies[d.Name()] = &tally{errURIs: map[string]int{}}
	}
	const calls, workers = 300, 4
	var next atomic.Int64
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s := []*client.Session{ws, raw}[w%2]
			for {
				i := next.Add(1)
				if i > calls {
					return
				}
				dev := fleet.Devices()[i%2]
				a, b := i, 1_000_003*i
				ctx, cancel := context.WithTimeout(context.Background(), e2eWait)
				// The router's call timeout answers a call whose
				// INVOCATION or YIELD was lost with an ERROR.
				res, err := s.Call(ctx, "dev."+dev.Name()+".add", wamp.List{a, b}, nil, wamp.Dict{"timeout": 1000})
				cancel()
				mu.Lock()
				tl := tallies[dev.Name()]
				uri := ""
				switch {
				case err == nil:
					if cerr := e2eCheckInt(res, a+b); cerr != nil {
						tl.wrong++
						tl.wrongs = append(tl.wrongs, fmt.Sprintf("%s add(%d, %d): %v", dev.Name(), a, b, cerr))
					} else {
						tl.ok++
					}
				default:
					var isERROR bool
					if uri, isERROR = e2eWAMPError(err); isERROR {
						tl.failedERROR++
					} else {
						tl.failedOther++
						uri = "(not an ERROR) " + err.Error()
					}
					tl.errURIs[uri]++
				}
				mu.Unlock()
				if uri == wamp.ErrNoSuchProcedure {
					// The device is joining again after a reset: give
					// it a moment rather than burning calls.
					waitReadyOrTimeout(dev, time.Second)
				}
			}
		}()
	}
	wg.Wait()
	// Readings keep flowing for a while after the calls.
	e2eEventually(t, "readings to arrive", func() bool {
		for _, c := range cols {
			if c.count() < 10 {
				return false
			}
		}
		return true
	})

	events := 0
	for _, c := range cols {
		events += c.count()
		if bad := c.corrupted(); len(bad) > 0 {
			t.Errorf("corrupted events:\n%s", strings.Join(bad, "\n"))
		}
	}
	t.Logf("%d events received", events)
	for _, d := range fleet.Devices() {
		name, tl := d.Name(), tallies[d.Name()]
		st, ds := g.status(name), d.Stats()
		var devDrops uint64
		for _, n := range ds.Link.Dropped {
			devDrops += n
		}
		t.Logf("%s: calls %d ok, %d failed with ERROR, %d failed otherwise, %d wrong; errors %v",
			name, tl.ok, tl.failedERROR, tl.failedOther, tl.wrong, tl.errURIs)
		t.Logf("%s: gateway link: crc_drops %d cobs_drops %d other_drops %d seq_gaps %d resets %d resets_sent %d sessions %d bytes_in %d",
			name, st.CRCDrops, st.COBSDrops, st.OtherDrops, st.SeqGaps, st.Resets, st.ResetsSent, st.Sessions, st.BytesIn)
		t.Logf("%s: device: injected tx %+v rx %+v; dropped %v; seq gaps %d; WAMP sessions %d; readings published %d",
			name, ds.Link.Faults.TX, ds.Link.Faults.RX, ds.Link.Dropped, ds.Link.SeqGaps, ds.Sessions, ds.Events)

		if tl.wrong != 0 {
			t.Errorf("%s: %d calls returned a wrong value:\n%s", name, tl.wrong, strings.Join(tl.wrongs, "\n"))
		}
		if tl.failedOther != 0 {
			t.Errorf("%s: %d calls failed without a WAMP ERROR (a hang until the client's deadline, or a transport failure)", name, tl.failedOther)
		}
		if tl.ok < calls/2/4 {
			t.Errorf("%s: only %d of %d calls succeeded: the noise is too strong for this test to mean much", name, tl.ok, calls/2)
		}
		// The noise was injected both ways... (The faults are drawn per
		// byte from seeded sources, so the counts barely vary from run
		// to run; garbage bursts are rare enough that one direction may
		// see none.)
		f := ds.Link.Faults
		if f.TX.BitErrors+f.TX.GarbageBursts == 0 || f.RX.BitErrors+f.RX.GarbageBursts == 0 || f.TX.GarbageBursts+f.RX.GarbageBursts == 0 {
			t.Errorf("%s: faults injected: tx %+v rx %+v, want noise both ways and some garbage", name, f.TX, f.RX)
		}
		// ...and caught both ways.
		if st.CRCDrops+st.COBSDrops == 0 {
			t.Errorf("%s: the gateway dropped no damaged frame (crc %d, cobs %d)", name, st.CRCDrops, st.COBSDrops)
		}
		if devDrops == 0 {
			t.Errorf("%s: the device dropped no damaged frame: %v", name, ds.Link.Dropped)
		}
	}
}

// waitReadyOrTimeout waits until d is ready or for at most dur.
func waitReadyOrTimeout(d *firmwaresim.Device, dur time.Duration) {
	ctx, cancel := context.WithTimeout(context.Background(), dur)
	defer cancel()
	_ = d.WaitReady(ctx)
}

// TestE2EDeviceRebootMidFrame: the device reboots in the middle of a frame
// while a call to it is pending. The call fails at once with an ERROR (the
// procedure would take 30 s), the gateway ends the session with
// "device_reset", the device handshakes and registers again, and calls work.
func TestE2EDeviceRebootMidFrame(t *testing.T) {
	e2eLeakCheck(t)
	const slow = 30 * time.Second
	fleet := e2eFleet(t, firmwaresim.FleetConfig{Count: 1, Template: firmwaresim.DeviceConfig{
		Seed:       21,
		Procedures: firmwaresim.DefaultProcedures(slow),
		Publishers: []firmwaresim.Publisher{},
	}})
	dev := fleet.Devices()[0]
	g := startE2EGateway(t, e2eGatewayConfig{Devices: e2eDevices(fleet)})
	g.waitReady(fleet)
	raw := g.connect(g.tcpURL, transports.CBOR)
	e2eWantInt(t, "add before the reboot", e2eMustCall(t, raw, "dev.sim1.add", wamp.List{int64(2), int64(3)}, nil), 5)
	before := g.status("sim1")
	calls := dev.Stats().Calls

	type outcome struct {
		err  error
		took time.Duration
	}
	done := make(chan outcome, 1)
	start := time.Now()
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*slow)
		defer cancel()
		_, err := raw.Call(ctx, "dev.sim1.slow", wamp.List{"pending"}, nil, nil)
		done <- outcome{err, time.Since(start)}
	}()
	e2eEventually(t, "the slow call to reach the device", func() bool { return dev.Stats().Calls > calls })
	if err := dev.Inject(firmwaresim.FaultReboot); err != nil {
		t.Fatalf("inject reboot: %v", err)
	}
	select {
	case o := <-done:
		uri, isERROR := e2eWAMPError(o.err)
		if !isERROR {
			t.Fatalf("pending call ended with %v, want a WAMP ERROR", o.err)
		}
		t.Logf("pending call failed after %v with %s", o.took.Round(time.Millisecond), uri)
	case <-time.After(e2eWait):
		t.Fatalf("the pending call did not fail within %v of the reboot (it hangs)", e2eWait)
	}
	g.waitEvent("sim1", 0, false, devices.ReasonDeviceReset)
	e2eWaitRegistrations(t, dev, 2)
	e2eWantInt(t, "add after the reboot", e2eMustCall(t, raw, "dev.sim1.add", wamp.List{int64(40), int64(2)}, nil), 42)

	st := g.status("sim1")
	if st.State != devices.StateOnline || st.Resets != before.Resets+1 || st.Sessions != 2 || st.Handshakes != 2 || st.Reconnects != 0 {
		t.Errorf("status after the reboot %+v, want online, one reset, two sessions, no reconnect", st)
	}
	if drops := st.CRCDrops + st.COBSDrops + st.OtherDrops; drops <= before.CRCDrops+before.COBSDrops+before.OtherDrops {
		t.Errorf("the gateway dropped no frame for the half frame the reboot cut (drops %d)", drops)
	}
	ds := dev.Stats()
	if ds.Reboots != 1 || ds.Link.Faults.CutFrames != 1 || ds.Sessions != 2 {
		t.Errorf("device stats: reboots %d cut frames %d sessions %d, want 1, 1, 2", ds.Reboots, ds.Link.Faults.CutFrames, ds.Sessions)
	}
}

// replugLister is the fake USB enumeration of the unplug test: one adapter,
// at the path its simulated device was last plugged in under, or none.
type replugLister struct {
	match    discovery.USBMatch
	mu       sync.Mutex
	path     string // "" while unplugged
	replugs  []string
	listings int
}

func (l *replugLister) Ports() ([]discovery.PortInfo, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.listings++
	ports := []discovery.PortInfo{
		// Another adapter of the same model, which must not be chosen.
		{Path: "/dev/ttyUSB-e2e-other", VID: l.match.VID, PID: l.match.PID, Serial: "OTHER"},
	}
	if l.path != "" {
		ports = append(ports, discovery.PortInfo{Path: l.path, VID: l.match.VID, PID: l.match.PID, Serial: l.match.Serial})
	}
	return ports, nil
}

func (l *replugLister) set(path string) {
	l.mu.Lock()
	l.path = path
	l.mu.Unlock()
}

// onReplug is the simulator's OnReplug: the adapter shows up again.
func (l *replugLister) onReplug(_ *firmwaresim.Device, path string) {
	l.mu.Lock()
	l.path = path
	l.replugs = append(l.replugs, path)
	l.mu.Unlock()
}

func (l *replugLister) replugged() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.replugs...)
}

// TestE2EDeviceUnplugReplug: the device is unplugged (its pty goes away)
// and comes back as a new pty; the manager, which finds it by USB IDs
// through the discovery lister, reopens it. The session ends with
// "unplugged", the reconnect is counted and calls work again.
func TestE2EDeviceUnplugReplug(t *testing.T) {
	e2eLeakCheck(t)
	lister := &replugLister{match: discovery.USBMatch{VID: 0x0403, PID: 0x6001, Serial: "E2E5"}}
	fleet := e2eFleet(t, firmwaresim.FleetConfig{Count: 1, Template: firmwaresim.DeviceConfig{
		Seed:       31,
		Procedures: firmwaresim.DefaultProcedures(30 * time.Second),
		Publishers: []firmwaresim.Publisher{},
		Faults:     firmwaresim.FaultConfig{UnplugFor: 300 * time.Millisecond},
		OnReplug:   lister.onReplug,
	}})
	dev := fleet.Devices()[0]
	first := dev.Path()
	lister.set(first)
	d := e2eDevice(dev)
	d.Port, d.USB = "", &lister.match
	g := startE2EGateway(t, e2eGatewayConfig{Devices: []devices.Device{d}, Lister: lister})
	g.waitReady(fleet)
	ws := g.connect(g.wsURL, transports.JSON)
	e2eWantInt(t, "add before the unplug", e2eMustCall(t, ws, "dev.sim1.add", wamp.List{int64(1), int64(2)}, nil), 3)
	if st := g.status("sim1"); st.Path != first || st.Reconnects != 0 {
		t.Fatalf("status before the unplug: path %q reconnects %d, want %q and 0", st.Path, st.Reconnects, first)
	}

	// A call is pending when the adapter is pulled: it fails at once.
	calls := dev.Stats().Calls
	pending := make(chan error, 1)
	go func() {
		_, err := e2eCall(ws, "dev.sim1.slow", wamp.List{"pending"}, nil)
		pending <- err
	}()
	e2eEventually(t, "the slow call to reach the device", func() bool { return dev.Stats().Calls > calls })

	// The adapter vanishes from the enumeration as the pty goes away.
	skip := len(g.eventsOf("sim1"))
	lister.set("")
	if err := dev.Inject(firmwaresim.FaultUnplug); err != nil {
		t.Fatalf("inject unplug: %v", err)
	}
	select {
	case err := <-pending:
		if uri, ok := e2eWAMPError(err); !ok {
			t.Errorf("pending call ended with %v, want a WAMP ERROR", err)
		} else {
			t.Logf("pending call failed with %s", uri)
		}
	case <-time.After(e2eWait):
		t.Fatal("the pending call did not fail when the device was unplugged")
	}
	off := g.waitEvent("sim1", skip, false, devices.ReasonUnplugged)
	if off.Status.Reason != devices.ReasonUnplugged || off.Status.Reason.String() != "unplugged" {
		t.Errorf("offline event status reason %q, want unplugged", off.Status.Reason)
	}
	e2eEventually(t, "the device to be plugged in again", func() bool { return len(lister.replugged()) == 1 })
	second := lister.replugged()[0]
	g.waitEvent("sim1", skip, true, devices.ReasonNone)
	e2eWaitRegistrations(t, dev, 2)
	e2eWantInt(t, "add after the replug", e2eMustCall(t, ws, "dev.sim1.add", wamp.List{int64(20), int64(22)}, nil), 42)

	st := g.status("sim1")
	t.Logf("pty before %s, after %s (the kernel may reuse the number); %d port listings", first, second, lister.listings)
	// The gateway may open the new pty before the device's boot HANDSHAKE
	// goes out, and then answers that one and the one after its RESET:
	// a third, short session is the protocol at work, not a fault.
	if st.Path != second || st.Reconnects != 1 || st.State != devices.StateOnline || st.Sessions < 2 {
		t.Errorf("status after the replug: %+v, want online on %s with 1 reconnect and at least 2 sessions", st, second)
	}
	if ds := dev.Stats(); ds.Unplugs != 1 || ds.Sessions != 2 {
		t.Errorf("device stats: %d unplugs, %d sessions; want 1 and 2", ds.Unplugs, ds.Sessions)
	}
}

// TestE2EDeviceGatewayRestart: the router and the manager stop while the
// devices keep running; a new router and manager open the same ptys, and
// the RESET the gateway sends on opening a port makes the devices handshake
// and join again. The devices' own HANDSHAKE retry is set to a minute, so
// only the RESET can bring them back within the test's deadline.
func TestE2EDeviceGatewayRestart(t *testing.T) {
	e2eLeakCheck(t)
	fleet := e2eFleet(t, firmwaresim.FleetConfig{Count: 3, Template: firmwaresim.DeviceConfig{
		Seed:           41,
		Publishers:     []firmwaresim.Publisher{},
		HandshakeRetry: []time.Duration{time.Minute},
	}})
	devs := e2eDevices(fleet)
	g1 := startE2EGateway(t, e2eGatewayConfig{Devices: devs})
	g1.waitReady(fleet)
	s1 := g1.connect(g1.tcpURL, transports.CBOR)
	for i := range 3 {
		e2eWantInt(t, "first gateway", e2eMustCall(t, s1, fmt.Sprintf("dev.sim%d.add", i+1), wamp.List{int64(i), int64(10)}, nil), int64(i+10))
	}
	resets := map[string]uint64{}
	for _, d := range fleet.Devices() {
		resets[d.Name()] = d.Stats().Link.ResetsReceived
	}

	g1.stop()
	<-s1.Done()
	for _, d := range fleet.Devices() {
		e2eEventually(t, d.Name()+" to lose its session", func() bool { return !d.Stats().Ready })
		if st := g1.status(d.Name()); st.State != devices.StateOffline || st.Reason != devices.ReasonShutdown {
			t.Errorf("%s after the first gateway stopped: %v (%v)", d.Name(), st.State, st.Reason)
		}
	}

	g2 := startE2EGateway(t, e2eGatewayConfig{Devices: devs})
	for _, d := range fleet.Devices() {
		e2eWaitRegistrations(t, d, 2)
	}
	s2 := g2.connect(g2.wsURL, transports.JSON)
	for i, d := range fleet.Devices() {
		e2eWantInt(t, "second gateway", e2eMustCall(t, s2, fmt.Sprintf("dev.sim%d.add", i+1), wamp.List{int64(i), int64(100)}, nil), int64(i+100))
		if got := d.Stats().Link.ResetsReceived; got <= resets[d.Name()] {
			t.Errorf("%s received no RESET across the restart (%d before, %d after)", d.Name(), resets[d.Name()], got)
		}
		// A HANDSHAKE the device sent as the first gateway went away may
		// still be on its way when the second opens the pty and be
		// answered too: the second gateway then counts a device reset and
		// an extra short session. Hence ">= 1".
		st := g2.status(d.Name())
		if st.State != devices.StateOnline || st.Sessions < 1 || st.ResetsSent == 0 {
			t.Errorf("%s on the second gateway: %v, %d sessions, %d resets sent", d.Name(), st.State, st.Sessions, st.ResetsSent)
		}
		if ds := d.Stats(); ds.Sessions != 2 {
			t.Errorf("%s joined %d times, want once per gateway", d.Name(), ds.Sessions)
		}
	}
}

// TestE2EDeviceWrongSerializer: a device announcing a serializer the
// gateway does not speak gets handshake error octet 1 (serializer
// unsupported) at every attempt; it never joins, and its port stays open.
// A good device on the same gateway is unaffected.
func TestE2EDeviceWrongSerializer(t *testing.T) {
	e2eLeakCheck(t)
	fleet := e2eFleet(t, firmwaresim.FleetConfig{Devices: []firmwaresim.DeviceConfig{
		{Name: "good", Seed: 51, Publishers: []firmwaresim.Publisher{}},
		{
			Name: "bad", Seed: 52, Publishers: []firmwaresim.Publisher{},
			Faults:         firmwaresim.FaultConfig{WrongSerializer: 15},
			HandshakeRetry: []time.Duration{50 * time.Millisecond},
		},
	}})
	good, bad := fleet.Device("good"), fleet.Device("bad")
	g := startE2EGateway(t, e2eGatewayConfig{Devices: e2eDevices(fleet)})
	const attempts = 4
	e2eEventually(t, "the bad device to be refused several times", func() bool {
		return bad.Stats().Link.HandshakeErrors >= attempts && g.status("bad").HandshakeErrors >= attempts
	})
	ctx, cancel := context.WithTimeout(context.Background(), e2eWait)
	defer cancel()
	if err := good.WaitReady(ctx); err != nil {
		t.Fatalf("good device: %v", err)
	}
	raw := g.connect(g.tcpURL, transports.CBOR)
	e2eWantInt(t, "good device", e2eMustCall(t, raw, "dev.good.add", wamp.List{int64(3), int64(4)}, nil), 7)
	if _, err := e2eCall(raw, "dev.bad.add", wamp.List{int64(3), int64(4)}, nil); err == nil {
		t.Error("a call to the refused device succeeded")
	}

	bs := bad.Stats()
	if bs.Link.LastHandshakeError != serial.CodeSerializerUnsupported || byte(bs.Link.LastHandshakeError) != 1 {
		t.Errorf("device got handshake error %d (%v), want octet 1", bs.Link.LastHandshakeError, bs.Link.LastHandshakeError)
	}
	if bs.Link.Sessions != 0 || bs.Sessions != 0 || bs.Ready {
		t.Errorf("refused device: %d link sessions, %d WAMP sessions, ready %v; want none", bs.Link.Sessions, bs.Sessions, bs.Ready)
	}
	st := g.status("bad")
	t.Logf("bad device: %d handshake errors on the gateway, %d on the device", st.HandshakeErrors, bs.Link.HandshakeErrors)
	if st.State != devices.StateConnecting || st.Handshakes != 0 || st.Sessions != 0 || st.Reconnects != 0 || st.Path != bad.Path() {
		t.Errorf("refused device status %+v, want connecting on %s (port open) with no session and no reopen", st, bad.Path())
	}
	if len(g.eventsOf("bad")) != 0 {
		t.Errorf("refused device went online/offline: %+v", g.eventsOf("bad"))
	}
}

// e2eNonRootEnv carries the pty path to the test binary re-executed as
// nobody.
const e2eNonRootEnv = "WAMPGATE_E2E_NONROOT_PTY"

// e2eNobody is the uid and gid of nobody.
const e2eNobody = 65534

// TestE2EDeviceNonRoot: when the tests run as root, which ignores the
// permission bits of ttys, the test binary re-executes itself as nobody
// (setpriv) and runs the gateway (router, RawSocket listener, manager) and
// a client there; a simulated device on a pty handed to nobody answers the
// client's call through it.
func TestE2EDeviceNonRoot(t *testing.T) {
	if path := os.Getenv(e2eNonRootEnv); path != "" {
		e2eNonRootChild(t, path)
		return
	}
	if os.Getuid() != 0 {
		t.Skip("not running as root: nothing to drop (the other end-to-end tests already run unprivileged)")
	}
	setpriv, err := exec.LookPath("setpriv")
	if err != nil {
		t.Skipf("running as root without setpriv, cannot drop to nobody: %v", err)
	}
	bin, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	// Under qemu-user the test binary of a foreign architecture cannot be
	// started directly.
	if err := exec.Command(bin, "-test.run=^$").Run(); err != nil {
		var ee *exec.ExitError
		if !errors.As(err, &ee) {
			t.Skipf("cannot re-execute the test binary (foreign architecture under qemu-user?): %v", err)
		}
	}
	wrap := []string{setpriv, fmt.Sprintf("--reuid=%d", e2eNobody), fmt.Sprintf("--regid=%d", e2eNobody), "--clear-groups"}
	if out, err := exec.Command(wrap[0], append(wrap[1:], "true")...).CombinedOutput(); err != nil {
		t.Skipf("setpriv cannot drop to nobody here: %v: %s", err, out)
	}

	e2eLeakCheck(t)
	fleet := e2eFleet(t, firmwaresim.FleetConfig{Count: 1, NamePrefix: "nr", Template: firmwaresim.DeviceConfig{
		Seed: 61, Publishers: []firmwaresim.Publisher{},
	}})
	dev := fleet.Devices()[0]
	if err := os.Chown(dev.Path(), e2eNobody, e2eNobody); err != nil {
		t.Skipf("cannot hand the pty to nobody: %v", err)
	}
	if err := os.Chmod(dev.Path(), 0o600); err != nil {
		t.Fatal(err)
	}
	// The test binary may sit where only root may enter: give nobody a
	// copy, in a directory of its own right under the temp directory
	// (t.TempDir nests in a directory only root may enter).
	dir, err := os.MkdirTemp("", "wampgate-e2e-nonroot-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	child := filepath.Join(dir, "devices.test")
	if err := e2eCopyFile(bin, child); err != nil {
		t.Fatal(err)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 3*e2eWait)
	defer cancel()
	args := append(wrap, child, "-test.run=^TestE2EDeviceNonRoot$", "-test.count=1", "-test.v")
	cmd := exec.CommandContext(ctx, args[0], args[1:]...)
	cmd.Dir = os.TempDir()
	cmd.Env = append(os.Environ(), e2eNonRootEnv+"="+dev.Path(), "GOCOVERDIR=")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err = cmd.Run()
	if err != nil {
		t.Fatalf("child as nobody failed: %v\n%s", err, out.String())
	}
	var result string
	sc := bufio.NewScanner(bytes.NewReader(out.Bytes()))
	for sc.Scan() {
		if strings.HasPrefix(strings.TrimSpace(sc.Text()), "e2e-nonroot:") {
			result = strings.TrimSpace(sc.Text())
		}
	}
	want := fmt.Sprintf("e2e-nonroot: uid %d add(20, 22) = 42", e2eNobody)
	if result != want {
		t.Fatalf("child reported %q, want %q\n%s", result, want, out.String())
	}
	if c := dev.Stats().Calls; c < 1 {
		t.Errorf("the device handled %d calls", c)
	}
	t.Log(result)
}

// e2eNonRootChild is the unprivileged side: the gateway on path and a call
// through it.
func e2eNonRootChild(t *testing.T, path string) {
	if os.Getuid() == 0 {
		t.Fatal("the child still runs as root")
	}
	e2eLeakCheck(t)
	d := devices.Device{Name: "nr1", Port: path, Realm: e2eRealm, Prefix: "dev.nr1."}
	g := startE2EGateway(t, e2eGatewayConfig{Devices: []devices.Device{d}})
	s := g.connect(g.tcpURL, transports.CBOR)
	// The device lives in the parent: poll until its registration shows.
	var res *client.Result
	e2eEventually(t, "the device's add procedure", func() bool {
		r, err := e2eCall(s, "dev.nr1.add", wamp.List{int64(20), int64(22)}, nil)
		if uri, _ := e2eWAMPError(err); err != nil && uri != wamp.ErrNoSuchProcedure {
			t.Fatalf("call: %v", err)
		}
		res = r
		return err == nil
	})
	e2eWantInt(t, "add as nobody", res, 42)
	if st := g.status("nr1"); st.State != devices.StateOnline || st.Path != path {
		t.Fatalf("status %+v", st)
	}
	fmt.Printf("e2e-nonroot: uid %d add(20, 22) = 42\n", os.Getuid())
}

func e2eCopyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o755)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
