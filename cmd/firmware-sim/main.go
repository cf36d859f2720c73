// Command firmware-sim runs simulated WAMP devices for wampgate: over ptys
// the gateway opens like serial ports, as TCP serial servers, or as plain
// RawSocket clients of a router. See firmware-sim -h.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"

	"go.yaml.in/yaml/v3"

	firmwaresim "github.com/wampgate/wampgate/firmware-sim"
	"github.com/wampgate/wampgate/transports"
)

const usage = `Usage: firmware-sim [flags]

Run simulated devices: WAMP clients that register the procedures add, echo,
slow, set and get and publish sensor readings (temp, hum). Each one reaches
the gateway in one of three modes:

  pty         it speaks the serial framing on a new pseudo-terminal; the
              gateway opens the slave path like a real serial port
  tcp-serial  it listens on TCP (--listen, port + 1 per device) and speaks
              the serial framing to whoever connects, like ser2net
  rawsocket   it dials a router (--url) as a plain RawSocket client and
              registers its URIs under --uri-prefix itself

firmware-sim prints one line per device, its name and where to attach it:

  sim1 /dev/pts/7
  sim2 /dev/pts/8

then runs until SIGINT or SIGTERM, and exits 0 after closing everything.
Logs go to stderr. Faults (--ber, --reboot-every, ...) are drawn from
--seed: the same seed replays the same faults.

Flags:
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("firmware-sim", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, usage)
		fs.PrintDefaults()
		fmt.Fprint(stderr, "\n"+firmwaresim.ConfigFileHelp)
		fmt.Fprint(stderr, "The file may also be YAML with the same keys (.yaml or .yml).\n")
	}
	var (
		count       = fs.Int("count", 3, "number of devices (ignored when --config lists devices)")
		mode        = fs.String("mode", string(firmwaresim.ModePty), "`mode`: pty, tcp-serial or rawsocket")
		listen      = fs.String("listen", "127.0.0.1:4001", "tcp-serial: listen `address` of the first device; the port grows by one per device (port 0: any free port)")
		routerURL   = fs.String("url", "tcp://127.0.0.1:8081", "rawsocket: router `URL`, tcp://host:port or unix:///path")
		namePrefix  = fs.String("name-prefix", firmwaresim.DefaultNamePrefix, "device names are `prefix`1, prefix2, ...")
		uriPrefix   = fs.String("uri-prefix", "", "`prefix` of the devices' URIs, {name} is the device name (default dev.{name}. in rawsocket mode, none otherwise: the gateway adds the configured prefix)")
		realm       = fs.String("realm", firmwaresim.DefaultRealm, "`realm` to join")
		serializer  = fs.String("serializer", "cbor", "`serializer`: json, msgpack or cbor")
		baud        = fs.Int("baud", firmwaresim.DefaultBaud, "line `rate` the devices pace their output at (negative: no pacing)")
		maxMessage  = fs.Int("max-message", firmwaresim.DefaultMaxMessage, "largest message the devices accept, in `bytes` (announced in the handshake; at least 512)")
		seed        = fs.Int64("seed", 1, "random `seed` of the first device; device n uses seed+n-1")
		ber         = fs.Float64("ber", 0, "bit error `rate` per bit, both directions (e.g. 1e-4)")
		dropRate    = fs.Float64("drop-rate", 0, "probability per byte that it is lost, both directions")
		garbageRate = fs.Float64("garbage-rate", 0, "probability per byte of a garbage burst before it, both directions")
		garbageLen  = fs.Int("garbage-len", firmwaresim.DefaultGarbageLen, "longest garbage burst in `bytes`")
		stallRate   = fs.Float64("stall-rate", 0, "probability per byte of a stall before it, both directions")
		stall       = fs.Duration("stall", firmwaresim.DefaultStallDuration, "length of a stall")
		rebootEvery = fs.Duration("reboot-every", 0, "mean time between reboots in the middle of a frame (0: never)")
		rebootProb  = fs.Float64("reboot-prob", 0, "probability per WAMP frame sent of a reboot halfway through it")
		unplugEvery = fs.Duration("unplug-every", 0, "mean time between unplugs (0: never)")
		unplugFor   = fs.Duration("unplug-for", firmwaresim.DefaultUnplugFor, "how long an unplugged device stays away (a pty comes back with a new path)")
		mutePings   = fs.Int("mute-pings-after", -1, "stop answering PINGs after answering `N` (negative: always answer)")
		wrongSer    = fs.Int("wrong-serializer", 0, "serializer `nibble` (1-15) to announce in the handshake instead of the real one (0: honest)")
		oversize    = fs.Float64("oversize-prob", 0, "probability per WAMP frame of an extra frame over the gateway's limit")
		malformed   = fs.Float64("malformed-prob", 0, "probability per WAMP frame of an extra malformed WAMP message")
		pubInterval = fs.Duration("publish-interval", firmwaresim.DefaultPublishInterval, "interval of the temp and hum readings (0: no publishers)")
		slowLatency = fs.Duration("slow-latency", firmwaresim.DefaultSlowLatency, "latency of the slow procedure")
		lenient     = fs.Bool("lenient", false, "count gaps in the gateway's sequence numbers instead of handshaking again")
		configPath  = fs.String("config", "", "device description `file` (JSON or YAML, see below); overrides the flags")
		logLevel    = fs.String("log-level", "info", "log `level`: debug, info, warn, error")
	)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "firmware-sim: unexpected argument %q\n", fs.Arg(0))
		return 2
	}
	usageErr := func(format string, a ...any) int {
		fmt.Fprintf(stderr, "firmware-sim: "+format+"\n", a...)
		return 2
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(*logLevel)); err != nil {
		return usageErr("--log-level: %v", err)
	}
	m, err := firmwaresim.ParseMode(*mode)
	if err != nil {
		return usageErr("--mode: %v", err)
	}
	ser, err := transports.ParseSerializer(*serializer)
	if err != nil {
		return usageErr("--serializer: %v", err)
	}
	if *wrongSer < 0 || *wrongSer > 15 {
		return usageErr("--wrong-serializer %d: want 0 to 15", *wrongSer)
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	if !set["uri-prefix"] && m == firmwaresim.ModeRawSocket {
		*uriPrefix = "dev.{name}."
	}
	line := firmwaresim.LineFaults{
		BitErrorRate: *ber, DropRate: *dropRate, GarbageRate: *garbageRate,
		GarbageLen: *garbageLen, StallRate: *stallRate, StallDuration: *stall,
	}
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
	tmpl := firmwaresim.DeviceConfig{
		Mode:       m,
		Listen:     *listen,
		URL:        *routerURL,
		Realm:      *realm,
		URIPrefix:  *uriPrefix,
		Serializer: ser,
		Baud:       *baud,
		MaxMessage: *maxMessage,
		Procedures: firmwaresim.DefaultProcedures(*slowLatency),
		Publishers: []firmwaresim.Publisher{},
		Seed:       *seed,
		Lenient:    *lenient,
		Logger:     logger,
		Faults: firmwaresim.FaultConfig{
			TX: line, RX: line,
			RebootEvery: *rebootEvery, RebootProb: *rebootProb,
			UnplugEvery: *unplugEvery, UnplugFor: *unplugFor,
			MutePings: *mutePings >= 0, MutePingsAfter: max(*mutePings, 0),
			WrongSerializer: transports.Serializer(*wrongSer),
			OversizeProb:    *oversize, MalformedProb: *malformed,
		},
	}
	if *pubInterval > 0 {
		tmpl.Publishers = firmwaresim.DefaultPublishers(*pubInterval)
	}
	cfg := firmwaresim.FleetConfig{Count: *count, NamePrefix: *namePrefix, Template: tmpl}
	if *configPath != "" {
		if cfg, err = loadConfig(*configPath, cfg); err != nil {
			fmt.Fprintf(stderr, "firmware-sim: %v\n", err)
			return 2
		}
	}
	fleet, err := firmwaresim.StartFleet(cfg)
	if err != nil {
		fmt.Fprintf(stderr, "firmware-sim: %v\n", err)
		return 1
	}
	devs := fleet.Devices()
	for _, d := range devs {
		fmt.Fprintf(stdout, "%s %s\n", d.Name(), d.Path())
	}
	printHint(stderr, devs)
	<-ctx.Done()
	if err := fleet.Close(); err != nil {
		fmt.Fprintf(stderr, "firmware-sim: %v\n", err)
		return 1
	}
	return 0
}

// loadConfig reads a JSON or YAML device file over cfg.
func loadConfig(path string, cfg firmwaresim.FleetConfig) (firmwaresim.FleetConfig, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return cfg, err
	}
	switch strings.ToLower(filepath.Ext(path)) {
	case ".yaml", ".yml":
		var v any
		if err := yaml.Unmarshal(data, &v); err != nil {
			return cfg, fmt.Errorf("%s: %w", path, err)
		}
		if data, err = json.Marshal(v); err != nil {
			return cfg, fmt.Errorf("%s: %w", path, err)
		}
	}
	out, err := firmwaresim.LoadFleetConfig(bytes.NewReader(data), cfg)
	if err != nil {
		return cfg, fmt.Errorf("%s: %w", path, err)
	}
	return out, nil
}

// printHint tells a person how to use what runs.
func printHint(w io.Writer, devs []*firmwaresim.Device) {
	if len(devs) == 0 {
		fmt.Fprintln(w, "firmware-sim: no devices; stop with Ctrl-C")
		return
	}
	d := devs[0]
	c := d.Config()
	fmt.Fprintf(w, "firmware-sim: %d device(s) running (mode %s, realm %s); stop with Ctrl-C\n", len(devs), c.Mode, c.Realm)
	if c.Mode == firmwaresim.ModeRawSocket {
		fmt.Fprintf(w, "call one with:\n  wampgate call --url %s %sadd 2 3\n", c.URL, c.URIPrefix)
		return
	}
	prefix := c.URIPrefix
	if prefix == "" {
		prefix = "dev." + d.Name() + "."
	}
	fmt.Fprintf(w, "attach each path to the gateway as a serial device (its URIs add, echo, slow,\n"+
		"set, get, temp and hum get the device's configured prefix, e.g. %s), then:\n"+
		"  wampgate call %sadd 2 3\n", prefix, prefix)
}
