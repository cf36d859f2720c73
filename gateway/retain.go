package gateway

import (
	"github.com/wampgate/wampgate/gateway/broker"
	"github.com/wampgate/wampgate/gateway/wamp"
)

// retainedEvent is the last event published with retain=true on a topic.
type retainedEvent struct {
	topic    string
	pubID    wamp.ID
	payload  wamp.Payload
	filter   deliveryFilter
	disclose wamp.Dict
}

// retain stores m as the retained event of its topic.
func (rm *realm) retain(m *wamp.Publish, pubID wamp.ID, filter deliveryFilter, disclose wamp.Dict) {
	ev := &retainedEvent{topic: m.Topic, pubID: pubID, payload: m.Payload, filter: filter, disclose: disclose}
	rm.retainMu.Lock()
	if rm.retained == nil {
		rm.retained = map[string]*retainedEvent{}
	}
	rm.retained[m.Topic] = ev
	rm.retainMu.Unlock()
}

// sendRetained sends s the retained events matching sub that s would have
// been eligible to receive, marked with Details.retained=true.
func (rm *realm) sendRetained(s *session, sub *broker.Subscription[*session]) {
	var evs []*retainedEvent
	rm.retainMu.Lock()
	if sub.Match == wamp.MatchExact {
		if ev := rm.retained[sub.URI]; ev != nil {
			evs = append(evs, ev)
		}
	} else {
		for topic, ev := range rm.retained {
			if wamp.MatchURI(sub.URI, sub.Match, topic) {
				evs = append(evs, ev)
			}
		}
	}
	rm.retainMu.Unlock()
	z := rm.policy.Load().authz
	for _, ev := range evs {
		if !ev.filter.allows(s) || (z != nil && !z.Allowed(s.authrole, "subscribe", ev.topic)) {
			continue
		}
		details := wamp.Dict{"retained": true}
		if sub.Match != wamp.MatchExact {
			details["topic"] = ev.topic
		}
		for k, v := range ev.disclose {
			details[k] = v
		}
		s.send(&wamp.Event{Subscription: sub.ID, Publication: ev.pubID, Details: details, Payload: ev.payload})
	}
}
