package client_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/wampgate/wampgate/gateway/client"
	"github.com/wampgate/wampgate/gateway/wamp"
)

// This example needs a router on 127.0.0.1:8081, so it is compiled but not
// run by go test.
func Example() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s, err := client.Connect(ctx, "tcp://127.0.0.1:8081", "realm1", client.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer s.Leave(context.Background(), "")

	// Callee: the handler runs in its own goroutine per invocation.
	_, err = s.Register(ctx, "com.example.add", nil, func(ctx context.Context, inv *client.Invocation) (*client.Result, error) {
		a, _ := wamp.AsInt(inv.Args[0])
		b, _ := wamp.AsInt(inv.Args[1])
		return &client.Result{Args: wamp.List{a + b}}, nil
	})
	if err != nil {
		fmt.Println(err)
		return
	}

	// Subscriber: handlers run one at a time on the dispatch goroutine.
	_, err = s.Subscribe(ctx, "com.example.", wamp.Dict{"match": "prefix"}, func(ev *client.Event) {
		fmt.Println(ev.Topic, ev.Args)
	})
	if err != nil {
		fmt.Println(err)
		return
	}

	// Caller: router and callee errors come back as *client.Error.
	res, err := s.Call(ctx, "com.example.add", wamp.List{int64(2), int64(3)}, nil, nil)
	var werr *client.Error
	switch {
	case errors.As(err, &werr):
		fmt.Println("call failed:", werr.URI, werr.Args)
	case err != nil:
		fmt.Println(err)
	default:
		fmt.Println(res.Args[0])
	}

	// Publisher: wait for the router's acknowledgement.
	if err := s.Publish(ctx, "com.example.news", wamp.List{"hello"}, nil, wamp.Dict{"acknowledge": true}); err != nil {
		fmt.Println(err)
		return
	}
}
