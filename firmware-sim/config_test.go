package firmwaresim

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/wampgate/wampgate/transports"
)

func TestLoadFleetConfig(t *testing.T) {
	const file = `{
	  "name_prefix": "node",
	  "defaults": {"baud": 9600, "faults": {"tx": {"ber": 1e-4}}, "seed": 100},
	  "devices": [
	    {"name": "pump1", "procedures": ["add", {"name": "open", "kind": "set", "latency": 0.25}],
	     "publishers": [{"topic": "flow", "interval": "2s", "base": 3, "spread": 0.1}],
	     "faults": {"reboot_every": "30s", "mute_pings_after": 3, "wrong_serializer": 15}},
	    {"serializer": "json", "seed": 5, "publishers": [], "faults": {"rx": {"garbage_rate": 0.01, "stall": "1s"}}}
	  ]
	}`
	base := FleetConfig{
		Count: 3,
		Template: DeviceConfig{
			Realm:      "iot",
			Procedures: []Procedure{{Name: "x", Kind: KindSet}, {Name: "y", Kind: KindGet}},
			Faults:     FaultConfig{RX: LineFaults{DropRate: 0.5}},
		},
	}
	cfg, err := LoadFleetConfig(strings.NewReader(file), base)
	if err != nil {
		t.Fatal(err)
	}
	equal(t, "Count", cfg.Count, 0) // "devices" without "count"
	equal(t, "Template.Baud", cfg.Template.Baud, 9600)
	equal(t, "Template.Realm", cfg.Template.Realm, "iot") // kept from the flags
	dcs, err := cfg.DeviceConfigs()
	if err != nil {
		t.Fatal(err)
	}
	if len(dcs) != 2 {
		t.Fatalf("%d devices, want 2", len(dcs))
	}
	p1, p2 := dcs[0], dcs[1]
	equal(t, "name", p1.Name, "pump1")
	equal(t, "name 2", p2.Name, "node2")
	equal(t, "seed", p1.Seed, 100)
	equal(t, "seed 2", p2.Seed, 5)
	equal(t, "baud", p1.Baud, 9600)
	equal(t, "realm", p2.Realm, "iot")
	equal(t, "tx ber", p1.Faults.TX.BitErrorRate, 1e-4)
	equal(t, "rx drop (flags)", p1.Faults.RX.DropRate, 0.5)
	equal(t, "rx garbage", p2.Faults.RX.GarbageRate, 0.01)
	equal(t, "rx drop kept", p2.Faults.RX.DropRate, 0.5)
	equal(t, "rx stall", p2.Faults.RX.StallDuration, time.Second)
	equal(t, "reboot", p1.Faults.RebootEvery, 30*time.Second)
	equal(t, "mute", p1.Faults.MutePings, true)
	equal(t, "mute after", p1.Faults.MutePingsAfter, 3)
	equal(t, "mute 2", p2.Faults.MutePings, false)
	equal(t, "wrong serializer", p1.Faults.WrongSerializer, transports.Serializer(15))
	equal(t, "serializer", p2.Serializer, transports.JSON)
	if len(p1.Procedures) != 2 || p1.Procedures[0] != (Procedure{Name: "add"}) ||
		p1.Procedures[1] != (Procedure{Name: "open", Kind: KindSet, Latency: 250 * time.Millisecond}) {
		t.Fatalf("procedures %+v", p1.Procedures)
	}
	// The second device inherits the flags' procedures, unchanged by what
	// the first device's entry decoded.
	if len(p2.Procedures) != 2 || p2.Procedures[0] != (Procedure{Name: "x", Kind: KindSet}) {
		t.Fatalf("procedures 2 %+v", p2.Procedures)
	}
	if len(p1.Publishers) != 1 || p1.Publishers[0] != (Publisher{Topic: "flow", Interval: 2 * time.Second, Base: 3, Spread: 0.1}) {
		t.Fatalf("publishers %+v", p1.Publishers)
	}
	if p2.Publishers == nil || len(p2.Publishers) != 0 {
		t.Fatalf("publishers 2 %#v, want empty", p2.Publishers)
	}
	if base.Template.Procedures[0].Name != "x" {
		t.Fatal("LoadFleetConfig changed its base")
	}
}

func TestLoadFleetConfigCount(t *testing.T) {
	cfg, err := LoadFleetConfig(strings.NewReader(`{"count": 4, "defaults": {"mode": "tcp-serial", "listen": "127.0.0.1:5000"}}`),
		FleetConfig{Count: 1})
	if err != nil {
		t.Fatal(err)
	}
	dcs, err := cfg.DeviceConfigs()
	if err != nil || len(dcs) != 4 {
		t.Fatalf("%d devices, %v", len(dcs), err)
	}
	equal(t, "listen 4", dcs[3].Listen, "127.0.0.1:5003")
	equal(t, "mode", dcs[3].Mode, ModeTCPSerial)
}

func TestLoadFleetConfigErrors(t *testing.T) {
	tests := []struct{ name, file string }{
		{"syntax", `{`},
		{"unknown key", `{"devises": []}`},
		{"unknown device key", `{"devices": [{"baudrate": 9600}]}`},
		{"unknown fault key", `{"defaults": {"faults": {"ber": 1}}}`},
		{"bad duration", `{"devices": [{"join_timeout": "soon"}]}`},
		{"bad mode", `{"devices": [{"mode": "usb"}]}`},
		{"bad serializer", `{"devices": [{"serializer": "xml"}]}`},
		{"bad kind", `{"devices": [{"procedures": [{"name": "a", "kind": "b"}]}]}`},
		{"unknown procedure key", `{"devices": [{"procedures": [{"name": "a", "speed": 1}]}]}`},
		{"bad rate", `{"devices": [{"faults": {"tx": {"ber": 3}}}]}`},
		{"wrong serializer", `{"devices": [{"faults": {"wrong_serializer": 16}}]}`},
		{"trailing data", `{} {}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := LoadFleetConfig(strings.NewReader(tt.file), FleetConfig{}); !errors.Is(err, ErrInvalidConfig) {
				t.Fatalf("error %v, want ErrInvalidConfig", err)
			}
		})
	}
}
