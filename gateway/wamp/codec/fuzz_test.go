package codec_test

import (
	"errors"
	"testing"

	"github.com/wampgate/wampgate/gateway/wamp"
	"github.com/wampgate/wampgate/gateway/wamp/codec"
)

// fuzzDecode checks the decoder contract for arbitrary input: no panic,
// errors of the documented kinds, results inside the value model, and
// decode(encode(decode(x))) == decode(x), both for values and for messages.
// Decoded values must also survive every other codec, except where the
// target cannot represent them (JSON has no NaN, no infinities and no
// strings starting with U+0000), which must be an ErrUnsupportedValue.
func fuzzDecode(t *testing.T, c codec.Codec, data []byte) {
	v, err := c.DecodeValue(data)
	if err != nil {
		if !errors.Is(err, codec.ErrMalformed) {
			t.Fatalf("DecodeValue error does not wrap ErrMalformed: %v", err)
		}
		if v != nil {
			t.Fatalf("DecodeValue returned %#v with error %v", v, err)
		}
	} else {
		checkModel(t, v)
		b, err := c.EncodeValue(v)
		if err != nil {
			t.Fatalf("EncodeValue(%#v): %v", v, err)
		}
		v2, err := c.DecodeValue(b)
		if err != nil {
			t.Fatalf("DecodeValue(EncodeValue(v)) = %v (bytes %q)", err, b)
		}
		if !modelEqual(v, v2) {
			t.Fatalf("value round trip mismatch\nfirst:  %#v\nsecond: %#v", v, v2)
		}
		for _, o := range codec.All() {
			ob, err := o.EncodeValue(v)
			if err != nil {
				if o != codec.JSON || !errors.Is(err, codec.ErrUnsupportedValue) {
					t.Fatalf("%s: EncodeValue(%#v): %v", o.Name(), v, err)
				}
				continue
			}
			ov, err := o.DecodeValue(ob)
			if err != nil || !modelEqual(v, ov) {
				t.Fatalf("%s: cross-codec mismatch: %#v, %v\nwant %#v", o.Name(), ov, err, v)
			}
		}
	}

	m, err := c.Decode(data)
	if err != nil {
		var pe *wamp.ProtocolError
		if !errors.Is(err, codec.ErrMalformed) && !errors.As(err, &pe) {
			t.Fatalf("Decode error is neither ErrMalformed nor *wamp.ProtocolError: %v", err)
		}
		return
	}
	b, err := c.Encode(m)
	if err != nil {
		t.Fatalf("Encode(%#v): %v", m, err)
	}
	m2, err := c.Decode(b)
	if err != nil {
		t.Fatalf("Decode(Encode(m)): %v (bytes %q)", err, b)
	}
	if !modelEqual(wamp.ToList(m), wamp.ToList(m2)) {
		t.Fatalf("message round trip mismatch\nfirst:  %#v\nsecond: %#v", m, m2)
	}
}

// addSeeds adds every sample message in c's encoding, so that the fuzzer
// starts from valid WAMP. The on-disk corpus in testdata/fuzz adds junk.
func addSeeds(f *testing.F, c codec.Codec) {
	for _, m := range sampleMessages() {
		b, err := c.Encode(m)
		if err != nil {
			f.Fatalf("seed %s: %v", m.MessageType(), err)
		}
		f.Add(b)
	}
}

func FuzzDecodeJSON(f *testing.F) {
	addSeeds(f, codec.JSON)
	f.Fuzz(func(t *testing.T, data []byte) { fuzzDecode(t, codec.JSON, data) })
}

func FuzzDecodeMsgPack(f *testing.F) {
	addSeeds(f, codec.MsgPack)
	f.Fuzz(func(t *testing.T, data []byte) { fuzzDecode(t, codec.MsgPack, data) })
}

func FuzzDecodeCBOR(f *testing.F) {
	addSeeds(f, codec.CBOR)
	f.Fuzz(func(t *testing.T, data []byte) { fuzzDecode(t, codec.CBOR, data) })
}
