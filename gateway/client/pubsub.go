package client

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/wampgate/wampgate/gateway/wamp"
)

// Event is one EVENT delivered to a subscription handler. Handlers must not
// modify it: several handles on the same router subscription share it.
type Event struct {
	Args    wamp.List
	Kwargs  wamp.Dict
	Details wamp.Dict
	// Topic is Details.topic when the router sent it (pattern
	// subscriptions), else the subscribed topic.
	Topic        string
	Subscription wamp.ID
	Publication  wamp.ID
}

// Subscription is a handle returned by Subscribe.
type Subscription struct {
	s       *Session
	id      wamp.ID // set by the reader before Subscribe returns
	topic   string
	handler func(*Event)
	active  atomic.Bool
}

// ID returns the router's subscription ID. Subscribing twice to the same
// topic and match policy yields two handles with the same ID.
func (sub *Subscription) ID() wamp.ID { return sub.id }

// Topic returns the topic (or pattern) subscribed to.
func (sub *Subscription) Topic() string { return sub.topic }

// Publish publishes to topic. Without opts["acknowledge"]=true it returns
// once the PUBLISH is written; with it, it waits for PUBLISHED (nil) or
// ERROR (*Error) until ctx is done.
func (s *Session) Publish(ctx context.Context, topic string, args wamp.List, kwargs wamp.Dict, opts wamp.Dict) error {
	if err := ctx.Err(); err != nil {
		return wrapOp("publish "+topic, err)
	}
	m := &wamp.Publish{Options: opts, Topic: topic, Payload: wamp.Payload{Args: args, Kwargs: kwargs}}
	if !wamp.OptBool(opts, "acknowledge", false) {
		if err := s.sendRequest(nil, m); err != nil {
			return wrapOp("publish "+topic, err)
		}
		return nil
	}
	r := newRequest(wamp.TypePublish)
	reply, err := s.roundTrip(ctx, r, m)
	if err != nil {
		return wrapOp("publish "+topic, err)
	}
	if e, ok := reply.(*wamp.Error); ok {
		return errorFromMessage(e.Error, e.Details, &e.Payload)
	}
	return nil
}

// roundTrip sends a request and waits for its final reply.
func (s *Session) roundTrip(ctx context.Context, r *request, m wamp.Message) (wamp.Message, error) {
	if err := s.sendRequest(r, m); err != nil {
		return nil, err
	}
	return s.wait(ctx, r)
}

// Subscribe subscribes h to topic. opts are SUBSCRIBE.Options, e.g.
// {"match": "prefix"}. h is called from the session's dispatch goroutine,
// one event at a time, in the order the router sent them; see the package
// documentation. A router ERROR is returned as an *Error.
func (s *Session) Subscribe(ctx context.Context, topic string, opts wamp.Dict, h func(*Event)) (*Subscription, error) {
	if h == nil {
		return nil, errors.New("client: subscribe: nil handler")
	}
	if err := ctx.Err(); err != nil {
		return nil, wrapOp("subscribe "+topic, err)
	}
	sub := &Subscription{s: s, topic: topic, handler: h}
	r := newRequest(wamp.TypeSubscribe)
	r.sub = sub
	reply, err := s.roundTrip(ctx, r, &wamp.Subscribe{Options: opts, Topic: topic})
	if err != nil {
		return nil, wrapOp("subscribe "+topic, err)
	}
	if e, ok := reply.(*wamp.Error); ok {
		return nil, errorFromMessage(e.Error, e.Details, &e.Payload)
	}
	return sub, nil
}

// Unsubscribe stops deliveries to this handle at once (events already
// queued are skipped) and, when it was the session's last handle on the
// router subscription, sends UNSUBSCRIBE and waits for the reply. Calling
// it again returns nil.
func (sub *Subscription) Unsubscribe(ctx context.Context) error {
	s := sub.s
	s.mu.Lock()
	if !sub.active.Swap(false) {
		s.mu.Unlock()
		return nil
	}
	list := slices.DeleteFunc(slices.Clone(s.subs[sub.id]), func(x *Subscription) bool { return x == sub })
	last := len(list) == 0
	if last {
		delete(s.subs, sub.id)
	} else {
		s.subs[sub.id] = list
	}
	s.mu.Unlock()
	if !last {
		return nil
	}
	reply, err := s.roundTrip(ctx, newRequest(wamp.TypeUnsubscribe), &wamp.Unsubscribe{Subscription: sub.id})
	if err != nil {
		return wrapOp("unsubscribe "+sub.topic, err)
	}
	if e, ok := reply.(*wamp.Error); ok {
		return errorFromMessage(e.Error, e.Details, &e.Payload)
	}
	return nil
}

// handleSubscribed installs the handle before the reply is delivered, so
// that an EVENT right behind the SUBSCRIBED finds it.
func (s *Session) handleSubscribed(m *wamp.Subscribed) {
	s.mu.Lock()
	r := s.takeLocked(m.Request, wamp.TypeSubscribe, m.MessageType())
	if r == nil {
		s.mu.Unlock()
		return
	}
	if !r.abandoned {
		r.sub.id = m.Subscription
		r.sub.active.Store(true)
		s.subs[m.Subscription] = append(s.subs[m.Subscription], r.sub)
		r.final <- m
		s.mu.Unlock()
		return
	}
	orphan := len(s.subs[m.Subscription]) == 0
	s.mu.Unlock()
	if orphan {
		// Nobody waits for this subscription: undo it, ignoring the reply.
		u := newRequest(wamp.TypeUnsubscribe)
		u.abandoned = true
		_ = s.sendRequest(u, &wamp.Unsubscribe{Subscription: m.Subscription})
	}
}

func (s *Session) handleSubscriptionRevoked(m *wamp.Unsubscribed) {
	id, _ := wamp.AsUint(m.Details["subscription"])
	s.mu.Lock()
	list := s.subs[wamp.ID(id)]
	delete(s.subs, wamp.ID(id))
	s.mu.Unlock()
	for _, sub := range list {
		sub.active.Store(false)
	}
	s.log.Info("subscription revoked by router", "subscription", id, "reason", wamp.OptString(m.Details, "reason", ""))
}

func (s *Session) handleEvent(m *wamp.Event) {
	s.mu.Lock()
	handles := s.subs[m.Subscription]
	s.mu.Unlock()
	if len(handles) == 0 {
		s.log.Debug("ignoring EVENT for unknown subscription", "subscription", uint64(m.Subscription))
		return
	}
	ev := &Event{
		Args:         m.Args,
		Kwargs:       m.Kwargs,
		Details:      m.Details,
		Topic:        wamp.OptString(m.Details, "topic", handles[0].topic),
		Subscription: m.Subscription,
		Publication:  m.Publication,
	}
	if !s.events.push(eventItem{ev: ev, handles: handles}) {
		n := s.dropped.Add(1)
		if s.events.startDropping() {
			s.log.Warn("event queue full, dropping events", "subscription", uint64(m.Subscription), "dropped_total", n)
		}
	}
}

// eventItem is one EVENT and the handles it goes to (a snapshot: handle
// slices in Session.subs are never modified in place).
type eventItem struct {
	ev      *Event
	handles []*Subscription
}

// eventQueue is the bounded FIFO between the reader and the dispatcher:
// mutex, slice and a one-slot notify channel.
type eventQueue struct {
	mu       sync.Mutex
	items    []eventItem // guarded by mu
	limit    int
	dropping bool // guarded by mu: the last push was refused
	notify   chan struct{}
}

func (q *eventQueue) init(limit int) {
	q.limit = limit
	q.notify = make(chan struct{}, 1)
}

// push appends it unless the queue is full.
func (q *eventQueue) push(it eventItem) bool {
	q.mu.Lock()
	if len(q.items) >= q.limit {
		q.mu.Unlock()
		return false
	}
	q.items = append(q.items, it)
	q.dropping = false
	q.mu.Unlock()
	select {
	case q.notify <- struct{}{}:
	default:
	}
	return true
}

// startDropping records a refused push and reports whether it starts a run
// of drops (so it is logged once per run).
func (q *eventQueue) startDropping() bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	first := !q.dropping
	q.dropping = true
	return first
}

// swap returns everything queued and keeps buf (emptied) for the next
// round, so the steady state allocates nothing.
func (q *eventQueue) swap(buf []eventItem) []eventItem {
	q.mu.Lock()
	defer q.mu.Unlock()
	items := q.items
	q.items = buf[:0]
	return items
}

// dispatchLoop calls event handlers one at a time. Events queued before the
// session ended are still delivered.
func (s *Session) dispatchLoop() {
	defer s.wg.Done()
	var batch []eventItem
	for {
		stop := false
		select {
		case <-s.events.notify:
		case <-s.ended:
			stop = true
		}
		batch = s.events.swap(batch)
		for i := range batch {
			for _, sub := range batch[i].handles {
				if sub.active.Load() {
					s.callEventHandler(sub, batch[i].ev)
				}
			}
			batch[i] = eventItem{}
		}
		if stop {
			return
		}
	}
}

func (s *Session) callEventHandler(sub *Subscription, ev *Event) {
	defer func() {
		if p := recover(); p != nil {
			s.log.Error("event handler panicked", "uri", sub.topic, "panic", fmt.Sprint(p))
		}
	}()
	sub.handler(ev)
}
