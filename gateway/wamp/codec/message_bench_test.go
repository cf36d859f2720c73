package codec_test

import (
	"testing"

	"github.com/wampgate/wampgate/gateway/wamp"
	"github.com/wampgate/wampgate/gateway/wamp/codec"
)

// benchHello is a HELLO as autobahn clients send it: nested role and
// feature dicts, decoded once per session join.
var benchHello = &wamp.Hello{Realm: "realm1", Details: wamp.Dict{
	"agent": "autobahn-python-23.1.2",
	"roles": wamp.Dict{
		"caller": wamp.Dict{"features": wamp.Dict{"caller_identification": true, "progressive_call_results": true,
			"call_canceling": true, "call_timeout": true, "payload_passthru_mode": true}},
		"callee": wamp.Dict{"features": wamp.Dict{"caller_identification": true, "pattern_based_registration": true,
			"shared_registration": true, "progressive_call_results": true, "registration_revocation": true}},
		"publisher": wamp.Dict{"features": wamp.Dict{"publisher_identification": true, "subscriber_blackwhite_listing": true,
			"publisher_exclusion": true}},
		"subscriber": wamp.Dict{"features": wamp.Dict{"publisher_identification": true, "pattern_based_subscription": true,
			"subscription_revocation": true}},
	},
	"authmethods": wamp.List{"anonymous"},
}}

func BenchmarkDecodeHello(b *testing.B) {
	for _, c := range codec.All() {
		b.Run(c.Name(), func(b *testing.B) {
			data, err := c.Encode(benchHello)
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

func BenchmarkToList(b *testing.B) {
	for _, bm := range benchMessages {
		b.Run(bm.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if wamp.ToList(bm.m) == nil {
					b.Fatal("nil list")
				}
			}
		})
	}
}
