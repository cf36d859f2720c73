package codec_test

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/wampgate/wampgate/gateway/wamp"
	"github.com/wampgate/wampgate/gateway/wamp/codec"
)

// benchMessages are the hot-path shapes: a small CALL
// ([48, 1, {}, "com.example.add", [2, 3]]) and an EVENT with a small
// kwargs dict, as a telemetry publisher on a serial device sends it.
var benchMessages = []struct {
	name string
	m    wamp.Message
}{
	{"call", &wamp.Call{Request: 1, Options: wamp.Dict{}, Procedure: "com.example.add",
		Payload: wamp.Payload{Args: wamp.List{int64(2), int64(3)}}}},
	{"event", &wamp.Event{Subscription: 5512315355, Publication: 4429313566, Details: wamp.Dict{},
		Payload: wamp.Payload{Kwargs: wamp.Dict{"temp": 21.5, "unit": "C", "sensor": "greenhouse-3", "ok": true}}}},
}

func BenchmarkEncode(b *testing.B) {
	for _, c := range codec.All() {
		for _, bm := range benchMessages {
			b.Run(c.Name()+"/"+bm.name, func(b *testing.B) {
				out, err := c.Encode(bm.m)
				if err != nil {
					b.Fatal(err)
				}
				b.SetBytes(int64(len(out)))
				b.ReportAllocs()
				for b.Loop() {
					if _, err := c.Encode(bm.m); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

func BenchmarkDecode(b *testing.B) {
	for _, c := range codec.All() {
		for _, bm := range benchMessages {
			b.Run(c.Name()+"/"+bm.name, func(b *testing.B) {
				data, err := c.Encode(bm.m)
				if err != nil {
					b.Fatal(err)
				}
				b.SetBytes(int64(len(data)))
				b.ReportAllocs()
				for b.Loop() {
					if _, err := c.Decode(data); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// BenchmarkDecodeStdlibJSON is a reference point for the hand-written JSON
// decoder: encoding/json with UseNumber into an any, without the
// normalisation pass and without FromList, i.e. less work than Decode.
func BenchmarkDecodeStdlibJSON(b *testing.B) {
	for _, bm := range benchMessages {
		b.Run(bm.name, func(b *testing.B) {
			data, err := codec.JSON.Encode(bm.m)
			if err != nil {
				b.Fatal(err)
			}
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			for b.Loop() {
				d := json.NewDecoder(bytes.NewReader(data))
				d.UseNumber()
				var v any
				if err := d.Decode(&v); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
