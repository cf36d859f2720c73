package codec

import (
	"testing"

	"github.com/wampgate/wampgate/gateway/wamp"
)

// TestHotPathAllocations pins the allocation counts of the hot messages:
// one for an encode (the returned bytes), and for a decode one per
// container and one for the message struct, none for integers, the
// procedure URI or small values.
func TestHotPathAllocations(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector changes sync.Pool behaviour")
	}
	call := &wamp.Call{Request: 123456789, Options: wamp.Dict{}, Procedure: "com.example.add",
		Payload: wamp.Payload{Args: wamp.List{int64(2), int64(3)}}}
	event := &wamp.Event{Subscription: 5512315355, Publication: 4429313566, Details: wamp.Dict{},
		Payload: wamp.Payload{Args: wamp.List{"sixteen-byte-str"}}}
	result := &wamp.Result{Request: 123456789, Details: wamp.Dict{}, Payload: wamp.Payload{Args: wamp.List{int64(5)}}}
	tests := []struct {
		m      wamp.Message
		decode float64 // Options/Details dict, Arguments list, the struct
	}{
		{call, 3},
		{event, 3}, // the 16-byte string comes from the value cache after the first run
		{result, 3},
	}
	for _, c := range All() {
		for _, tt := range tests {
			name := c.Name() + "/" + tt.m.MessageType().String()
			if n := testing.AllocsPerRun(200, func() {
				if _, err := c.Encode(tt.m); err != nil {
					t.Fatal(err)
				}
			}); n != 1 {
				t.Errorf("%s: Encode allocates %v times, want 1", name, n)
			}
			data, err := c.Encode(tt.m)
			if err != nil {
				t.Fatal(err)
			}
			if n := testing.AllocsPerRun(200, func() {
				if _, err := c.Decode(data); err != nil {
					t.Fatal(err)
				}
			}); n != tt.decode {
				t.Errorf("%s: Decode allocates %v times, want %v", name, n, tt.decode)
			}
		}
	}
}
