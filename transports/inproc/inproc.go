// Package inproc provides an in-memory transports.Conn pair, like net.Pipe
// but carrying whole messages. It serves local sessions and tests.
package inproc

import (
	"net"
	"sync"
	"time"

	"github.com/wampgate/wampgate/transports"
)

// queueLimit is how many messages may wait unread in one direction before
// Write blocks.
const queueLimit = 1024

type addr string

func (a addr) Network() string { return "inproc" }
func (a addr) String() string  { return string(a) }

// Pipe returns two connected ends using serializer s. Messages written on one
// end are read, in order, on the other. Write copies the bytes.
func Pipe(s transports.Serializer) (transports.Conn, transports.Conn) {
	ab := make(chan []byte, queueLimit)
	ba := make(chan []byte, queueLimit)
	done := make(chan struct{})
	once := &sync.Once{}
	now := time.Now()
	a := &conn{ser: s, in: ba, out: ab, done: done, once: once, local: "a", remote: "b", at: now}
	b := &conn{ser: s, in: ab, out: ba, done: done, once: once, local: "b", remote: "a", at: now}
	return a, b
}

type conn struct {
	ser           transports.Serializer
	in            <-chan []byte
	out           chan<- []byte
	done          chan struct{} // closed when either end closes
	once          *sync.Once
	local, remote addr
	at            time.Time
}

func (c *conn) Serializer() transports.Serializer { return c.ser }

func (c *conn) Read() ([]byte, error) {
	// Deliver what was written before a close, then report the close.
	select {
	case m := <-c.in:
		return m, nil
	default:
	}
	select {
	case m := <-c.in:
		return m, nil
	case <-c.done:
		select {
		case m := <-c.in:
			return m, nil
		default:
		}
		return nil, transports.ErrClosed
	}
}

func (c *conn) Write(msgs [][]byte) error {
	for _, m := range msgs {
		cp := append([]byte(nil), m...)
		select {
		case <-c.done:
			return transports.ErrClosed
		default:
		}
		select {
		case c.out <- cp:
		case <-c.done:
			return transports.ErrClosed
		}
	}
	return nil
}

func (c *conn) MaxOutgoing() int { return 0 }

func (c *conn) Close() error {
	c.once.Do(func() { close(c.done) })
	return nil
}

func (c *conn) Info() transports.Info {
	return transports.Info{Kind: "inproc", Local: net.Addr(c.local), Remote: net.Addr(c.remote), Established: c.at}
}
