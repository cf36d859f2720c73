// Package serial carries WAMP over serial lines with the framing described in
// docs/serial-framing.md ("RawSocket over COBS"): every frame is a
// COBS-encoded body of type, sequence number, payload and CRC-16/CCITT-FALSE,
// delimited by 0x00 octets.
//
// The package has three layers, each usable on its own:
//
//   - Framing: AppendFrame encodes one frame; a Decoder turns a byte stream
//     into frames, dropping and counting damaged ones by DropReason. Both are
//     pure (no I/O, no goroutines) and allocation-free in steady state.
//   - Port: Open configures a Linux tty (termios: raw mode, baud, data bits,
//     parity, stop bits, RTS/CTS) and returns a *Port whose Read, Write,
//     deadlines and Close run on Go's netpoller, so Close unblocks a pending
//     Read and deadlines work at any file descriptor number. Other operating
//     systems compile but Open returns ErrNotSupported.
//   - Link: NewLink runs the gateway side of the link rules over any byte
//     stream (a *Port, a pty master, a TCP connection to a serial server):
//     it answers the device's HANDSHAKE, checks sequence numbers, answers and
//     sends PINGs, and hands every device session to the router as a
//     transports.Conn through Accept. A device reboot (a HANDSHAKE while a
//     session is up) ends the current Conn with ErrDeviceReset and yields a
//     new one.
//
// Concurrency: a Decoder is used by one goroutine. A Port is safe for one
// reader and one writer plus Close from anywhere. A Link owns exactly one
// goroutine, its reader, started by NewLink and ended by Close or by a read
// error from the stream; all writes to the stream are serialised by one mutex.
package serial
