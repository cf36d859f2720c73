package codec_test

import (
	"encoding/hex"
	"fmt"
	"math"
	"reflect"
	"strings"
	"testing"

	"github.com/wampgate/wampgate/gateway/wamp"
)

// modelEqual compares two values of the neutral value model. Unlike
// reflect.DeepEqual it treats NaN as equal to NaN (binary codecs carry it),
// and it insists on identical dynamic types (int64 vs uint64 vs float64).
func modelEqual(a, b any) bool {
	switch x := a.(type) {
	case nil:
		return b == nil
	case bool, int64, uint64, string:
		return a == b
	case float64:
		y, ok := b.(float64)
		if !ok {
			return false
		}
		if math.IsNaN(x) || math.IsNaN(y) {
			return math.IsNaN(x) && math.IsNaN(y)
		}
		return math.Float64bits(x) == math.Float64bits(y)
	case []byte:
		y, ok := b.([]byte)
		return ok && string(x) == string(y) && (x == nil) == (y == nil)
	case []any:
		y, ok := b.([]any)
		if !ok || len(x) != len(y) || (x == nil) != (y == nil) {
			return false
		}
		for i := range x {
			if !modelEqual(x[i], y[i]) {
				return false
			}
		}
		return true
	case map[string]any:
		y, ok := b.(map[string]any)
		if !ok || len(x) != len(y) || (x == nil) != (y == nil) {
			return false
		}
		for k, v := range x {
			w, ok := y[k]
			if !ok || !modelEqual(v, w) {
				return false
			}
		}
		return true
	}
	return false
}

// checkModel fails the test if v holds anything outside the value model.
func checkModel(t testing.TB, v any) {
	t.Helper()
	if err := modelViolation(v); err != "" {
		t.Fatalf("value outside the model: %s (in %#v)", err, v)
	}
}

func modelViolation(v any) string {
	switch x := v.(type) {
	case nil, bool, int64, float64, string:
		return ""
	case uint64:
		if x <= math.MaxInt64 {
			return fmt.Sprintf("uint64 %d fits int64", x)
		}
		return ""
	case []byte:
		if x == nil {
			return "nil []byte"
		}
		return ""
	case []any:
		if x == nil {
			return "nil []any"
		}
		for _, e := range x {
			if s := modelViolation(e); s != "" {
				return s
			}
		}
		return ""
	case map[string]any:
		if x == nil {
			return "nil map"
		}
		for _, e := range x {
			if s := modelViolation(e); s != "" {
				return s
			}
		}
		return ""
	}
	return fmt.Sprintf("type %T", v)
}

func mustHex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		t.Fatalf("bad hex %q: %v", s, err)
	}
	return b
}

// afterWire returns what m looks like after a trip over the wire: nil dicts
// are sent as empty dicts (except the optional Details of UNSUBSCRIBED and
// UNREGISTERED, whose absence selects the short form).
func afterWire(m wamp.Message) wamp.Message {
	v := reflect.ValueOf(m).Elem()
	cp := reflect.New(v.Type()).Elem()
	cp.Set(v)
	switch m.(type) {
	case *wamp.Unsubscribed, *wamp.Unregistered:
		return cp.Addr().Interface().(wamp.Message)
	}
	dictType := reflect.TypeFor[wamp.Dict]()
	for i := range cp.NumField() {
		f := cp.Field(i)
		if f.Type() == dictType && f.IsNil() {
			f.Set(reflect.ValueOf(wamp.Dict{}))
		}
	}
	return cp.Addr().Interface().(wamp.Message)
}

// samplePayload holds every kind of the value model, nested.
func samplePayload() wamp.Payload {
	return wamp.Payload{
		Args: wamp.List{
			int64(1), int64(-7), int64(1 << 53), int64(math.MaxInt64), int64(math.MinInt64),
			uint64(math.MaxUint64), uint64(1 << 63), 3.25, -0.5, 1e300, 1.0,
			"plain", "ünïcödé ✓ 🚀", "quote\" back\\slash \n\t\x01", "",
			true, false, nil,
			[]byte{0, 1, 2, 0xff}, []byte{},
			wamp.List{}, wamp.List{int64(1), wamp.List{"deep", wamp.Dict{"k": int64(2)}}},
			wamp.Dict{},
		},
		Kwargs: wamp.Dict{
			"temp":   21.5,
			"unit":   "C",
			"ok":     true,
			"nested": wamp.Dict{"list": wamp.List{int64(1), "two", 3.5}, "bin": []byte("raw")},
			"":       "empty key",
			"nil":    nil,
		},
	}
}

// sampleMessages returns at least one message of every type. Dicts are
// left nil in some of them to exercise the nil-dict rule.
func sampleMessages() []wamp.Message {
	roles := wamp.Dict{"roles": wamp.Dict{"caller": wamp.Dict{"features": wamp.Dict{"progressive_call_results": true}}}}
	return []wamp.Message{
		&wamp.Hello{Realm: "com.example.realm", Details: roles},
		&wamp.Hello{Realm: "realm1"},
		&wamp.Welcome{Session: 9129137332, Details: wamp.Dict{"authid": "alice", "authrole": "user"}},
		&wamp.Abort{Details: wamp.Dict{"message": "no such realm"}, Reason: wamp.ErrNoSuchRealm},
		&wamp.Abort{Reason: wamp.ErrProtocolViolation, Payload: wamp.Payload{Args: wamp.List{"bad"}}},
		&wamp.Challenge{AuthMethod: "wampcra", Extra: wamp.Dict{"challenge": `{"nonce":"x"}`}},
		&wamp.Authenticate{Signature: "c2lnbmF0dXJl", Extra: wamp.Dict{}},
		&wamp.Goodbye{Details: wamp.Dict{}, Reason: wamp.CloseNormal},
		&wamp.Goodbye{Reason: wamp.CloseGoodbyeAndOut},
		&wamp.Error{RequestType: wamp.TypeCall, Request: 7814135, Details: wamp.Dict{}, Error: "com.myapp.error"},
		&wamp.Error{RequestType: wamp.TypeInvocation, Request: 1, Error: wamp.ErrRuntimeError, Payload: samplePayload()},
		&wamp.Publish{Request: 239714735, Topic: "com.myapp.mytopic1", Payload: wamp.Payload{Args: wamp.List{"Hello, world!"}}},
		&wamp.Publish{Request: wamp.MaxID, Options: wamp.Dict{"acknowledge": true}, Topic: "t", Payload: samplePayload()},
		&wamp.Published{Request: 1, Publication: wamp.MaxID},
		&wamp.Subscribe{Request: 713845233, Options: wamp.Dict{"match": "prefix"}, Topic: "com.myapp."},
		&wamp.Subscribed{Request: 713845233, Subscription: 5512315355},
		&wamp.Unsubscribe{Request: 85346237, Subscription: 5512315355},
		&wamp.Unsubscribed{Request: 85346237},
		&wamp.Unsubscribed{Request: 0, Details: wamp.Dict{"subscription": int64(5512315355), "reason": "wamp.error.kicked"}},
		&wamp.Event{Subscription: 5512315355, Publication: 4429313566, Details: wamp.Dict{}},
		&wamp.Event{Subscription: 1, Publication: 2, Payload: wamp.Payload{Kwargs: wamp.Dict{"only": "kwargs"}, Args: wamp.List{}}},
		&wamp.Event{Subscription: 5647382910, Publication: 998877665544,
			Details: wamp.Dict{"enc_algo": "cryptobox"}, Payload: wamp.Payload{Opaque: []byte{0x83, 0xa5, 0, 1}}},
		&wamp.Call{Request: 7814135, Procedure: "com.myapp.myprocedure1", Payload: wamp.Payload{Args: wamp.List{"Hello, world!"}}},
		&wamp.Call{Request: 1, Options: wamp.Dict{"timeout": int64(1000), "receive_progress": true}, Procedure: "com.example.add", Payload: samplePayload()},
		&wamp.Cancel{Request: 7814135, Options: wamp.Dict{"mode": "killnowait"}},
		&wamp.Result{Request: 7814135, Details: wamp.Dict{}, Payload: wamp.Payload{Args: wamp.List{int64(30)}}},
		&wamp.Result{Request: 7814135, Details: wamp.Dict{"progress": true}, Payload: wamp.Payload{Opaque: "opaque string"}},
		&wamp.Register{Request: 25349185, Options: wamp.Dict{"match": "wildcard"}, Procedure: "com.myapp..add"},
		&wamp.Registered{Request: 25349185, Registration: 2103333224},
		&wamp.Unregister{Request: 788923562, Registration: 2103333224},
		&wamp.Unregistered{Request: 788923562},
		&wamp.Unregistered{Request: 0, Details: wamp.Dict{"registration": int64(2103333224)}},
		&wamp.Invocation{Request: 6131533, Registration: 9823527, Details: wamp.Dict{"caller": int64(3335656)}, Payload: samplePayload()},
		&wamp.Interrupt{Request: 6131533, Options: wamp.Dict{"mode": "kill", "reason": wamp.ErrCanceled}},
		&wamp.Yield{Request: 6131533, Payload: wamp.Payload{Args: wamp.List{"result"}, Kwargs: wamp.Dict{"n": int64(2)}}},
		&wamp.Yield{Request: 6131534, Options: wamp.Dict{"progress": true}},
	}
}

// allTypes is every message type code, to check that sampleMessages covers
// them all.
var allTypes = []wamp.MessageType{
	wamp.TypeHello, wamp.TypeWelcome, wamp.TypeAbort, wamp.TypeChallenge, wamp.TypeAuthenticate,
	wamp.TypeGoodbye, wamp.TypeError, wamp.TypePublish, wamp.TypePublished, wamp.TypeSubscribe,
	wamp.TypeSubscribed, wamp.TypeUnsubscribe, wamp.TypeUnsubscribed, wamp.TypeEvent, wamp.TypeCall,
	wamp.TypeCancel, wamp.TypeResult, wamp.TypeRegister, wamp.TypeRegistered, wamp.TypeUnregister,
	wamp.TypeUnregistered, wamp.TypeInvocation, wamp.TypeInterrupt, wamp.TypeYield,
}
