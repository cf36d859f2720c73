package serial_test

import (
	"context"
	"fmt"
	"log/slog"
	"os"

	"github.com/wampgate/wampgate/transports"
	"github.com/wampgate/wampgate/transports/serial"
)

// Frames are encoded with AppendFrame and decoded by feeding bytes, in any
// chunks, to a Decoder. Damaged frames are dropped and counted.
func ExampleDecoder() {
	var wire []byte
	wire = serial.AppendFrame(wire, serial.FramePing, 0, []byte{1, 2, 3, 4}, true)
	wire = append(wire, "line noise"...)
	wire = serial.AppendFrame(wire, serial.FrameWAMP, 0, []byte("[1]"), true)
	fmt.Printf("% x\n", wire[:11])

	d := serial.NewDecoder(512)
	for p := wire; len(p) > 0; {
		n, f, ok := d.Feed(p)
		p = p[n:]
		if ok {
			fmt.Printf("%v seq %d payload %q\n", f.Type, f.Seq, f.Payload)
		}
	}
	fmt.Println("dropped as garbled COBS:", d.Dropped(serial.DropCOBS))
	// Output:
	// 00 02 01 07 01 02 03 04 46 b3 00
	// PING seq 0 payload "\x01\x02\x03\x04"
	// WAMP seq 0 payload "[1]"
	// dropped as garbled COBS: 1
}

// A device supervisor opens the port, runs a Link on it and hands every
// device session to the router until the port goes away.
func ExampleLink() {
	port, err := serial.Open("/dev/serial0", serial.PortConfig{Baud: 115200})
	if err != nil {
		fmt.Println(err)
		return
	}
	link := serial.NewLink(port, serial.LinkConfig{
		Serializers: []transports.Serializer{transports.CBOR},
		Logger:      slog.New(slog.NewTextHandler(os.Stderr, nil)),
	})
	defer link.Close()
	for {
		conn, err := link.Accept(context.Background())
		if err != nil {
			fmt.Println("port gone:", err) // wraps io.EOF on unplug
			return
		}
		go serve(conn) // the router's session; ends on ErrDeviceReset too
	}
}

func serve(c transports.Conn) { c.Close() }
