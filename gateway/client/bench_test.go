package client_test

import (
	"context"
	"testing"

	"github.com/wampgate/wampgate/gateway/client"
	"github.com/wampgate/wampgate/gateway/wamp"
	"github.com/wampgate/wampgate/gateway/wamp/codec"
	"github.com/wampgate/wampgate/transports"
	"github.com/wampgate/wampgate/transports/inproc"
)

// benchSession joins a session whose router answers every CALL with its
// arguments, in a goroutine that ends when the pipe closes.
func benchSession(b *testing.B, ser transports.Serializer) *client.Session {
	cc, rc := inproc.Pipe(ser)
	cd, err := codec.ByName(ser.String())
	if err != nil {
		b.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer rc.Close()
		for {
			data, err := rc.Read()
			if err != nil {
				return
			}
			m, err := cd.Decode(data)
			if err != nil {
				return
			}
			var reply wamp.Message
			switch m := m.(type) {
			case *wamp.Hello:
				reply = &wamp.Welcome{Session: 1, Details: routerDetails()}
			case *wamp.Call:
				reply = &wamp.Result{Request: m.Request, Payload: m.Payload}
			default:
				continue
			}
			out, err := cd.Encode(reply)
			if err != nil || rc.Write([][]byte{out}) != nil {
				return
			}
		}
	}()
	s, err := client.Join(context.Background(), cc, "realm1", client.Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		s.Close()
		<-s.Done()
		<-done
	})
	return s
}

func BenchmarkCall(b *testing.B) {
	for _, ser := range []transports.Serializer{transports.JSON, transports.MsgPack, transports.CBOR} {
		b.Run(ser.String(), func(b *testing.B) {
			s := benchSession(b, ser)
			ctx := context.Background()
			args := wamp.List{int64(1), "two", 3.5}
			b.ReportAllocs()
			for b.Loop() {
				if _, err := s.Call(ctx, "com.example.echo", args, nil, nil); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkCallParallel(b *testing.B) {
	s := benchSession(b, transports.CBOR)
	ctx := context.Background()
	args := wamp.List{int64(1)}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := s.Call(ctx, "com.example.echo", args, nil, nil); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

func BenchmarkPublish(b *testing.B) {
	s := benchSession(b, transports.CBOR)
	ctx := context.Background()
	args := wamp.List{int64(21), "celsius"}
	b.ReportAllocs()
	for b.Loop() {
		if err := s.Publish(ctx, "com.example.temp", args, nil, nil); err != nil {
			b.Fatal(err)
		}
	}
}
