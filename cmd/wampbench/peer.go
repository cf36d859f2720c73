package main

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/wampgate/wampgate/gateway/wamp"
	"github.com/wampgate/wampgate/gateway/wamp/codec"
	"github.com/wampgate/wampgate/transports"
	"github.com/wampgate/wampgate/transports/rawsocket"
	"github.com/wampgate/wampgate/transports/websocket"
)

// errGoodbye ends a read loop when the router answers our GOODBYE.
var errGoodbye = errors.New("wampbench: goodbye")

// peer is one client connection to the router under test. During setup
// its owner reads and writes synchronously; afterwards one reader
// goroutine consumes everything the router sends (readLoop), and writes go
// either directly from a single goroutine (writeNow) or through the batching
// writer goroutine (startWriter, queue).
type peer struct {
	conn  transports.Conn
	codec codec.Codec
	ser   transports.Serializer
	id    wamp.ID // session ID from WELCOME

	// Outgoing batch: encoded messages back to back in out, message i
	// ending at ends[i]. Guarded by mu; the writer swaps it with an empty
	// one and writes it in one Write call.
	mu      sync.Mutex
	out     []byte
	ends    []int
	stopped bool // no more writes: the writer exits once out is flushed
	kick    chan struct{}
	werr    error // guarded by mu: why the writer stopped
	wdone   chan struct{}
	scratch []byte // writeNow's buffer, owned by the single direct writer

	rdone chan struct{} // closed when the reader goroutine exits; nil if none
}

// dialPeer opens a transport connection as o asks.
func dialPeer(ctx context.Context, o *options) (*peer, error) {
	c, err := codecFor(o.ser)
	if err != nil {
		return nil, err
	}
	topts := transports.Options{HandshakeTimeout: o.timeout, WriteTimeout: o.timeout}
	var conn transports.Conn
	if o.target.network == "" {
		conn, err = websocket.Dial(ctx, o.target.address, o.ser, topts)
	} else {
		conn, err = rawsocket.Dial(ctx, o.target.network, o.target.address, o.ser, topts)
	}
	if err != nil {
		return nil, fmt.Errorf("wampbench: dial %s: %w", o.target.url, err)
	}
	return &peer{conn: conn, codec: c, ser: o.ser}, nil
}

// codecFor returns the codec of a serializer.
func codecFor(ser transports.Serializer) (codec.Codec, error) {
	c, err := codec.ByName(ser.String())
	if err != nil {
		return nil, fmt.Errorf("wampbench: %w", err)
	}
	return c, nil
}

// helloBytes encodes the HELLO wampbench sends: anonymous, with the roles
// given.
func helloBytes(c codec.Codec, realm string, roles ...string) ([]byte, error) {
	r := wamp.Dict{}
	for _, role := range roles {
		r[role] = wamp.Dict{}
	}
	b, err := c.Encode(&wamp.Hello{Realm: realm, Details: wamp.Dict{"roles": r, "agent": "wampbench"}})
	if err != nil {
		return nil, fmt.Errorf("wampbench: encode hello: %w", err)
	}
	return b, nil
}

// join sends hello (from helloBytes) and waits for WELCOME. ctx bounds the
// wait by closing the connection.
func (p *peer) join(ctx context.Context, hello []byte) error {
	stop := context.AfterFunc(ctx, func() { p.conn.Close() })
	defer stop()
	if err := p.conn.Write([][]byte{hello}); err != nil {
		return p.ctxErr(ctx, fmt.Errorf("wampbench: send hello: %w", err))
	}
	b, err := p.conn.Read()
	if err != nil {
		return p.ctxErr(ctx, fmt.Errorf("wampbench: wait for welcome: %w", err))
	}
	typ, id, hasID, ok := peek(p.ser, b)
	if ok && typ == wamp.TypeWelcome && hasID {
		p.id = wamp.ID(id)
		return nil
	}
	return p.unexpected(b, "WELCOME")
}

// ctxErr prefers the context's cause when it ended the operation.
func (p *peer) ctxErr(ctx context.Context, err error) error {
	if ctx.Err() == nil {
		return err
	}
	cause := context.Cause(ctx)
	if errors.Is(cause, context.DeadlineExceeded) || errors.Is(cause, context.Canceled) {
		return fmt.Errorf("%w (%w)", err, cause)
	}
	return cause
}

// unexpected describes a message that was not the one wanted.
func (p *peer) unexpected(b []byte, want string) error {
	m, err := p.codec.Decode(b)
	if err != nil {
		return fmt.Errorf("wampbench: undecodable message while waiting for %s: %w", want, err)
	}
	return fmt.Errorf("wampbench: got %s while waiting for %s", describe(m), want)
}

// describe summarises a message for an error, with the error URI or abort
// reason when there is one.
func describe(m wamp.Message) string {
	switch m := m.(type) {
	case *wamp.Abort:
		return fmt.Sprintf("ABORT %s %v", m.Reason, m.Details["message"])
	case *wamp.Error:
		return fmt.Sprintf("ERROR for %s: %s %v", m.RequestType, m.Error, m.Args)
	case *wamp.Goodbye:
		return "GOODBYE " + m.Reason
	}
	return m.MessageType().String()
}

// request sends m synchronously and waits for the reply of type want with
// the same request ID. Setup only: no reader goroutine may run yet.
func (p *peer) request(ctx context.Context, m wamp.Message, req wamp.ID, want wamp.MessageType) (uint64, error) {
	stop := context.AfterFunc(ctx, func() { p.conn.Close() })
	defer stop()
	b, err := p.codec.Encode(m)
	if err != nil {
		return 0, fmt.Errorf("wampbench: encode %s: %w", m.MessageType(), err)
	}
	if err := p.conn.Write([][]byte{b}); err != nil {
		return 0, p.ctxErr(ctx, fmt.Errorf("wampbench: send %s: %w", m.MessageType(), err))
	}
	for {
		b, err := p.conn.Read()
		if err != nil {
			return 0, p.ctxErr(ctx, fmt.Errorf("wampbench: wait for %s: %w", want, err))
		}
		reply, err := p.codec.Decode(b)
		if err != nil {
			return 0, fmt.Errorf("wampbench: decode reply to %s: %w", m.MessageType(), err)
		}
		switch r := reply.(type) {
		case *wamp.Registered:
			if want == wamp.TypeRegistered && r.Request == req {
				return uint64(r.Registration), nil
			}
		case *wamp.Subscribed:
			if want == wamp.TypeSubscribed && r.Request == req {
				return uint64(r.Subscription), nil
			}
		case *wamp.Event:
			continue // a subscriber may see events before its own reply
		}
		return 0, fmt.Errorf("wampbench: got %s while waiting for %s", describe(reply), want)
	}
}

// hotFunc handles a message in a read loop from its peeked type and ID. It
// reports false for messages it does not handle, which the loop then
// decodes: GOODBYE ends the loop, anything else is an error.
type hotFunc func(typ wamp.MessageType, id uint64, b []byte) (bool, error)

// readLoop reads until the connection fails or the router says GOODBYE
// (errGoodbye).
func (p *peer) readLoop(hot hotFunc) error {
	for {
		b, err := p.conn.Read()
		if err != nil {
			return fmt.Errorf("wampbench: read: %w", err)
		}
		typ, id, _, ok := peek(p.ser, b)
		if ok && hot != nil {
			handled, err := hot(typ, id, b)
			if err != nil {
				return err
			}
			if handled {
				continue
			}
		}
		m, err := p.codec.Decode(b)
		if err != nil {
			return fmt.Errorf("wampbench: decode: %w", err)
		}
		if _, ok := m.(*wamp.Goodbye); ok {
			return errGoodbye
		}
		return fmt.Errorf("wampbench: unexpected %s", describe(m))
	}
}

// writeNow writes one message built by t with ID id from the caller's
// goroutine. Only one goroutine per peer may use it, and never together
// with the writer goroutine.
func (p *peer) writeNow(t *template, id uint64) error {
	p.scratch = t.appendTo(p.scratch[:0], id)
	if err := p.conn.Write([][]byte{p.scratch}); err != nil {
		return fmt.Errorf("wampbench: write: %w", err)
	}
	return nil
}

// startWriter starts the batching writer goroutine; onErr (may be nil) is
// called if a write fails.
func (p *peer) startWriter(onErr func(error)) {
	p.kick = make(chan struct{}, 1)
	p.wdone = make(chan struct{})
	go p.writeLoop(onErr)
}

// queue appends the message built by t with ID id to the next batch.
// After the writer stopped it does nothing.
func (p *peer) queue(t *template, id uint64) {
	p.mu.Lock()
	if p.stopped {
		p.mu.Unlock()
		return
	}
	p.out = t.appendTo(p.out, id)
	p.ends = append(p.ends, len(p.out))
	p.mu.Unlock()
	select {
	case p.kick <- struct{}{}:
	default:
	}
}

// queueBytes appends an already encoded message to the next batch.
func (p *peer) queueBytes(b []byte) {
	p.mu.Lock()
	if p.stopped {
		p.mu.Unlock()
		return
	}
	p.out = append(p.out, b...)
	p.ends = append(p.ends, len(p.out))
	p.mu.Unlock()
	select {
	case p.kick <- struct{}{}:
	default:
	}
}

// stopWriter makes the writer exit after flushing what is queued, waits
// for it and returns the write error, if any.
func (p *peer) stopWriter() error {
	p.mu.Lock()
	p.stopped = true
	p.mu.Unlock()
	select {
	case p.kick <- struct{}{}:
	default:
	}
	<-p.wdone
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.werr
}

func (p *peer) writeLoop(onErr func(error)) {
	defer close(p.wdone)
	var (
		buf  []byte
		ends []int
		vec  [][]byte
	)
	for {
		p.mu.Lock()
		for len(p.ends) == 0 && !p.stopped {
			p.mu.Unlock()
			<-p.kick
			p.mu.Lock()
		}
		if len(p.ends) == 0 {
			p.mu.Unlock()
			return
		}
		buf, p.out = p.out, buf[:0]
		ends, p.ends = p.ends, ends[:0]
		p.mu.Unlock()
		vec = vec[:0]
		start := 0
		for _, e := range ends {
			vec = append(vec, buf[start:e])
			start = e
		}
		if err := p.conn.Write(vec); err != nil {
			err = fmt.Errorf("wampbench: write: %w", err)
			p.mu.Lock()
			p.stopped = true
			p.werr = err
			p.out, p.ends = nil, nil
			p.mu.Unlock()
			if onErr != nil {
				onErr(err)
			}
			return
		}
	}
}

// goodbyeBytes encodes our GOODBYE.
func goodbyeBytes(c codec.Codec) ([]byte, error) {
	b, err := c.Encode(&wamp.Goodbye{Details: wamp.Dict{}, Reason: wamp.CloseGoodbyeAndOut})
	if err != nil {
		return nil, fmt.Errorf("wampbench: encode goodbye: %w", err)
	}
	return b, nil
}
