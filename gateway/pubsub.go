package gateway

import (
	"slices"

	"github.com/wampgate/wampgate/gateway/auth"
	"github.com/wampgate/wampgate/gateway/broker"
	"github.com/wampgate/wampgate/gateway/wamp"
)

func (rm *realm) handleSubscribe(s *session, m *wamp.Subscribe) {
	match := wamp.OptString(m.Options, "match", wamp.MatchExact)
	switch match {
	case wamp.MatchExact, wamp.MatchPrefix, wamp.MatchWildcard:
	default:
		replyError(s, wamp.TypeSubscribe, m.Request, wamp.ErrInvalidArgument, "unknown match policy "+match)
		return
	}
	if !rm.validURI(m.Topic, match) {
		replyError(s, wamp.TypeSubscribe, m.Request, wamp.ErrInvalidURI, "invalid topic URI "+m.Topic)
		return
	}
	if !rm.allowed(s, auth.ActionSubscribe, m.Topic) {
		replyError(s, wamp.TypeSubscribe, m.Request, wamp.ErrNotAuthorized, "role "+s.authrole+" may not subscribe to "+m.Topic)
		return
	}
	sub, created, added, err := rm.broker.Subscribe(s, m.Topic, match)
	if err != nil {
		replyError(s, wamp.TypeSubscribe, m.Request, wamp.ErrInvalidArgument, err.Error())
		return
	}
	s.send(&wamp.Subscribed{Request: m.Request, Subscription: sub.ID})
	if wamp.OptBool(m.Options, "get_retained", false) {
		rm.sendRetained(s, sub)
	}
	if created {
		rm.publishMeta(metaSubOnCreate, wamp.List{int64(s.id), subscriptionDetails(sub)})
	}
	if added {
		rm.publishMeta(metaSubOnSubscribe, wamp.List{int64(s.id), int64(sub.ID)})
	}
}

func (rm *realm) handleUnsubscribe(s *session, m *wamp.Unsubscribe) {
	sub, deleted, err := rm.broker.Unsubscribe(s, m.Subscription)
	if err != nil {
		replyError(s, wamp.TypeUnsubscribe, m.Request, wamp.ErrNoSuchSubscription, "")
		return
	}
	s.send(&wamp.Unsubscribed{Request: m.Request})
	rm.publishMeta(metaSubOnUnsub, wamp.List{int64(s.id), int64(sub.ID)})
	if deleted {
		rm.publishMeta(metaSubOnDelete, wamp.List{int64(s.id), int64(sub.ID)})
	}
}

// deliveryFilter applies the publisher's black- and whitelists.
type deliveryFilter struct {
	exclude, eligible                 []wamp.ID
	excludeAuthID, eligibleAuthID     []string
	excludeAuthRole, eligibleAuthRole []string
	hasEligible, hasEligibleAuthID    bool
	hasEligibleAuthRole, active       bool
}

func newDeliveryFilter(opts wamp.Dict) (f deliveryFilter, ok bool) {
	ok = true
	ids := func(key string) ([]wamp.ID, bool) {
		v, present := opts[key]
		if !present {
			return nil, false
		}
		l, isList := v.([]any)
		if !isList {
			ok = false
			return nil, false
		}
		out := make([]wamp.ID, 0, len(l))
		for _, e := range l {
			n, isInt := wamp.AsUint(e)
			if !isInt {
				ok = false
				return nil, false
			}
			out = append(out, wamp.ID(n))
		}
		return out, true
	}
	strs := func(key string) ([]string, bool) {
		v, present := opts[key]
		if !present {
			return nil, false
		}
		l, isList := v.([]any)
		if !isList {
			ok = false
			return nil, false
		}
		out := make([]string, 0, len(l))
		for _, e := range l {
			str, isStr := e.(string)
			if !isStr {
				ok = false
				return nil, false
			}
			out = append(out, str)
		}
		return out, true
	}
	var p1, p2, p3 bool
	f.exclude, _ = ids("exclude")
	f.eligible, p1 = ids("eligible")
	f.excludeAuthID, _ = strs("exclude_authid")
	f.eligibleAuthID, p2 = strs("eligible_authid")
	f.excludeAuthRole, _ = strs("exclude_authrole")
	f.eligibleAuthRole, p3 = strs("eligible_authrole")
	f.hasEligible, f.hasEligibleAuthID, f.hasEligibleAuthRole = p1, p2, p3
	f.active = p1 || p2 || p3 || f.exclude != nil || f.excludeAuthID != nil || f.excludeAuthRole != nil
	return f, ok
}

func (f *deliveryFilter) allows(s *session) bool {
	if !f.active {
		return true
	}
	if f.hasEligible && !slices.Contains(f.eligible, s.id) {
		return false
	}
	if f.hasEligibleAuthID && !slices.Contains(f.eligibleAuthID, s.authid) {
		return false
	}
	if f.hasEligibleAuthRole && !slices.Contains(f.eligibleAuthRole, s.authrole) {
		return false
	}
	return !slices.Contains(f.exclude, s.id) && !slices.Contains(f.excludeAuthID, s.authid) &&
		!slices.Contains(f.excludeAuthRole, s.authrole)
}

func (rm *realm) handlePublish(s *session, m *wamp.Publish) {
	ack := wamp.OptBool(m.Options, "acknowledge", false)
	fail := func(uri, message string) {
		if ack {
			replyError(s, wamp.TypePublish, m.Request, uri, message)
		}
	}
	if !rm.validURI(m.Topic, wamp.MatchExact) {
		fail(wamp.ErrInvalidURI, "invalid topic URI "+m.Topic)
		return
	}
	if wamp.Reserved(m.Topic) {
		fail(wamp.ErrInvalidURI, "topics under wamp. are reserved for the router")
		return
	}
	if !rm.allowed(s, auth.ActionPublish, m.Topic) {
		fail(wamp.ErrNotAuthorized, "role "+s.authrole+" may not publish to "+m.Topic)
		return
	}
	if !s.pubBucket.take(rm.policy.Load().publishRate) {
		rm.r.stats.rateLimited.Add(1)
		fail(ErrRateLimited, "publish rate limit exceeded")
		return
	}
	pubID, ok := rm.publish(s, m)
	if !ok {
		fail(wamp.ErrInvalidArgument, "exclude/eligible options must be lists of session IDs or strings")
		return
	}
	if ack {
		s.send(&wamp.Published{Request: m.Request, Publication: pubID})
	}
}

// publish routes a validated publication and stores it when it asks to be
// retained. It reports false when the black- or whitelist options are malformed.
func (rm *realm) publish(s *session, m *wamp.Publish) (wamp.ID, bool) {
	filter, ok := newDeliveryFilter(m.Options)
	if !ok {
		return 0, false
	}
	pubID := randomID()
	rm.r.stats.publications.Add(1)
	var disclose wamp.Dict // extra EVENT details: publisher disclosure and ppt_* keys
	if s != nil && wamp.OptBool(m.Options, "disclose_me", false) {
		disclose = wamp.Dict{"publisher": int64(s.id), "publisher_authid": s.authid, "publisher_authrole": s.authrole}
	}
	copyPPT(m.Options, &disclose)
	excludeMe := wamp.OptBool(m.Options, "exclude_me", true)
	var buf [8]*broker.Subscription[*session]
	delivered := 0
	rc := readCheck{z: rm.policy.Load().authz, topic: m.Topic}
	for _, sub := range rm.broker.Match(m.Topic, buf[:0]) {
		delivered += rm.deliver(s, sub, pubID, m, &filter, excludeMe, disclose, &rc)
	}
	if delivered > 0 {
		rm.r.stats.deliveries.Add(uint64(delivered))
	}
	if wamp.OptBool(m.Options, "retain", false) {
		rm.retain(m, pubID, filter, disclose)
	}
	return pubID, true
}

// deliver queues one EVENT for every eligible subscriber of sub. The event
// is encoded at most once per serializer and the bytes are shared.
func (rm *realm) deliver(pub *session, sub *broker.Subscription[*session], pubID wamp.ID, m *wamp.Publish,
	filter *deliveryFilter, excludeMe bool, disclose wamp.Dict, rc *readCheck) (delivered int) {
	var encoded [4][]byte // by serializer ID
	var failed [4]bool
	var details wamp.Dict
	for _, s := range sub.Subscribers() {
		if s == pub && excludeMe {
			continue
		}
		if !filter.allows(s) || !rc.allows(s.authrole) {
			continue
		}
		si := int(s.ser) & 3
		if failed[si] {
			continue
		}
		b := encoded[si]
		if b == nil {
			if details == nil {
				details = noDetails
				if sub.Match != wamp.MatchExact || disclose != nil {
					details = make(wamp.Dict, len(disclose)+1)
					if sub.Match != wamp.MatchExact {
						details["topic"] = m.Topic
					}
					for k, v := range disclose {
						details[k] = v
					}
				}
			}
			ev := &wamp.Event{Subscription: sub.ID, Publication: pubID, Details: details, Payload: m.Payload}
			var err error
			b, err = s.codec.Encode(ev)
			if err != nil {
				failed[si] = true
				rm.r.stats.drops[DropEncode].Add(1)
				continue
			}
			encoded[si] = b
		}
		if s.tooBig(b) {
			rm.r.stats.drops[DropTooBigForPeer].Add(1)
			continue
		}
		if s.push(b) {
			delivered++
		}
	}
	return delivered
}

// readCheck caches, for one publication, whether each subscriber role may
// read the topic: authorization is checked on every delivery, so a reload
// that takes a topic away from a role stops its events at once.
type readCheck struct {
	z     *auth.Authorizer
	topic string
	n     int
	roles [8]string
	ok    [8]bool
}

func (c *readCheck) allows(role string) bool {
	if c.z == nil {
		return true
	}
	for i := 0; i < c.n; i++ {
		if c.roles[i] == role {
			return c.ok[i]
		}
	}
	ok := c.z.Allowed(role, auth.ActionSubscribe, c.topic)
	if c.n < len(c.roles) {
		c.roles[c.n], c.ok[c.n] = role, ok
		c.n++
	}
	return ok
}

// noDetails is the shared, never modified Details dict of plain EVENTs.
var noDetails = wamp.Dict{}
