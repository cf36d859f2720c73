package codec_test

import (
	"reflect"
	"testing"

	"github.com/wampgate/wampgate/gateway/wamp"
	"github.com/wampgate/wampgate/gateway/wamp/codec"
)

// Wire bytes below are the WAMP project's single-message test vectors
// (wamp-proto/wamp-proto, testsuite/singlemessage/basic/*.json), typed into
// this table so the test has no external files.
type goldenVector struct {
	name    string
	json    []string // one or more accepted JSON texts
	msgpack string   // hex
	cbor    string   // hex
	want    wamp.Message
	// exact: every map in the message has at most one key, so our encoders
	// must reproduce the msgpack and CBOR bytes exactly, and the JSON
	// output must equal json[len(json)-1] (the compact form).
	exact bool
}

var goldenVectors = []goldenVector{
	{
		name: "hello.json",
		json: []string{
			`[1, "com.example.realm", {"roles": {"subscriber": {}, "publisher": {}}}]`,
			`[1,"com.example.realm",{"roles":{"subscriber":{},"publisher":{}}}]`,
		},
		msgpack: "9301b1636f6d2e6578616d706c652e7265616c6d81a5726f6c657382aa7375627363726962657280a97075626c697368657280",
		cbor:    "830171636f6d2e6578616d706c652e7265616c6da165726f6c6573a26a73756273637269626572a0697075626c6973686572a0",
		want: &wamp.Hello{Realm: "com.example.realm", Details: wamp.Dict{
			"roles": wamp.Dict{"subscriber": wamp.Dict{}, "publisher": wamp.Dict{}},
		}},
	},
	{
		name: "subscribe.json",
		json: []string{
			`[32, 713845233, {}, "com.myapp.mytopic1"]`,
			`[32,713845233,{},"com.myapp.mytopic1"]`,
		},
		msgpack: "9420ce2a8c69f180b2636f6d2e6d796170702e6d79746f70696331",
		cbor:    "8418201a2a8c69f1a072636f6d2e6d796170702e6d79746f70696331",
		want:    &wamp.Subscribe{Request: 713845233, Options: wamp.Dict{}, Topic: "com.myapp.mytopic1"},
		exact:   true,
	},
	{
		name: "call.json",
		json: []string{
			`[48, 7814135, {}, "com.myapp.myprocedure1", ["Hello, world!"]]`,
			`[48,7814135,{},"com.myapp.myprocedure1",["Hello, world!"]]`,
		},
		msgpack: "9530ce00773bf780b6636f6d2e6d796170702e6d7970726f6365647572653191ad48656c6c6f2c20776f726c6421",
		cbor:    "8518301a00773bf7a076636f6d2e6d796170702e6d7970726f63656475726531816d48656c6c6f2c20776f726c6421",
		want: &wamp.Call{Request: 7814135, Options: wamp.Dict{}, Procedure: "com.myapp.myprocedure1",
			Payload: wamp.Payload{Args: wamp.List{"Hello, world!"}}},
		exact: true,
	},
	{
		name: "error.json",
		json: []string{
			`[8, 48, 7814135, {}, "com.myapp.error"]`,
			`[8,48,7814135,{},"com.myapp.error"]`,
		},
		msgpack: "950830ce00773bf780af636f6d2e6d796170702e6572726f72",
		cbor:    "850818301a00773bf7a06f636f6d2e6d796170702e6572726f72",
		want:    &wamp.Error{RequestType: wamp.TypeCall, Request: 7814135, Details: wamp.Dict{}, Error: "com.myapp.error"},
		exact:   true,
	},
	{
		name: "publish.json",
		json: []string{
			`[16, 239714735, {}, "com.myapp.mytopic1", ["Hello, world!"]]`,
			`[16,239714735,{},"com.myapp.mytopic1",["Hello, world!"]]`,
		},
		msgpack: "9510ce0e49c1af80b2636f6d2e6d796170702e6d79746f7069633191ad48656c6c6f2c20776f726c6421",
		want: &wamp.Publish{Request: 239714735, Options: wamp.Dict{}, Topic: "com.myapp.mytopic1",
			Payload: wamp.Payload{Args: wamp.List{"Hello, world!"}}},
		exact: true,
	},
	{
		name:    "event.json/positional",
		json:    []string{`[36,9823526,112233445566,{},["Hello, event!"]]`},
		msgpack: "9524ce0095e526cf0000001a21a278be8091ad48656c6c6f2c206576656e7421",
		cbor:    "8518241a0095e5261b0000001a21a278bea0816d48656c6c6f2c206576656e7421",
		want: &wamp.Event{Subscription: 9823526, Publication: 112233445566, Details: wamp.Dict{},
			Payload: wamp.Payload{Args: wamp.List{"Hello, event!"}}},
		exact: true,
	},
	{
		name: "event.json/transparent-payload",
		json: []string{`[36,5647382910,998877665544,{"enc_algo":"cryptobox","enc_serializer":"msgpack"},"\u0000g6Vjb2xvcqRibHVlpHNpemWlbGFyZ2WlY291bnQe"]`},
		msgpack: "9524cf00000001509c397ecf000000e891bf990882a8656e635f616c676fa963727970746f626f78ae656e635f73657269616c697a6572a76d73677061636b" +
			"c41e83a5636f6c6f72a4626c7565a473697a65a56c61726765a5636f756e741e",
		cbor: "8518241b00000001509c397e1b000000e891bf9908a268656e635f616c676f6963727970746f626f786e656e635f73657269616c697a6572676d73677061636b" +
			"581e83a5636f6c6f72a4626c7565a473697a65a56c61726765a5636f756e741e",
		want: &wamp.Event{Subscription: 5647382910, Publication: 998877665544,
			Details: wamp.Dict{"enc_algo": "cryptobox", "enc_serializer": "msgpack"},
			Payload: wamp.Payload{Opaque: []byte{
				0x83, 0xa5, 0x63, 0x6f, 0x6c, 0x6f, 0x72, 0xa4, 0x62, 0x6c, 0x75, 0x65, 0xa4, 0x73, 0x69,
				0x7a, 0x65, 0xa5, 0x6c, 0x61, 0x72, 0x67, 0x65, 0xa5, 0x63, 0x6f, 0x75, 0x6e, 0x74, 0x1e,
			}}},
	},
	{
		name: "event.json/forward_for",
		json: []string{`[36,7418529630,556677889900,{"forward_for":[{"session":2468013579,"authid":"frontend1","authrole":"user"}]},[100,"data"]]`},
		msgpack: "9524cf00000001ba2dc75ecf000000819c967f6c81ab666f72776172645f666f729183a773657373696f6ece931ae60b" +
			"a6617574686964a966726f6e74656e6431a861757468726f6c65a4757365729264a464617461",
		cbor: "8518241b00000001ba2dc75e1b000000819c967f6ca16b666f72776172645f666f7281a36773657373696f6e1a931ae60b" +
			"666175746869646966726f6e74656e64316861757468726f6c6564757365728218646464617461",
		want: &wamp.Event{Subscription: 7418529630, Publication: 556677889900,
			Details: wamp.Dict{"forward_for": wamp.List{
				wamp.Dict{"session": int64(2468013579), "authid": "frontend1", "authrole": "user"},
			}},
			Payload: wamp.Payload{Args: wamp.List{int64(100), "data"}}},
	},
}

func TestGoldenVectors(t *testing.T) {
	for _, gv := range goldenVectors {
		t.Run(gv.name, func(t *testing.T) {
			type input struct {
				c    codec.Codec
				data []byte
			}
			var inputs []input
			for _, j := range gv.json {
				inputs = append(inputs, input{codec.JSON, []byte(j)})
			}
			if gv.msgpack != "" {
				inputs = append(inputs, input{codec.MsgPack, mustHex(t, gv.msgpack)})
			}
			if gv.cbor != "" {
				inputs = append(inputs, input{codec.CBOR, mustHex(t, gv.cbor)})
			}
			for _, in := range inputs {
				got, err := in.c.Decode(in.data)
				if err != nil {
					t.Fatalf("%s: Decode: %v", in.c.Name(), err)
				}
				if !reflect.DeepEqual(got, gv.want) {
					t.Fatalf("%s: got %#v\nwant %#v", in.c.Name(), got, gv.want)
				}
			}
			if !gv.exact {
				return
			}
			for _, in := range inputs {
				if in.c == codec.JSON && string(in.data) != gv.json[len(gv.json)-1] {
					continue // only the compact JSON form is what we write
				}
				b, err := in.c.Encode(gv.want)
				if err != nil {
					t.Fatalf("%s: Encode: %v", in.c.Name(), err)
				}
				if string(b) != string(in.data) {
					t.Errorf("%s: Encode = %x\nwant %x", in.c.Name(), b, in.data)
				}
			}
		})
	}
}
