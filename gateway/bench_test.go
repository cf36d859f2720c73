package gateway_test

import (
	"context"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/wampgate/wampgate/gateway"
	"github.com/wampgate/wampgate/gateway/wamp"
	"github.com/wampgate/wampgate/gateway/wamp/codec"
	"github.com/wampgate/wampgate/transports"
	"github.com/wampgate/wampgate/transports/inproc"
)

// scriptConn is a router-side connection driven by the benchmark: Read
// returns messages from in, Write hands every message to onWrite. It
// measures the router without any transport cost.
type scriptConn struct {
	ser     transports.Serializer
	in      chan []byte
	done    chan struct{}
	once    sync.Once
	onWrite func([]byte)
}

func newScriptConn(ser transports.Serializer, onWrite func([]byte)) *scriptConn {
	return &scriptConn{ser: ser, in: make(chan []byte, 1024), done: make(chan struct{}), onWrite: onWrite}
}

func (c *scriptConn) Serializer() transports.Serializer { return c.ser }
func (c *scriptConn) MaxOutgoing() int                  { return 0 }
func (c *scriptConn) Info() transports.Info             { return transports.Info{Kind: "bench"} }
func (c *scriptConn) Close() error {
	c.once.Do(func() { close(c.done) })
	return nil
}
func (c *scriptConn) Read() ([]byte, error) {
	select {
	case b := <-c.in:
		return b, nil
	case <-c.done:
		return nil, transports.ErrClosed
	}
}
func (c *scriptConn) Write(msgs [][]byte) error {
	for _, m := range msgs {
		c.onWrite(m)
	}
	return nil
}

func mustEncode(b *testing.B, cd codec.Codec, m wamp.Message) []byte {
	b.Helper()
	out, err := cd.Encode(m)
	if err != nil {
		b.Fatal(err)
	}
	return out
}

func benchRouter(b *testing.B) *gateway.Router {
	r, err := gateway.New(gateway.Config{Realms: []gateway.RealmConfig{{Name: "realm1"}}, OutQueueBytes: 64 << 20})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = r.Shutdown(context.Background()) })
	return r
}

// BenchmarkPublishFanout publishes one event to N subscribers per
// iteration; allocations per op should not grow with N (encode once).
func BenchmarkPublishFanout(b *testing.B) {
	for _, n := range []int{1, 100, 1000} {
		for _, ser := range []transports.Serializer{transports.CBOR, transports.JSON} {
			b.Run(fmt.Sprintf("subscribers=%d/%s", n, ser), func(b *testing.B) {
				r := benchRouter(b)
				cd, _ := codec.ByName(ser.String())
				var events atomic.Int64
				hello := mustEncode(b, cd, &wamp.Hello{Realm: "realm1", Details: wamp.Dict{"roles": wamp.Dict{"subscriber": wamp.Dict{}, "publisher": wamp.Dict{}}}})
				sub := mustEncode(b, cd, &wamp.Subscribe{Request: 1, Options: wamp.Dict{}, Topic: "sensors.temp"})
				ready := make(chan struct{}, n)
				for range n {
					// WELCOME, then SUBSCRIBED, then only EVENTs: count them
					// without decoding, so the router is what is measured.
					seen := 0
					c := newScriptConn(ser, func([]byte) {
						seen++
						switch {
						case seen == 2:
							ready <- struct{}{}
						case seen > 2:
							events.Add(1)
						}
					})
					go r.ServeConn(c)
					c.in <- hello
					c.in <- sub
				}
				for range n {
					<-ready
				}
				pubConn := newScriptConn(ser, func([]byte) {})
				go r.ServeConn(pubConn)
				pubConn.in <- hello
				pub := mustEncode(b, cd, &wamp.Publish{Request: 1, Options: wamp.Dict{}, Topic: "sensors.temp",
					Payload: wamp.Payload{Args: wamp.List{21.5}, Kwargs: wamp.Dict{"unit": "C"}}})
				b.ReportAllocs()
				b.ResetTimer()
				for range b.N {
					pubConn.in <- pub
				}
				want := int64(b.N) * int64(n)
				for events.Load() < want {
					runtime.Gosched()
				}
				b.ReportMetric(float64(want)/b.Elapsed().Seconds(), "deliveries/s")
			})
		}
	}
}

// BenchmarkCallRoundTrip measures CALL -> INVOCATION -> YIELD -> RESULT
// through the router with one call in flight.
func BenchmarkCallRoundTrip(b *testing.B) {
	for _, ser := range []transports.Serializer{transports.CBOR, transports.JSON} {
		b.Run(ser.String(), func(b *testing.B) {
			r := benchRouter(b)
			cd, _ := codec.ByName(ser.String())
			calleeC, calleeS := inproc.Pipe(ser)
			callerC, callerS := inproc.Pipe(ser)
			go r.ServeConn(calleeS)
			go r.ServeConn(callerS)
			send := func(c transports.Conn, m wamp.Message) {
				if err := c.Write([][]byte{mustEncode(b, cd, m)}); err != nil {
					b.Fatal(err)
				}
			}
			recv := func(c transports.Conn) wamp.Message {
				raw, err := c.Read()
				if err != nil {
					b.Fatal(err)
				}
				m, err := cd.Decode(raw)
				if err != nil {
					b.Fatal(err)
				}
				return m
			}
			roles := wamp.Dict{"roles": wamp.Dict{"caller": wamp.Dict{}, "callee": wamp.Dict{}}}
			send(calleeC, &wamp.Hello{Realm: "realm1", Details: roles})
			recv(calleeC)
			send(callerC, &wamp.Hello{Realm: "realm1", Details: roles})
			recv(callerC)
			send(calleeC, &wamp.Register{Request: 1, Options: wamp.Dict{}, Procedure: "com.add"})
			recv(calleeC)
			call := mustEncode(b, cd, &wamp.Call{Request: 1, Options: wamp.Dict{}, Procedure: "com.add", Payload: wamp.Payload{Args: wamp.List{int64(2), int64(3)}}})
			done := make(chan struct{})
			go func() { // the callee answers every invocation
				defer close(done)
				for {
					raw, err := calleeC.Read()
					if err != nil {
						return
					}
					m, _ := cd.Decode(raw)
					if inv, ok := m.(*wamp.Invocation); ok {
						y, _ := cd.Encode(&wamp.Yield{Request: inv.Request, Options: wamp.Dict{}, Payload: wamp.Payload{Args: wamp.List{int64(5)}}})
						if calleeC.Write([][]byte{y}) != nil {
							return
						}
					}
				}
			}()
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				if err := callerC.Write([][]byte{call}); err != nil {
					b.Fatal(err)
				}
				if _, ok := recv(callerC).(*wamp.Result); !ok {
					b.Fatal("no RESULT")
				}
			}
			b.StopTimer()
			calleeC.Close()
			callerC.Close()
			<-done
		})
	}
}
