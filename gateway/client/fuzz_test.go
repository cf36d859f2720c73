package client_test

import (
	"context"
	"testing"

	"github.com/wampgate/wampgate/gateway/client"
	"github.com/wampgate/wampgate/gateway/wamp"
)

// FuzzRouterMessage feeds one arbitrary message from the router to a
// session that has a registration (1), a subscription (2) and a pending
// call (request 3). Whatever arrives, the session must not panic, the call
// must return once the session is closed, and Done must close.
func FuzzRouterMessage(f *testing.F) {
	for _, seed := range []string{
		`[50,3,{},["ok"],{"k":1}]`,
		`[50,3,{"progress":true},["partial"]]`,
		`[8,48,3,{},"com.example.error",["why"]]`,
		`[8,32,3,{},"wrong.type"]`,
		`[36,2,77,{"topic":"t"},[1,"\u0000AQID"]]`,
		`[68,9,1,{"receive_progress":true},["x"]]`,
		`[68,9,5,{}]`,
		`[69,9,{"mode":"killnowait"}]`,
		`[6,{},"wamp.close.system_shutdown"]`,
		`[3,{},"wamp.error.protocol_violation"]`,
		`[67,0,{"registration":1}]`,
		`[35,0,{"subscription":2}]`,
		`[2,1,{}]`,
		`[33,99,1]`,
		`[1]`,
		`not json`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		s, r := setup(t)
		register(t, s, r, "p", nil, 1, func(ctx context.Context, inv *client.Invocation) (*client.Result, error) {
			_ = inv.Progress(inv.Args, nil)
			return &client.Result{Args: inv.Args, Kwargs: inv.Kwargs}, nil
		})
		subscribe(t, s, r, "t", nil, 2, func(*client.Event) {})
		res := asyncCall(s, context.Background(), "c", nil, nil, nil)
		equal(t, "call request", expect[*wamp.Call](r).Request, wamp.ID(3))
		r.sendRaw(data)
		s.Close()
		await(t, res)
		waitDone(t, s)
	})
}
