// Package firmwaresim simulates the firmware of serial WAMP devices, for the
// gateway's tests and for demos (cmd/firmware-sim).
//
// A simulated Device is a WAMP client (package client) that registers a few
// procedures (add, echo, slow, set, get) and publishes sensor readings. It
// reaches the gateway in one of three modes:
//
//   - ModePty: it creates a pseudo-terminal, owns the master and speaks the
//     serial framing of docs/serial-framing.md on it; the gateway opens the
//     slave (Device.Path) exactly as a real port.
//   - ModeTCPSerial: it listens on TCP and speaks the serial framing to
//     whoever connects, like a TCP serial server.
//   - ModeRawSocket: it dials a router as a plain RawSocket client.
//
// DeviceLink is the device side of the serial link rules on its own: the
// HANDSHAKE and its retries, RESET, per-direction sequence numbers, PING
// answers, and a session exposed as a transports.Conn. It paces what it
// sends at the configured baud rate on an absolute schedule (ptys do not
// pace) and injects the faults of a FaultConfig: bit errors, dropped bytes,
// garbage bursts and stalls per direction, reboots in the middle of a
// frame, unplugging, muted PINGs and misbehaviour (a wrong serializer in
// the HANDSHAKE, oversize frames, malformed WAMP messages).
//
// Every random choice comes from math/rand/v2 sources seeded by the
// device's Seed, one source per consumer (transmit faults, receive faults,
// per-frame decisions, timed faults, each publisher), so the same seed and
// the same traffic replay the same faults.
//
// A Fleet starts many devices at once; tests use MustStartFleet, which
// closes the fleet in the test's cleanup:
//
//	fleet := firmwaresim.MustStartFleet(t, firmwaresim.FleetConfig{Count: 3})
//	for _, d := range fleet.Devices() {
//		attach(d.Name(), d.Path()) // the gateway opens /dev/pts/N
//	}
//
// The package never imports router internals: it is a black-box peer.
package firmwaresim
