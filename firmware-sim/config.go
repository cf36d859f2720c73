package firmwaresim

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/wampgate/wampgate/transports"
)

// ConfigFileHelp describes the file LoadFleetConfig reads.
const ConfigFileHelp = `Config file (JSON):

  {
    "count": 2,                  // devices made from "defaults" (default: --count,
                                 //   or 0 when "devices" is given)
    "name_prefix": "sim",
    "defaults": { DEVICE },      // applied to every device, over the flags
    "devices": [ { DEVICE }, ... ]
  }

DEVICE (every key optional; durations are "1.5s"-style strings or seconds):
  "name": "pump1", "mode": "pty" | "tcp-serial" | "rawsocket",
  "listen": "127.0.0.1:4001", "url": "tcp://127.0.0.1:8081",
  "realm": "realm1", "uri_prefix": "dev.{name}.", "serializer": "cbor",
  "baud": 9600, "max_message": 512, "seed": 7, "lenient": false,
  "join_timeout": "5s", "handshake_retry": ["1s", "2s", "4s", "8s"],
  "procedures": ["add", "echo", {"name": "open", "kind": "set"},
                 {"name": "slow", "latency": "2s"}],
  "publishers": [{"topic": "temp", "interval": "1s", "jitter": 0.1,
                  "base": 21.5, "spread": 0.5}],
  "faults": {
    "tx": {"ber": 1e-4, "drop_rate": 0, "garbage_rate": 0, "garbage_len": 16,
           "stall_rate": 0, "stall": "500ms"},
    "rx": { same keys },
    "reboot_every": "30s", "reboot_prob": 0,
    "unplug_every": "0s", "unplug_for": "1s",
    "mute_pings_after": 3,       // stop answering PINGs after 3; null: never
    "wrong_serializer": 15,      // serializer nibble announced in HANDSHAKE
    "oversize_prob": 0, "malformed_prob": 0
  }

Procedure kinds: add, echo, slow, set, get (a bare string is a procedure of
that name and kind). A device without "seed" gets the defaults' seed plus its
index. Unknown keys are errors. The comments above are not part of JSON.
`

// LoadFleetConfig reads a JSON fleet file (see ConfigFileHelp) on top of
// base, typically built from command-line flags: "defaults" overrides
// base.Template key by key and each entry of "devices" overrides the
// result in turn. Errors wrap ErrInvalidConfig.
func LoadFleetConfig(r io.Reader, base FleetConfig) (FleetConfig, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return base, fmt.Errorf("firmwaresim: read config: %w", err)
	}
	var ff struct {
		Count      *int              `json:"count"`
		NamePrefix *string           `json:"name_prefix"`
		Defaults   json.RawMessage   `json:"defaults"`
		Devices    []json.RawMessage `json:"devices"`
	}
	if err := strictUnmarshal(data, &ff); err != nil {
		return base, fmt.Errorf("firmwaresim: config: %w: %w", ErrInvalidConfig, err)
	}
	cfg := base
	if ff.NamePrefix != nil {
		cfg.NamePrefix = *ff.NamePrefix
	}
	prefix := cfg.NamePrefix
	if prefix == "" {
		prefix = DefaultNamePrefix
	}
	if len(ff.Defaults) > 0 {
		spec := specOf(cfg.Template)
		if err := strictUnmarshal(ff.Defaults, &spec); err != nil {
			return base, fmt.Errorf("firmwaresim: config: defaults: %w: %w", ErrInvalidConfig, err)
		}
		if cfg.Template, err = spec.apply(cfg.Template); err != nil {
			return base, fmt.Errorf("firmwaresim: config: defaults: %w", err)
		}
	}
	switch {
	case ff.Count != nil:
		cfg.Count = *ff.Count
	case ff.Devices != nil:
		cfg.Count = 0
	}
	if ff.Devices != nil {
		cfg.Devices = nil
	}
	for i, raw := range ff.Devices {
		n := cfg.Count + i // index in the fleet
		spec := specOf(cfg.Template)
		spec.Name = ""
		if cfg.Template.Mode == ModeTCPSerial || cfg.Template.Mode == "" {
			if spec.Listen, err = offsetPort(spec.Listen, n); err != nil {
				return base, err
			}
		}
		if err := strictUnmarshal(raw, &spec); err != nil {
			return base, fmt.Errorf("firmwaresim: config: devices[%d]: %w: %w", i, ErrInvalidConfig, err)
		}
		dc, err := spec.apply(cfg.Template)
		if err != nil {
			return base, fmt.Errorf("firmwaresim: config: devices[%d]: %w", i, err)
		}
		var keys map[string]json.RawMessage
		_ = json.Unmarshal(raw, &keys)
		if _, ok := keys["seed"]; !ok {
			dc.Seed = cfg.Template.Seed + int64(n)
		}
		if dc.Name == "" {
			dc.Name = fmt.Sprintf("%s%d", prefix, n+1)
		}
		cfg.Devices = append(cfg.Devices, dc)
	}
	return cfg, nil
}

func strictUnmarshal(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.More() {
		return errors.New("data after the JSON value")
	}
	return nil
}

// duration is a time.Duration written as "1.5s" or as seconds.
type duration time.Duration

func (d *duration) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		return nil
	}
	var s string
	if json.Unmarshal(b, &s) == nil {
		v, err := time.ParseDuration(s)
		if err != nil {
			return err
		}
		*d = duration(v)
		return nil
	}
	var f float64
	if err := json.Unmarshal(b, &f); err != nil {
		return fmt.Errorf("duration %s: want a string such as \"1.5s\" or a number of seconds", b)
	}
	*d = duration(f * float64(time.Second))
	return nil
}

type fileProcedure struct {
	Name    string   `json:"name"`
	Kind    string   `json:"kind"`
	Latency duration `json:"latency"`
}

// UnmarshalJSON accepts a bare name or an object. It starts from the zero
// value: json reuses slice elements, which must not leak into the new one.
func (p *fileProcedure) UnmarshalJSON(b []byte) error {
	*p = fileProcedure{}
	if len(b) > 0 && b[0] == '"' {
		return json.Unmarshal(b, &p.Name)
	}
	type plain fileProcedure
	return strictUnmarshal(b, (*plain)(p))
}

type filePublisher struct {
	Topic    string   `json:"topic"`
	Interval duration `json:"interval"`
	Jitter   float64  `json:"jitter"`
	Base     float64  `json:"base"`
	Spread   float64  `json:"spread"`
}

func (p *filePublisher) UnmarshalJSON(b []byte) error {
	*p = filePublisher{}
	type plain filePublisher
	return strictUnmarshal(b, (*plain)(p))
}

type fileLine struct {
	BER         float64  `json:"ber"`
	DropRate    float64  `json:"drop_rate"`
	GarbageRate float64  `json:"garbage_rate"`
	GarbageLen  int      `json:"garbage_len"`
	StallRate   float64  `json:"stall_rate"`
	Stall       duration `json:"stall"`
}

type fileFaults struct {
	TX              fileLine `json:"tx"`
	RX              fileLine `json:"rx"`
	RebootEvery     duration `json:"reboot_every"`
	RebootProb      float64  `json:"reboot_prob"`
	UnplugEvery     duration `json:"unplug_every"`
	UnplugFor       duration `json:"unplug_for"`
	MutePingsAfter  *int     `json:"mute_pings_after"`
	WrongSerializer int      `json:"wrong_serializer"`
	OversizeProb    float64  `json:"oversize_prob"`
	MalformedProb   float64  `json:"malformed_prob"`
}

type fileDevice struct {
	Name           string          `json:"name"`
	Mode           string          `json:"mode"`
	Listen         string          `json:"listen"`
	URL            string          `json:"url"`
	Realm          string          `json:"realm"`
	URIPrefix      string          `json:"uri_prefix"`
	Serializer     string          `json:"serializer"`
	Baud           int             `json:"baud"`
	MaxMessage     int             `json:"max_message"`
	Seed           int64           `json:"seed"`
	Lenient        bool            `json:"lenient"`
	JoinTimeout    duration        `json:"join_timeout"`
	HandshakeRetry []duration      `json:"handshake_retry"`
	Procedures     []fileProcedure `json:"procedures"`
	Publishers     []filePublisher `json:"publishers"`
	Faults         fileFaults      `json:"faults"`
}

func lineSpec(l LineFaults) fileLine {
	return fileLine{
		BER: l.BitErrorRate, DropRate: l.DropRate, GarbageRate: l.GarbageRate,
		GarbageLen: l.GarbageLen, StallRate: l.StallRate, Stall: duration(l.StallDuration),
	}
}

func (l fileLine) faults() LineFaults {
	return LineFaults{
		BitErrorRate: l.BER, DropRate: l.DropRate, GarbageRate: l.GarbageRate,
		GarbageLen: l.GarbageLen, StallRate: l.StallRate, StallDuration: time.Duration(l.Stall),
	}
}

// specOf converts a DeviceConfig to the file form. The slices are new, so
// decoding into them never touches c.
func specOf(c DeviceConfig) fileDevice {
	s := fileDevice{
		Name: c.Name, Mode: string(c.Mode), Listen: c.Listen, URL: c.URL, Realm: c.Realm,
		URIPrefix: c.URIPrefix, Baud: c.Baud, MaxMessage: c.MaxMessage, Seed: c.Seed,
		Lenient: c.Lenient, JoinTimeout: duration(c.JoinTimeout),
	}
	if c.Serializer != 0 {
		s.Serializer = c.Serializer.String()
	}
	for _, d := range c.HandshakeRetry {
		s.HandshakeRetry = append(s.HandshakeRetry, duration(d))
	}
	if c.Procedures != nil {
		s.Procedures = make([]fileProcedure, 0, len(c.Procedures))
		for _, p := range c.Procedures {
			s.Procedures = append(s.Procedures, fileProcedure{Name: p.Name, Kind: p.Kind, Latency: duration(p.Latency)})
		}
	}
	if c.Publishers != nil {
		s.Publishers = make([]filePublisher, 0, len(c.Publishers))
		for _, p := range c.Publishers {
			s.Publishers = append(s.Publishers, filePublisher{Topic: p.Topic, Interval: duration(p.Interval), Jitter: p.Jitter, Base: p.Base, Spread: p.Spread})
		}
	}
	f := c.Faults
	s.Faults = fileFaults{
		TX: lineSpec(f.TX), RX: lineSpec(f.RX),
		RebootEvery: duration(f.RebootEvery), RebootProb: f.RebootProb,
		UnplugEvery: duration(f.UnplugEvery), UnplugFor: duration(f.UnplugFor),
		WrongSerializer: int(f.WrongSerializer),
		OversizeProb:    f.OversizeProb, MalformedProb: f.MalformedProb,
	}
	if f.MutePings {
		n := f.MutePingsAfter
		s.Faults.MutePingsAfter = &n
	}
	return s
}

// apply returns base with the values of s; fields the file form lacks
// (Logger, OnReplug) come from base.
func (s fileDevice) apply(base DeviceConfig) (DeviceConfig, error) {
	c := base
	c.Name, c.Listen, c.URL, c.Realm, c.URIPrefix = s.Name, s.Listen, s.URL, s.Realm, s.URIPrefix
	c.Mode = ""
	if s.Mode != "" {
		m, err := ParseMode(s.Mode)
		if err != nil {
			return c, err
		}
		c.Mode = m
	}
	c.Serializer = 0
	if s.Serializer != "" {
		ser, err := transports.ParseSerializer(s.Serializer)
		if err != nil {
			return c, fmt.Errorf("%w: %w", ErrInvalidConfig, err)
		}
		c.Serializer = ser
	}
	c.Baud, c.MaxMessage, c.Seed, c.Lenient = s.Baud, s.MaxMessage, s.Seed, s.Lenient
	c.JoinTimeout = time.Duration(s.JoinTimeout)
	c.HandshakeRetry = nil
	for _, d := range s.HandshakeRetry {
		c.HandshakeRetry = append(c.HandshakeRetry, time.Duration(d))
	}
	c.Procedures = nil
	if s.Procedures != nil {
		c.Procedures = make([]Procedure, 0, len(s.Procedures))
		for _, p := range s.Procedures {
			c.Procedures = append(c.Procedures, Procedure{Name: p.Name, Kind: p.Kind, Latency: time.Duration(p.Latency)})
		}
	}
	c.Publishers = nil
	if s.Publishers != nil {
		c.Publishers = make([]Publisher, 0, len(s.Publishers))
		for _, p := range s.Publishers {
			c.Publishers = append(c.Publishers, Publisher{Topic: p.Topic, Interval: time.Duration(p.Interval), Jitter: p.Jitter, Base: p.Base, Spread: p.Spread})
		}
	}
	f := s.Faults
	if f.WrongSerializer < 0 || f.WrongSerializer > 15 {
		return c, fmt.Errorf("wrong_serializer %d not within 0..15: %w", f.WrongSerializer, ErrInvalidConfig)
	}
	c.Faults = FaultConfig{
		TX: f.TX.faults(), RX: f.RX.faults(),
		RebootEvery: time.Duration(f.RebootEvery), RebootProb: f.RebootProb,
		UnplugEvery: time.Duration(f.UnplugEvery), UnplugFor: time.Duration(f.UnplugFor),
		WrongSerializer: transports.Serializer(f.WrongSerializer),
		OversizeProb:    f.OversizeProb, MalformedProb: f.MalformedProb,
	}
	if f.MutePingsAfter != nil {
		c.Faults.MutePings, c.Faults.MutePingsAfter = true, *f.MutePingsAfter
	}
	if _, err := c.withDefaults(); err != nil {
		return c, err
	}
	return c, nil
}
