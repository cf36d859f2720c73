package client_test

import (
	"context"
	"sync"
	"testing"

	"github.com/wampgate/wampgate/gateway/client"
	"github.com/wampgate/wampgate/gateway/wamp"
	"github.com/wampgate/wampgate/transports"
)

func TestPublishNoAck(t *testing.T) {
	s, r := setup(t)
	err := s.Publish(context.Background(), "com.example.t", wamp.List{int64(1)}, wamp.Dict{"a": "b"}, wamp.Dict{"exclude_me": false})
	if err != nil {
		t.Fatal(err)
	}
	p := expect[*wamp.Publish](r)
	equal(t, "request", p.Request, wamp.ID(1))
	equal(t, "topic", p.Topic, "com.example.t")
	equal(t, "args", p.Args, wamp.List{int64(1)})
	equal(t, "kwargs", p.Kwargs, wamp.Dict{"a": "b"})
	equal(t, "options", p.Options, wamp.Dict{"exclude_me": false})
}

func TestPublishAck(t *testing.T) {
	s, r := setup(t)
	res := asyncErr(func() error {
		return s.Publish(context.Background(), "t", nil, nil, wamp.Dict{"acknowledge": true})
	})
	p := expect[*wamp.Publish](r)
	r.send(&wamp.Published{Request: p.Request, Publication: 555})
	if err := await(t, res); err != nil {
		t.Fatal(err)
	}

	res = asyncErr(func() error {
		return s.Publish(context.Background(), "wamp.t", nil, nil, wamp.Dict{"acknowledge": true})
	})
	p = expect[*wamp.Publish](r)
	r.send(&wamp.Error{RequestType: wamp.TypePublish, Request: p.Request, Details: wamp.Dict{},
		Error: wamp.ErrNotAuthorized, Payload: wamp.Payload{Args: wamp.List{"reserved topic"}}})
	err := await(t, res)
	wantErrorIs(t, err, &client.Error{URI: wamp.ErrNotAuthorized})
	equal(t, "message", err.Error(), "client: wamp.error.not_authorized: reserved topic")
}

func TestPublishAckCanceled(t *testing.T) {
	s, r := setup(t)
	ctx, cancel := context.WithCancel(context.Background())
	res := asyncErr(func() error {
		return s.Publish(ctx, "t", nil, nil, wamp.Dict{"acknowledge": true})
	})
	p := expect[*wamp.Publish](r)
	cancel()
	wantErrorIs(t, await(t, res), context.Canceled)
	r.send(&wamp.Published{Request: p.Request, Publication: 1}) // discarded
	if err := s.Publish(context.Background(), "t2", nil, nil, nil); err != nil {
		t.Fatal(err)
	}
	equal(t, "next request", expect[*wamp.Publish](r).Request, p.Request+1)
}

type subResult struct {
	sub *client.Subscription
	err error
}

// subscribe subscribes h to topic and answers SUBSCRIBED with subID, then
// sends the events right behind it (before Subscribe can return).
func subscribe(t *testing.T, s *client.Session, r *fakeRouter, topic string, opts wamp.Dict, subID wamp.ID, h func(*client.Event), events ...*wamp.Event) *client.Subscription {
	t.Helper()
	res := async(func() subResult {
		sub, err := s.Subscribe(context.Background(), topic, opts, h)
		return subResult{sub, err}
	})
	m := expect[*wamp.Subscribe](r)
	equal(t, "topic", m.Topic, topic)
	r.send(&wamp.Subscribed{Request: m.Request, Subscription: subID})
	for _, ev := range events {
		r.send(ev)
	}
	sr := await(t, res)
	if sr.err != nil {
		t.Fatal(sr.err)
	}
	equal(t, "subscription ID", sr.sub.ID(), subID)
	equal(t, "subscription topic", sr.sub.Topic(), topic)
	return sr.sub
}

// syncPoint makes a call and answers it: the reader has processed every
// message the router sent before, and the dispatcher has run every event
// handler for them once the handler of the events in flight signalled.
func syncPoint(t *testing.T, s *client.Session, r *fakeRouter) {
	t.Helper()
	res := asyncCall(s, context.Background(), "sync", nil, nil, nil)
	c := expect[*wamp.Call](r)
	r.send(&wamp.Result{Request: c.Request, Details: wamp.Dict{}})
	if err := await(t, res).err; err != nil {
		t.Fatal(err)
	}
}

func TestSubscribeEventUnsubscribe(t *testing.T) {
	s, r := setup(t)
	events := make(chan *client.Event, 10)
	h := func(ev *client.Event) { events <- ev }
	ev := func(pub wamp.ID, details wamp.Dict, args ...any) *wamp.Event {
		return &wamp.Event{Subscription: 3, Publication: pub, Details: details, Payload: wamp.Payload{Args: args}}
	}
	sub := subscribe(t, s, r, "com.example.", wamp.Dict{"match": "prefix"}, 3, h,
		ev(100, wamp.Dict{"topic": "com.example.a"}, int64(1)),
		ev(101, wamp.Dict{"topic": "com.example.b"}, int64(2)),
		ev(102, wamp.Dict{}, int64(3)))
	for i, want := range []struct {
		pub   wamp.ID
		topic string
	}{{100, "com.example.a"}, {101, "com.example.b"}, {102, "com.example."}} {
		e := await(t, events)
		equal(t, "publication", e.Publication, want.pub)
		equal(t, "topic", e.Topic, want.topic)
		equal(t, "subscription", e.Subscription, wamp.ID(3))
		equal(t, "args", e.Args, wamp.List{int64(i + 1)})
	}

	res := asyncErr(func() error { return sub.Unsubscribe(context.Background()) })
	u := expect[*wamp.Unsubscribe](r)
	equal(t, "unsubscribe subscription", u.Subscription, wamp.ID(3))
	// Events after Unsubscribe started are not delivered.
	r.send(ev(103, wamp.Dict{}))
	r.send(&wamp.Unsubscribed{Request: u.Request})
	if err := await(t, res); err != nil {
		t.Fatal(err)
	}
	r.send(ev(104, wamp.Dict{}))
	syncPoint(t, s, r)
	select {
	case e := <-events:
		t.Fatalf("event %d delivered after Unsubscribe", e.Publication)
	default:
	}
	if err := sub.Unsubscribe(context.Background()); err != nil {
		t.Errorf("second Unsubscribe = %v, want nil", err)
	}
	r.expectNothing()
}

func TestSubscribeSameTopicTwice(t *testing.T) {
	s, r := setup(t)
	var mu sync.Mutex
	got := map[string][]wamp.ID{}
	handler := func(name string) func(*client.Event) {
		return func(e *client.Event) {
			mu.Lock()
			got[name] = append(got[name], e.Publication)
			mu.Unlock()
		}
	}
	a := subscribe(t, s, r, "t", nil, 7, handler("a"))
	b := subscribe(t, s, r, "t", nil, 7, handler("b"))
	r.send(&wamp.Event{Subscription: 7, Publication: 1, Details: wamp.Dict{}})
	syncPoint(t, s, r)
	eventually(t, "both handlers", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(got["a"]) == 1 && len(got["b"]) == 1
	})

	// The first Unsubscribe stays local; the second sends UNSUBSCRIBE.
	if err := a.Unsubscribe(context.Background()); err != nil {
		t.Fatal(err)
	}
	r.send(&wamp.Event{Subscription: 7, Publication: 2, Details: wamp.Dict{}})
	eventually(t, "second event at b", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(got["b"]) == 2
	})
	res := asyncErr(func() error { return b.Unsubscribe(context.Background()) })
	u := expect[*wamp.Unsubscribe](r) // the first Unsubscribe sent nothing
	equal(t, "subscription", u.Subscription, wamp.ID(7))
	r.send(&wamp.Unsubscribed{Request: u.Request})
	if err := await(t, res); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	equal(t, "handler a", got["a"], []wamp.ID{1})
	equal(t, "handler b", got["b"], []wamp.ID{1, 2})
}

func TestSubscribeError(t *testing.T) {
	s, r := setup(t)
	res := async(func() subResult {
		sub, err := s.Subscribe(context.Background(), "bad..uri", nil, func(*client.Event) {})
		return subResult{sub, err}
	})
	m := expect[*wamp.Subscribe](r)
	r.send(&wamp.Error{RequestType: wamp.TypeSubscribe, Request: m.Request, Details: wamp.Dict{}, Error: wamp.ErrInvalidURI})
	sr := await(t, res)
	wantErrorIs(t, sr.err, &client.Error{URI: wamp.ErrInvalidURI})
	if sr.sub != nil {
		t.Error("Subscribe returned a handle with an error")
	}
}

func TestUnsubscribeError(t *testing.T) {
	s, r := setup(t)
	sub := subscribe(t, s, r, "t", nil, 1, func(*client.Event) {})
	res := asyncErr(func() error { return sub.Unsubscribe(context.Background()) })
	u := expect[*wamp.Unsubscribe](r)
	r.send(&wamp.Error{RequestType: wamp.TypeUnsubscribe, Request: u.Request, Details: wamp.Dict{}, Error: wamp.ErrNoSuchSubscription})
	wantErrorIs(t, await(t, res), &client.Error{URI: wamp.ErrNoSuchSubscription})
}

func TestSubscribeAbandoned(t *testing.T) {
	s, r := setup(t)
	ctx, cancel := context.WithCancel(context.Background())
	res := async(func() subResult {
		sub, err := s.Subscribe(ctx, "t", nil, func(*client.Event) { t.Error("handler of an abandoned subscription called") })
		return subResult{sub, err}
	})
	m := expect[*wamp.Subscribe](r)
	cancel()
	wantErrorIs(t, await(t, res).err, context.Canceled)
	r.send(&wamp.Subscribed{Request: m.Request, Subscription: 4})
	r.send(&wamp.Event{Subscription: 4, Publication: 1, Details: wamp.Dict{}})
	u := expect[*wamp.Unsubscribe](r)
	equal(t, "subscription", u.Subscription, wamp.ID(4))
	r.send(&wamp.Unsubscribed{Request: u.Request})
	syncPoint(t, s, r)
}

func TestSubscriptionRevoked(t *testing.T) {
	s, r := setup(t)
	events := make(chan *client.Event, 4)
	sub := subscribe(t, s, r, "t", nil, 6, func(e *client.Event) { events <- e })
	r.send(&wamp.Unsubscribed{Request: 0, Details: wamp.Dict{"subscription": int64(6)}})
	r.send(&wamp.Event{Subscription: 6, Publication: 1, Details: wamp.Dict{}})
	syncPoint(t, s, r)
	if err := sub.Unsubscribe(context.Background()); err != nil {
		t.Errorf("Unsubscribe after revocation = %v, want nil", err)
	}
	select {
	case <-events:
		t.Fatal("event delivered after revocation")
	default:
	}
	r.expectNothing()
}

// TestEventHandlerCanCall: handlers run off the reader, so they may make
// calls and wait for the results.
func TestEventHandlerCanCall(t *testing.T) {
	s, r := setup(t)
	results := make(chan callResult, 1)
	subscribe(t, s, r, "t", nil, 1, func(e *client.Event) {
		res, err := s.Call(context.Background(), "from.handler", e.Args, nil, nil)
		results <- callResult{res, err}
	}, &wamp.Event{Subscription: 1, Publication: 1, Details: wamp.Dict{}, Payload: wamp.Payload{Args: wamp.List{"x"}}})
	c := expect[*wamp.Call](r)
	equal(t, "procedure", c.Procedure, "from.handler")
	r.send(&wamp.Result{Request: c.Request, Details: wamp.Dict{}, Payload: wamp.Payload{Args: c.Args}})
	cr := await(t, results)
	if cr.err != nil {
		t.Fatal(cr.err)
	}
	equal(t, "args", cr.res.Args, wamp.List{"x"})
}

// TestEventQueueOverflow: with a blocked handler, EVENTs beyond the queue
// size are dropped and counted while RPC keeps working.
func TestEventQueueOverflow(t *testing.T) {
	conn, r := newFakeRouter(t, transports.JSON)
	s := join(t, conn, r, client.Options{EventQueueSize: 2})
	started := make(chan struct{}, 1)
	release := make(chan struct{})
	got := make(chan wamp.ID, 10)
	subscribe(t, s, r, "t", nil, 1, func(e *client.Event) {
		if e.Publication == 1 {
			started <- struct{}{}
			<-release
		}
		got <- e.Publication
	})
	ev := func(pub wamp.ID) *wamp.Event {
		return &wamp.Event{Subscription: 1, Publication: pub, Details: wamp.Dict{}}
	}
	r.send(ev(1))
	await(t, started)
	for pub := wamp.ID(2); pub <= 5; pub++ {
		r.send(ev(pub))
	}
	syncPoint(t, s, r) // the reader has handled events 2 to 5
	equal(t, "dropped", s.DroppedEvents(), uint64(2))
	close(release)
	for _, want := range []wamp.ID{1, 2, 3} {
		equal(t, "publication", await(t, got), want)
	}
	// The queue has room again.
	r.send(ev(6))
	equal(t, "publication", await(t, got), wamp.ID(6))
	equal(t, "dropped", s.DroppedEvents(), uint64(2))
}
