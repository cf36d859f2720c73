package main

import (
	"context"
	"crypto/ed25519"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/wampgate/wampgate/devices"
	firmwaresim "github.com/wampgate/wampgate/firmware-sim"
	"github.com/wampgate/wampgate/gateway"
	"github.com/wampgate/wampgate/gateway/auth"
	"github.com/wampgate/wampgate/gateway/config"
	"github.com/wampgate/wampgate/transports"
	"github.com/wampgate/wampgate/transports/rawsocket"
	"github.com/wampgate/wampgate/transports/websocket"
)

const serveUsage = `Usage: wampgate serve [flags]

Run the router. Without --config it runs on embedded defaults: realm realm1
open to anonymous sessions, WebSocket on 127.0.0.1:8080 path /ws, RawSocket
on 127.0.0.1:8081 and a RawSocket Unix socket (path printed at start). With
--config FILE it runs what the file says (see examples/wampgate.yaml);
flags given explicitly override the file. SIGHUP reloads the config file
(users, roles, realms, limits, certificates); SIGINT/SIGTERM shut down
gracefully.

Flags:
`

func runServe(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("wampgate serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, serveUsage)
		fs.PrintDefaults()
	}
	def := config.DefaultLimits()
	var (
		configPath   = fs.String("config", "", "YAML config file (see examples/wampgate.yaml)")
		ws           = fs.String("ws", "127.0.0.1:8080", "WebSocket listen address (empty disables)")
		wsPath       = fs.String("ws-path", "/ws", "WebSocket URL path")
		tcp          = fs.String("tcp", "127.0.0.1:8081", "RawSocket TCP listen address (empty disables)")
		unix         = fs.String("unix", config.DefaultUnixPath(), "RawSocket Unix socket path (empty disables)")
		realms       stringList
		logLevel     = fs.String("log-level", "info", "log level: debug, info, warn, error")
		maxMessage   = fs.Int("max-message", int(def.MaxMessage), "largest incoming message in bytes")
		outQueue     = fs.Int("out-queue", int(def.OutQueue), "outbound queue budget per session in bytes")
		handshake    = fs.Duration("handshake-timeout", time.Duration(def.HandshakeTimeout), "time from connect to WELCOME")
		writeTimeout = fs.Duration("write-timeout", time.Duration(def.WriteTimeout), "deadline for each write to a peer")
		ping         = fs.Duration("ping-interval", time.Duration(def.PingInterval), "idle time before a liveness ping (0 disables)")
		shutdownWait = fs.Duration("shutdown-timeout", time.Duration(def.ShutdownTimeout), "how long shutdown waits for sessions to say goodbye")
	)
	fs.Var(&realms, "realm", "realm to serve, open to anonymous sessions; repeatable (default realm1)")
	simulate := fs.Int("simulate", 0, "start `N` simulated devices (firmware-sim) on pseudo-terminals and attach them like real serial ports")
	var serials stringList
	fs.Var(&serials, "serial", "attach a serial device at `PATH[@BAUD]` (default 115200 baud) in the first realm; repeatable")
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
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })

	cfg := config.Default()
	if *configPath != "" {
		loaded, err := config.Load(*configPath)
		if err != nil {
			fmt.Fprintln(stderr, err)
			fmt.Fprintf(stderr, "wampgate serve: %s has errors; run wampgate check --config %s\n", *configPath, *configPath)
			return 1
		}
		cfg = loaded
	}
	if set["log-level"] || *configPath == "" {
		var level slog.Level
		if err := level.UnmarshalText([]byte(*logLevel)); err != nil {
			fmt.Fprintf(stderr, "wampgate serve: --log-level: %v\n", err)
			return 2
		}
		cfg.LogLevel = level
	}
	// Explicit listener flags replace the configured listeners of their type.
	override := func(flagName, typ string, l config.Listener, enabled bool) {
		if !set[flagName] && !(typ == config.ListenWebSocket && set["ws-path"]) {
			return
		}
		var kept []config.Listener
		for _, o := range cfg.Listen {
			if o.Type != typ {
				kept = append(kept, o)
			}
		}
		if enabled {
			kept = append(kept, l)
		}
		cfg.Listen = kept
	}
	override("ws", config.ListenWebSocket, config.Listener{Type: config.ListenWebSocket, Address: *ws, Path: *wsPath}, *ws != "")
	override("tcp", config.ListenRawSocket, config.Listener{Type: config.ListenRawSocket, Address: *tcp}, *tcp != "")
	override("unix", config.ListenUnix, config.Listener{Type: config.ListenUnix, Path: *unix}, *unix != "")
	if len(realms) > 0 {
		if *configPath == "" {
			cfg.Realms = nil
		}
		for _, name := range realms {
			r := config.DefaultRealms()[0]
			r.Name = name
			cfg.Realms = append(cfg.Realms, r)
		}
	}
	if set["max-message"] {
		cfg.Limits.MaxMessage = config.ByteSize(*maxMessage)
	}
	if set["out-queue"] {
		cfg.Limits.OutQueue = config.ByteSize(*outQueue)
	}
	if set["handshake-timeout"] {
		cfg.Limits.HandshakeTimeout = config.Duration(*handshake)
	}
	if set["write-timeout"] {
		cfg.Limits.WriteTimeout = config.Duration(*writeTimeout)
	}
	if set["ping-interval"] {
		cfg.Limits.PingInterval = config.Duration(*ping)
	}
	if set["shutdown-timeout"] {
		cfg.Limits.ShutdownTimeout = config.Duration(*shutdownWait)
	}
	level := &slog.LevelVar{}
	level.Set(cfg.LogLevel)
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
	s := &server{cfg: cfg, path: *configPath, log: log, level: level, stdout: stdout, overrides: set}
	if *simulate < 0 || *simulate > 256 {
		fmt.Fprintln(stderr, "wampgate serve: --simulate wants 0..256 devices")
		return 2
	}
	s.simulate = *simulate
	for _, spec := range serials {
		d, err := serialDevice(spec, cfg)
		if err != nil {
			fmt.Fprintf(stderr, "wampgate serve: --serial %s: %v\n", spec, err)
			return 2
		}
		s.extraDevices = append(s.extraDevices, d)
	}
	if err := s.run(ctx); err != nil {
		fmt.Fprintf(stderr, "wampgate serve: %v\n", err)
		return 1
	}
	return 0
}

// server is one run of `wampgate serve`.
type server struct {
	cfg       *config.Config
	path      string
	log       *slog.Logger
	level     *slog.LevelVar
	stdout    io.Writer
	overrides map[string]bool

	router       *gateway.Router
	limiter      *auth.Limiter
	certs        []*certReloader
	extraDevices []devices.Device // from --serial
	devices      *deviceService
	simulate     int
	fleet        *firmwaresim.Fleet
}

// startSimulation starts the --simulate fleet on ptys and adds each device
// as if it were given with --serial, named after the simulated device.
func (s *server) startSimulation() error {
	fleet, err := firmwaresim.StartFleet(firmwaresim.FleetConfig{Count: s.simulate, NamePrefix: "sim"})
	if err != nil {
		return fmt.Errorf("simulated devices: %w", err)
	}
	s.fleet = fleet
	for _, d := range fleet.Devices() {
		dev, err := serialDevice(d.Path(), s.cfg)
		if err != nil {
			return err
		}
		dev.Name, dev.Prefix = d.Name(), "dev."+d.Name()+"."
		s.extraDevices = append(s.extraDevices, dev)
	}
	return nil
}

// serialDevice builds the device for --serial PATH[@BAUD]: named after the
// port, in the first realm, with the role "device" when the realm defines
// it and else the realm's anonymous role.
func serialDevice(spec string, cfg *config.Config) (devices.Device, error) {
	path, baudText, hasBaud := strings.Cut(spec, "@")
	baud := deviceDefaultTTY
	if hasBaud {
		n, err := strconv.Atoi(baudText)
		if err != nil || n <= 0 {
			return devices.Device{}, fmt.Errorf("bad baud rate %q", baudText)
		}
		baud = n
	}
	if path == "" || len(cfg.Realms) == 0 {
		return devices.Device{}, errors.New("need a port path and at least one realm")
	}
	realm := cfg.Realms[0]
	role := devices.DefaultAuthRole
	if _, ok := realm.Roles[role]; !ok && realm.Anonymous != "" {
		role = realm.Anonymous
	}
	name := devices.NameForPath(path)
	d := devices.Device{Name: name, Port: path, Baud: baud, Realm: realm.Name, AuthRole: role, Prefix: "dev." + name + "."}
	return d, d.Validate()
}

// deviceList is every device to supervise: configured and --serial ones,
// with the first realm for those that name none.
func (s *server) deviceList() []devices.Device {
	var out []devices.Device
	for _, d := range s.cfg.Devices {
		dd := deviceFromConfig(d)
		if dd.Realm == "" && len(s.cfg.Realms) > 0 {
			dd.Realm = s.cfg.Realms[0].Name
		}
		out = append(out, dd)
	}
	return append(out, s.extraDevices...)
}

// realmConfigs turns config realms into router realms: authenticator,
// authorizer and limits.
func realmConfigs(cfg *config.Config, limiter *auth.Limiter) ([]gateway.RealmConfig, error) {
	var out []gateway.RealmConfig
	for _, r := range cfg.Realms {
		ar := auth.Realm{Name: r.Name, AnonymousRole: r.Anonymous, Limiter: limiter}
		for _, u := range r.Users {
			au := auth.User{AuthID: u.AuthID, Role: u.Role, Ticket: u.Ticket}
			if u.WAMPCRA != nil {
				au.CRA = &auth.CRA{Secret: u.WAMPCRA.Secret, Salt: u.WAMPCRA.Salt, Iterations: u.WAMPCRA.Iterations, KeyLen: u.WAMPCRA.KeyLen}
			}
			if u.Cryptosign != nil {
				for _, k := range u.Cryptosign.PubKeys {
					au.CryptosignKeys = append(au.CryptosignKeys, ed25519.PublicKey(k))
				}
			}
			ar.Users = append(ar.Users, au)
		}
		authn, err := auth.NewAuthenticator(ar)
		if err != nil {
			return nil, fmt.Errorf("realm %s: %w", r.Name, err)
		}
		rules := map[string][]auth.Rule{}
		for role, rs := range r.Roles {
			list := []auth.Rule{}
			for _, cr := range rs {
				ar := auth.Rule{URI: cr.URI, Match: cr.Match}
				for _, a := range cr.Allow {
					ar.Allow = append(ar.Allow, string(a))
				}
				for _, a := range cr.Deny {
					ar.Deny = append(ar.Deny, string(a))
				}
				list = append(list, ar)
			}
			rules[role] = list
		}
		authz, err := auth.NewAuthorizer(rules)
		if err != nil {
			return nil, fmt.Errorf("realm %s: %w", r.Name, err)
		}
		lim := r.Limits.WithDefaults(cfg.Limits)
		out = append(out, gateway.RealmConfig{
			Name: r.Name, StrictURIs: r.StrictURIs, Auth: authn, Authorizer: authz,
			MaxSessions: r.Limits.MaxSessions,
			// Realm-level overrides only; the listener's limits apply anyway.
			MaxMessage:    int(r.Limits.MaxMessage),
			OutQueueBytes: int(r.Limits.OutQueue),
			PublishRate:   gateway.Rate{PerSecond: lim.PublishRate.PerSecond(), Burst: lim.PublishRate.Burst},
			CallRate:      gateway.Rate{PerSecond: lim.CallRate.PerSecond(), Burst: lim.CallRate.Burst},
		})
	}
	return out, nil
}

// sessionLimit caps the sessions served through one handler (a listener,
// or the whole router when shared), and passes the listener's outbound
// queue budget on to the router.
type sessionLimit struct {
	next     transports.Handler
	max      int
	outQueue int
	active   atomic.Int64
	refused  atomic.Uint64
	log      *slog.Logger
}

// queueConn carries a listener's outbound queue budget in Info.
type queueConn struct {
	transports.Conn
	outQueue int
}

func (c queueConn) Info() transports.Info {
	i := c.Conn.Info()
	i.OutQueue = c.outQueue
	return i
}

func (l *sessionLimit) ServeConn(c transports.Conn) {
	if l.outQueue > 0 {
		c = queueConn{Conn: c, outQueue: l.outQueue}
	}
	if l.max > 0 && l.active.Add(1) > int64(l.max) {
		l.active.Add(-1)
		l.refused.Add(1)
		l.log.Warn("session refused: limit reached", "limit", l.max, "transport", c.Info().Kind)
		c.Close()
		return
	}
	if l.max <= 0 {
		l.next.ServeConn(c)
		return
	}
	defer l.active.Add(-1)
	l.next.ServeConn(c)
}

// certReloader serves a certificate that SIGHUP can replace.
type certReloader struct {
	certFile, keyFile string
	cert              atomic.Pointer[tls.Certificate]
}

func (c *certReloader) load() error {
	cert, err := tls.LoadX509KeyPair(c.certFile, c.keyFile)
	if err != nil {
		return fmt.Errorf("load certificate %s: %w", c.certFile, err)
	}
	c.cert.Store(&cert)
	return nil
}

func (s *server) tlsConfig(t *config.TLS) (*tls.Config, error) {
	cr := &certReloader{certFile: t.Cert, keyFile: t.Key}
	if err := cr.load(); err != nil {
		return nil, err
	}
	s.certs = append(s.certs, cr)
	tc := &tls.Config{
		MinVersion:     tls.VersionTLS12,
		GetCertificate: func(*tls.ClientHelloInfo) (*tls.Certificate, error) { return cr.cert.Load(), nil },
	}
	if t.ClientCA != "" {
		pem, err := os.ReadFile(t.ClientCA)
		if err != nil {
			return nil, fmt.Errorf("read client CA: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("client CA %s holds no PEM certificate", t.ClientCA)
		}
		tc.ClientCAs = pool
		tc.ClientAuth = tls.RequireAndVerifyClientCert
	}
	return tc, nil
}

func (s *server) run(ctx context.Context) error {
	cfg := s.cfg
	s.limiter = auth.NewLimiter(250*time.Millisecond, 5*time.Second)
	rcs, err := realmConfigs(cfg, s.limiter)
	if err != nil {
		return err
	}
	router, err := gateway.New(gateway.Config{
		Realms:           rcs,
		OutQueueBytes:    int(cfg.Limits.OutQueue),
		HandshakeTimeout: time.Duration(cfg.Limits.HandshakeTimeout),
		Agent:            "wampgate/" + version,
		Logger:           s.log,
		AuthLimiter:      s.limiter,
	})
	if err != nil {
		return err
	}
	s.router = router
	global := &sessionLimit{next: router, max: cfg.Limits.MaxSessions, log: s.log}

	var (
		rawServers []*rawsocket.Server
		wsServers  []*websocket.Server
		httpSrvs   []*http.Server
		errc       = make(chan error, len(cfg.Listen)+1)
		lines      []string
		wsURL      string
		wg         sync.WaitGroup
	)
	closeAll := func() {
		for _, ws := range wsServers {
			_ = ws.Close() // refuse further upgrades; running sessions stay
		}
		for _, hs := range httpSrvs {
			_ = hs.Close()
		}
		for _, rs := range rawServers {
			_ = rs.Close()
		}
	}
	for _, l := range cfg.Listen {
		lim := l.Limits.WithDefaults(cfg.Limits)
		topts := transports.Options{
			MaxMessageSize:   int(lim.MaxMessage),
			HandshakeTimeout: time.Duration(lim.HandshakeTimeout),
			WriteTimeout:     time.Duration(cfg.Limits.WriteTimeout),
			PingInterval:     time.Duration(cfg.Limits.PingInterval),
		}
		handler := &sessionLimit{next: global, max: l.Limits.MaxSessions, outQueue: int(l.Limits.OutQueue), log: s.log}
		var tc *tls.Config
		if l.TLS != nil {
			if tc, err = s.tlsConfig(l.TLS); err != nil {
				closeAll()
				return fmt.Errorf("listener %s: %w", l.Address, err)
			}
		}
		switch l.Type {
		case config.ListenRawSocket, config.ListenUnix:
			var ln net.Listener
			if l.Type == config.ListenUnix {
				ln, err = rawsocket.ListenUnix(l.Path)
			} else {
				ln, err = listenTCP(ctx, l.Address)
			}
			if err != nil {
				closeAll()
				kind := "tcp"
				if l.Type == config.ListenUnix {
					kind = "unix"
				}
				return fmt.Errorf("rawsocket %s listener: %w", kind, err)
			}
			scheme, where := "tcp", ln.Addr().String()
			if l.Type == config.ListenUnix {
				scheme, where = "unix", l.Path
			}
			if tc != nil {
				ln = tls.NewListener(ln, tc)
				scheme = "tcps"
			}
			rs := &rawsocket.Server{Handler: handler, Options: topts, Logger: s.log}
			rawServers = append(rawServers, rs)
			wg.Add(1)
			go func() {
				defer wg.Done()
				if err := rs.Serve(ln); err != nil && !errors.Is(err, net.ErrClosed) && !strings.Contains(err.Error(), "closed") {
					errc <- err
				}
			}()
			lines = append(lines, fmt.Sprintf("rawsocket  %s://%s", scheme, where))
		case config.ListenWebSocket:
			ln, err := listenTCP(ctx, l.Address)
			if err != nil {
				closeAll()
				return fmt.Errorf("websocket listener: %w", err)
			}
			path := l.Path
			if path == "" {
				path = "/ws"
			}
			mux := http.NewServeMux()
			wss := &websocket.Server{Handler: handler, Options: topts, Logger: s.log}
			wsServers = append(wsServers, wss)
			mux.Handle(path, wss)
			mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Path != "/" {
					http.NotFound(w, r)
					return
				}
				fmt.Fprintf(w, "wampgate %s: WAMP WebSocket endpoint at %s\n", version, path)
			})
			hs := &http.Server{Handler: mux, ReadHeaderTimeout: time.Duration(lim.HandshakeTimeout), TLSConfig: tc,
				ErrorLog: slog.NewLogLogger(s.log.Handler(), slog.LevelWarn)}
			httpSrvs = append(httpSrvs, hs)
			scheme := "ws"
			if tc != nil {
				ln = tls.NewListener(ln, tc)
				scheme = "wss"
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				if err := hs.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
					errc <- err
				}
			}()
			u := fmt.Sprintf("%s://%s%s", scheme, ln.Addr(), path)
			if wsURL == "" && tc == nil {
				wsURL = u
			}
			lines = append(lines, "websocket  "+u)
		}
	}
	if len(lines) == 0 {
		closeAll()
		return errors.New("no listener enabled (all of --ws, --tcp and --unix are empty)")
	}
	var names []string
	for _, r := range cfg.Realms {
		names = append(names, r.Name)
	}
	if s.simulate > 0 {
		if err := s.startSimulation(); err != nil {
			closeAll()
			return err
		}
		defer s.fleet.Close()
	}
	devs := s.deviceList()
	ds, err := startDevices(ctx, router, names, devs, s.log)
	if err != nil {
		closeAll()
		return err
	}
	s.devices = ds
	{
		for _, d := range devs {
			where := d.Port
			if d.TCP != "" {
				where = "tcp://" + d.TCP
			} else if d.USB != nil {
				where = "usb " + d.USB.String()
			}
			lines = append(lines, fmt.Sprintf("device     %s at %s (realm %s, prefix %s)", d.Name, where, d.Realm, d.Prefix))
		}
	}
	fmt.Fprintf(s.stdout, "wampgate %s serving realms %s\n", version, strings.Join(names, ", "))
	for _, l := range lines {
		fmt.Fprintf(s.stdout, "  %s\n", l)
	}
	s.printTry(wsURL)
	if s.fleet != nil && wsURL != "" {
		url := ""
		if wsURL != "ws://127.0.0.1:8080/ws" {
			url = " --url " + wsURL
		}
		first := s.fleet.Devices()[0].Name()
		fmt.Fprintf(s.stdout, "\nSimulated devices (procedures add, echo, slow, set, get; topics temp, hum):\n"+
			"  %[3]s call%[1]s dev.%[2]s.add 2 3                # a device procedure, over the serial framing\n"+
			"  %[3]s call%[1]s dev.%[2]s.set --kw valve=open\n"+
			"  %[3]s subscribe%[1]s --match prefix dev.          # sensor readings from every device\n"+
			"  %[3]s devices%[1]s                                # state and line counters\n", url, first, selfName())
	}
	s.log.Info("router started", "realms", strings.Join(names, ","))

	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
loop:
	for {
		select {
		case <-ctx.Done():
			break loop
		case err := <-errc:
			s.log.Error("listener failed", "err", err)
			break loop
		case <-hup:
			s.reload()
		}
	}
	s.log.Info("shutting down")
	// Order: stop accepting, GOODBYE to every session, wait, exit.
	closeAll()
	sctx, cancel := context.WithTimeout(context.Background(), time.Duration(cfg.Limits.ShutdownTimeout))
	defer cancel()
	if err := router.Shutdown(sctx); err != nil {
		s.log.Warn("shutdown timed out; connections closed", "err", err)
	}
	if s.devices != nil {
		s.devices.close() // devices get RESET and their ports are released
	}
	for _, rs := range rawServers {
		rs.Wait()
	}
	for _, ws := range wsServers {
		ws.Wait()
	}
	wg.Wait()
	s.log.Info("stopped")
	return nil
}

// reload re-reads the config file on SIGHUP. An invalid file is rejected
// with its errors logged, and the running configuration stays.
func (s *server) reload() {
	if s.path == "" {
		s.log.Info("SIGHUP ignored: running on embedded defaults (no --config)")
		return
	}
	cfg, err := config.Load(s.path)
	if err != nil {
		s.log.Error("config reload rejected; keeping the running configuration", "file", s.path)
		for _, line := range strings.Split(err.Error(), "\n") {
			s.log.Error("config error", "err", line)
		}
		return
	}
	rcs, err := realmConfigs(cfg, s.limiter)
	if err == nil {
		err = s.router.Reload(rcs)
	}
	if err != nil {
		s.log.Error("config reload rejected; keeping the running configuration", "err", err)
		return
	}
	for _, c := range s.certs {
		if err := c.load(); err != nil {
			s.log.Error("certificate reload failed; keeping the old certificate", "err", err)
		}
	}
	if !s.overrides["log-level"] {
		s.level.Set(cfg.LogLevel)
	}
	s.cfg.Devices, s.cfg.Realms = cfg.Devices, cfg.Realms
	if s.devices != nil {
		s.devices.apply(s.deviceList())
	}
	s.log.Info("configuration reloaded", "file", s.path, "realms", len(cfg.Realms))
}

func (s *server) printTry(wsURL string) {
	if wsURL == "" {
		return
	}
	self := selfName()
	url := ""
	if wsURL != "ws://127.0.0.1:8080/ws" {
		url = " --url " + wsURL
	}
	fmt.Fprintf(s.stdout, "\nTry, in another terminal:\n"+
		"  %[1]s register%[2]s com.example.echo -- echo      # answer calls with a command\n"+
		"  %[1]s call%[2]s com.example.echo hello 42\n"+
		"  %[1]s subscribe%[2]s com.example.news              # print events as JSON lines\n"+
		"  %[1]s publish%[2]s com.example.news '{\"temp\": 21.5}'\n"+
		"  %[1]s call%[2]s wamp.session.count                 # meta API\n"+
		"Stop with Ctrl-C (sessions get GOODBYE wamp.close.system_shutdown).\n", self, url)
}

// listenTCP listens with a relaxed TCP keepalive: WAMP has its own liveness
// pings, and thousands of idle sessions should not all probe every 15 s.
func listenTCP(ctx context.Context, addr string) (net.Listener, error) {
	lc := net.ListenConfig{KeepAlive: 60 * time.Second}
	return lc.Listen(ctx, "tcp", addr)
}

// selfName is how to invoke this binary in printed examples.
func selfName() string {
	if len(os.Args) > 0 && strings.Contains(os.Args[0], "/") {
		return os.Args[0]
	}
	return "wampgate"
}
