package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"reflect"
	"sort"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/wampgate/wampgate/devices"
	"github.com/wampgate/wampgate/gateway"
	"github.com/wampgate/wampgate/gateway/client"
	"github.com/wampgate/wampgate/gateway/config"
	"github.com/wampgate/wampgate/gateway/wamp"
	"github.com/wampgate/wampgate/transports"
	"github.com/wampgate/wampgate/transports/inproc"
)

// Device meta API URIs, published in each device's realm.
const (
	procDeviceList   = "wampgate.device.list"
	procDeviceGet    = "wampgate.device.get"
	topicDeviceOn    = "wampgate.device.on_online"
	topicDeviceOff   = "wampgate.device.on_offline"
	errNoSuchDevice  = "wampgate.error.no_such_device"
	systemAuthID     = "wampgate"
	systemAuthRole   = "wampgate.system"
	deviceOutQueue   = 64 << 10
	deviceDefaultTTY = 115200
)

// deviceFromConfig converts a configured device.
func deviceFromConfig(d config.Device) devices.Device {
	out := devices.Device{
		Name: d.Name, Port: d.Port, TCP: d.TCP, Realm: d.Realm, AuthID: d.AuthID, AuthRole: d.Role,
		Prefix: d.Prefix, Baud: d.Baud, DataBits: d.DataBits, Parity: d.Parity, StopBits: d.StopBits,
		RTSCTS: d.RTSCTS, Lenient: d.Lenient, MaxMessage: int(d.MaxMessage),
		PingInterval: time.Duration(d.PingInterval),
	}
	if d.PingInterval == 0 {
		out.PingInterval = -1 // config: 0 disables; devices: negative disables
	}
	if d.USB != nil {
		out.USB = &devices.USBMatch{VID: d.USB.VID, PID: d.USB.PID, Serial: d.USB.Serial}
	}
	return out
}

// trustedConn marks the gateway's own in-process sessions.
type trustedConn struct{ transports.Conn }

func (c trustedConn) Info() transports.Info {
	i := c.Conn.Info()
	i.Trusted, i.AuthID, i.AuthRole, i.Kind = true, systemAuthID, systemAuthRole, "internal"
	return i
}

// deviceService runs the device manager and, in every realm with devices,
// an internal session that answers wampgate.device.list/get and publishes
// wampgate.device.on_online/on_offline.
type deviceService struct {
	mgr      *devices.Manager
	log      *slog.Logger
	router   *gateway.Router
	mu       sync.Mutex
	sessions map[string]*client.Session // by realm
	applied  map[string]devices.Device  // owned by the serve loop (start, SIGHUP)
	wg       sync.WaitGroup
}

func startDevices(ctx context.Context, router *gateway.Router, realmNames []string, devs []devices.Device, log *slog.Logger) (*deviceService, error) {
	ds := &deviceService{log: log, router: router, sessions: map[string]*client.Session{}}
	realms := map[string]bool{}
	for _, r := range realmNames {
		realms[r] = true
	}
	for _, d := range devs {
		realms[d.Realm] = true
	}
	for realm := range realms {
		if err := ds.joinRealm(ctx, realm); err != nil {
			ds.close()
			return nil, err
		}
	}
	ds.mgr = devices.New(devices.Config{
		Devices:  devs,
		Attacher: router,
		Logger:   log,
		OnChange: ds.publish,
	})
	ds.mgr.Start()
	ds.applied = map[string]devices.Device{}
	for _, d := range devs {
		ds.applied[d.Name] = d
	}
	return ds, nil
}

// apply brings the supervised devices in line with a reloaded config:
// removed or changed devices are stopped (they get RESET), new and changed
// ones are started. Devices whose settings did not change keep running.
func (ds *deviceService) apply(want []devices.Device) {
	next := map[string]devices.Device{}
	for _, d := range want {
		next[d.Name] = d
	}
	for name, d := range ds.applied {
		if nd, ok := next[name]; !ok || !reflect.DeepEqual(d, nd) {
			if err := ds.mgr.Remove(name); err != nil {
				ds.log.Warn("cannot remove device", "device", name, "err", err)
			}
			delete(ds.applied, name)
		}
	}
	for name, d := range next {
		if _, ok := ds.applied[name]; ok {
			continue
		}
		ds.mu.Lock()
		_, joined := ds.sessions[d.Realm]
		ds.mu.Unlock()
		if !joined {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			err := ds.joinRealm(ctx, d.Realm)
			cancel()
			if err != nil {
				ds.log.Warn("device service unavailable in realm", "realm", d.Realm, "err", err)
			}
		}
		if err := ds.mgr.Add(d); err != nil {
			ds.log.Warn("cannot add device", "device", name, "err", err)
			continue
		}
		ds.applied[name] = d
	}
}

// joinRealm opens the internal session of a realm and registers the device
// procedures there.
func (ds *deviceService) joinRealm(ctx context.Context, realm string) error {
	c, srv := inproc.Pipe(transports.CBOR)
	ds.wg.Add(1)
	go func() {
		defer ds.wg.Done()
		ds.router.ServeConn(trustedConn{srv})
	}()
	s, err := client.Join(ctx, c, realm, client.Options{Agent: "wampgate-devices", Logger: ds.log})
	if err != nil {
		c.Close()
		return fmt.Errorf("device service in realm %s: %w", realm, err)
	}
	_, err = s.Register(ctx, procDeviceList, nil, func(context.Context, *client.Invocation) (*client.Result, error) {
		list := []any{}
		for _, d := range ds.mgr.ListDict(realm) {
			list = append(list, map[string]any(d))
		}
		return &client.Result{Args: wamp.List{list}}, nil
	})
	if err == nil {
		_, err = s.Register(ctx, procDeviceGet, nil, func(_ context.Context, inv *client.Invocation) (*client.Result, error) {
			name, _ := firstString(inv.Args)
			d, ok := ds.mgr.GetDict(name)
			if !ok || (realm != "" && d["realm"] != realm) {
				return nil, &client.Error{URI: errNoSuchDevice, Args: wamp.List{"no device named " + name + " in this realm"}}
			}
			return &client.Result{Args: wamp.List{map[string]any(d)}}, nil
		})
	}
	if err != nil {
		s.Close()
		return fmt.Errorf("device service in realm %s: %w", realm, err)
	}
	ds.mu.Lock()
	ds.sessions[realm] = s
	ds.mu.Unlock()
	return nil
}

func firstString(args wamp.List) (string, bool) {
	if len(args) == 0 {
		return "", false
	}
	s, ok := args[0].(string)
	return s, ok
}

// publish announces a device going online or offline in its realm.
func (ds *deviceService) publish(e devices.Event) {
	ds.mu.Lock()
	s := ds.sessions[e.Realm]
	ds.mu.Unlock()
	if s == nil {
		return
	}
	topic := topicDeviceOff
	if e.Online {
		topic = topicDeviceOn
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := s.Publish(ctx, topic, wamp.List{map[string]any(devices.EventDict(e))}, nil, nil); err != nil && !errors.Is(err, client.ErrClosed) {
		ds.log.Warn("cannot publish device event", "device", e.Device, "err", err)
	}
}

// close stops the devices (they get RESET), then the internal sessions.
func (ds *deviceService) close() {
	if ds.mgr != nil {
		_ = ds.mgr.Close()
	}
	ds.mu.Lock()
	for _, s := range ds.sessions {
		_ = s.Close()
	}
	ds.mu.Unlock()
	ds.wg.Wait()
}

const devicesUsage = `Usage: wampgate devices [flags]

Print the serial devices of a gateway (wampgate.device.list in the realm):
name, state, port, last offline reason and line counters. With --json, print
the raw list as one JSON line. Accepts the --url, --realm, --serializer,
--timeout and authentication flags of the other client commands.
`

// runDevices implements `wampgate devices`.
func runDevices(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	c := newClientCmd(stdout, stderr)
	fs, cf := c.newFlags("devices", devicesUsage, false)
	asJSON := fs.Bool("json", false, "print the raw device list as JSON")
	pos, code := parseFlags(fs, args, false)
	if code >= 0 {
		return code
	}
	if len(pos) > 0 {
		return c.usageError(fs, "unexpected argument %q", pos[0])
	}
	s, code := c.dial(ctx, fs, cf)
	if s == nil {
		return code
	}
	defer leave(ctx, s)
	rctx, cancel := requestContext(ctx, cf)
	defer cancel()
	res, err := s.Call(rctx, procDeviceList, nil, nil, nil)
	if err != nil {
		return c.failed(fs, err)
	}
	var list []any
	if len(res.Args) > 0 {
		list, _ = res.Args[0].([]any)
	}
	if *asJSON {
		writeJSONLine(stdout, toJSON(list))
		return exitOK
	}
	sort.Slice(list, func(i, j int) bool { return str(list[i], "name") < str(list[j], "name") })
	tw := tabwriter.NewWriter(stdout, 2, 8, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tSTATE\tPORT\tREALM\tREASON\tRECONNECTS\tFRAMES IN/OUT\tBYTES IN/OUT\tCRC/COBS DROPS\tSEQ GAPS\tRESETS\tLAST SEEN")
	for _, d := range list {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%v\t%v/%v\t%v/%v\t%v/%v\t%v\t%v\t%s\n",
			str(d, "name"), str(d, "state"), str(d, "path"), str(d, "realm"), dash(str(d, "reason")),
			val(d, "reconnects"), val(d, "frames_in"), val(d, "frames_out"), val(d, "bytes_in"), val(d, "bytes_out"),
			val(d, "crc_drops"), val(d, "cobs_drops"), val(d, "seq_gaps"), val(d, "resets"), dash(str(d, "last_seen")))
	}
	if err := tw.Flush(); err != nil {
		return exitWAMPError
	}
	if len(list) == 0 {
		fmt.Fprintln(stdout, "(no devices)")
	}
	return exitOK
}

func str(d any, k string) string {
	m, _ := d.(map[string]any)
	s, _ := m[k].(string)
	return s
}

func val(d any, k string) any {
	m, _ := d.(map[string]any)
	if v, ok := m[k]; ok && v != nil {
		return v
	}
	return "-"
}

func dash(s string) string {
	if strings.TrimSpace(s) == "" || s == "none" {
		return "-"
	}
	return s
}
