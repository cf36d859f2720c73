package devices_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/wampgate/wampgate/devices"
	"github.com/wampgate/wampgate/transports"
)

func TestDicts(t *testing.T) {
	checkGoroutines(t)
	master, path := openPty(t)
	a, r := newFakeAttacher(), newRecorder()
	m := devices.New(fastConfig(a, r,
		devices.Device{Name: "pump1", Port: path, Realm: "realm1", Prefix: "dev.pump1.", PingInterval: -1},
		devices.Device{Name: "other", TCP: "127.0.0.1:1", Realm: "realm2", AuthRole: "sensor"},
	))
	before := time.Now().Add(-time.Second)
	m.Start()
	defer m.Close()
	d := newFakeDevice(t, master)
	d.connect(transports.CBOR)
	s := a.next(t)
	online := r.expect(t, "pump1", true, devices.ReasonNone)
	if err := d.sendWAMP([]byte("x")); err != nil {
		t.Fatal(err)
	}
	s.expectMsg(t, "x")
	d.expectWAMP("echo:x")

	all := m.ListDict("")
	if len(all) != 2 || all[0]["name"] != "other" || all[1]["name"] != "pump1" {
		t.Fatalf("ListDict(\"\") = %v", all)
	}
	r1 := m.ListDict("realm1")
	if len(r1) != 1 {
		t.Fatalf("ListDict(realm1) = %v", r1)
	}
	if none := m.ListDict("nope"); none == nil || len(none) != 0 {
		t.Fatalf("ListDict(nope) = %#v, want empty and non-nil", none)
	}
	got := r1[0]
	want := map[string]any{
		"name": "pump1", "state": "online", "kind": "serial", "source": path, "path": path,
		"realm": "realm1", "authid": "pump1", "authrole": "device", "prefix": "dev.pump1.",
		"reconnects": int64(0), "sessions": int64(1), "handshakes": int64(1),
		"handshake_errors": int64(0), "crc_drops": int64(0), "cobs_drops": int64(0),
		"other_drops": int64(0), "seq_gaps": int64(0), "resets": int64(0), "ping_timeouts": int64(0),
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("dict[%q] = %#v, want %#v", k, got[k], v)
		}
	}
	for _, k := range []string{"bytes_in", "bytes_out", "frames_in", "frames_out", "resets_sent"} {
		if n, ok := got[k].(int64); !ok || n <= 0 {
			t.Errorf("dict[%q] = %#v, want a positive int64", k, got[k])
		}
	}
	for _, k := range []string{"since", "last_seen"} {
		str, _ := got[k].(string)
		ts, err := time.Parse(time.RFC3339, str)
		if err != nil || ts.Before(before) || ts.After(time.Now().Add(time.Second)) {
			t.Errorf("dict[%q] = %#v: %v", k, got[k], err)
		}
	}
	if _, ok := got["reason"]; ok {
		t.Errorf("reason present before any offline: %v", got["reason"])
	}
	if _, err := json.Marshal(all); err != nil {
		t.Fatalf("dicts do not marshal: %v", err)
	}

	waitFor(t, "other to fail dialling", func() bool {
		od, ok := m.GetDict("other")
		return ok && od["reason"] == "dial_failed" && od["error"] != nil && od["state"] == "offline" && od["kind"] == "serial-tcp"
	})
	if od, _ := m.GetDict("other"); od["authrole"] != "sensor" || od["source"] != "tcp://127.0.0.1:1" {
		t.Fatalf("other = %v", od)
	}
	if _, ok := m.GetDict("missing"); ok {
		t.Fatal("GetDict of an unknown device succeeded")
	}

	on := devices.EventDict(online)
	if on["online"] != true || on["name"] != "pump1" || on["realm"] != "realm1" || on["state"] != "online" {
		t.Fatalf("online event dict %v", on)
	}
	if _, ok := on["reason"]; ok {
		t.Fatalf("online event has a reason: %v", on)
	}
	d.handshake(transports.CBOR) // reboot
	off := devices.EventDict(r.expect(t, "pump1", false, devices.ReasonDeviceReset))
	if off["online"] != false || off["reason"] != "device_reset" || off["state"] == "online" {
		t.Fatalf("offline event dict %v", off)
	}
	if _, err := json.Marshal(off); err != nil {
		t.Fatal(err)
	}
}
