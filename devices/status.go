package devices

import (
	"errors"
	"io"
	"strconv"
	"syscall"
	"time"

	"github.com/wampgate/wampgate/transports"
	"github.com/wampgate/wampgate/transports/serial"
)

// State is where a device's supervisor is.
type State uint8

// Device states.
const (
	// StateOffline: the port is closed (not found, failed to open, or the
	// supervisor is waiting to retry).
	StateOffline State = iota
	// StateConnecting: the port is open and the gateway waits for the
	// device's handshake, or for its next one after a session ended.
	StateConnecting
	// StateOnline: a session of the device is attached to the router: it
	// completed the serial handshake and was handed to the Attacher (its
	// HELLO may still be on the way).
	StateOnline
)

var stateNames = [...]string{"offline", "connecting", "online"}

// String returns "offline", "connecting" or "online".
func (s State) String() string {
	if int(s) < len(stateNames) {
		return stateNames[s]
	}
	return "state(" + strconv.Itoa(int(s)) + ")"
}

// Reason says why a device went offline or its session ended. The values
// are stable: they appear in logs, metric labels, the device dicts and the
// on_offline events.
type Reason uint8

// Offline reasons.
const (
	ReasonNone Reason = iota
	// ReasonNotFound: the port path does not exist or no USB adapter
	// matches.
	ReasonNotFound
	// ReasonOpenFailed: the port exists but could not be opened or
	// configured (permissions, busy, unsupported settings).
	ReasonOpenFailed
	// ReasonDialFailed: the TCP serial server could not be reached.
	ReasonDialFailed
	// ReasonUnplugged: the tty hung up (USB adapter removed, pty master
	// closed).
	ReasonUnplugged
	// ReasonDisconnected: the TCP serial server closed or reset the
	// connection.
	ReasonDisconnected
	// ReasonLinkError: any other read or write failure of the port.
	ReasonLinkError
	// ReasonDeviceReset: the device rebooted (it sent HANDSHAKE or RESET
	// during a session).
	ReasonDeviceReset
	// ReasonSeqGap: a WAMP frame from the device was lost (strict mode).
	ReasonSeqGap
	// ReasonPingTimeout: the device stopped answering PINGs.
	ReasonPingTimeout
	// ReasonWriteTimeout: a write to the device did not complete in time.
	ReasonWriteTimeout
	// ReasonClosed: the router ended the session (GOODBYE, kill, protocol
	// error); the device was sent RESET and may handshake again.
	ReasonClosed
	// ReasonShutdown: the manager was closed.
	ReasonShutdown
	// ReasonInvalidConfig: the device's configuration is invalid; it is
	// never opened.
	ReasonInvalidConfig

	reasonCount
)

var reasonNames = [reasonCount]string{
	"none", "not_found", "open_failed", "dial_failed", "unplugged", "disconnected",
	"link_error", "device_reset", "seq_gap", "ping_timeout", "write_timeout",
	"closed", "shutdown", "invalid_config",
}

// String returns the reason's label, such as "unplugged".
func (r Reason) String() string {
	if r < reasonCount {
		return reasonNames[r]
	}
	return "reason(" + strconv.Itoa(int(r)) + ")"
}

// classify maps the error that ended a link or session to a Reason.
func classify(err error, tcp bool) Reason {
	switch {
	case err == nil:
		return ReasonNone
	case errors.Is(err, serial.ErrDeviceReset):
		return ReasonDeviceReset
	case errors.Is(err, serial.ErrSeqGap):
		return ReasonSeqGap
	case errors.Is(err, transports.ErrPingTimeout):
		return ReasonPingTimeout
	case errors.Is(err, transports.ErrWriteTimeout):
		return ReasonWriteTimeout
	case errors.Is(err, transports.ErrClosed):
		return ReasonClosed
	case tcp && (errors.Is(err, io.EOF) || errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE)):
		return ReasonDisconnected
	case errors.Is(err, io.EOF) || errors.Is(err, syscall.ENODEV) || errors.Is(err, syscall.ENXIO):
		return ReasonUnplugged
	}
	return ReasonLinkError
}

// Status is a snapshot of one device. Counters are cumulative over every
// port open since the manager started.
type Status struct {
	Name  string
	State State
	// Kind is KindSerial or KindSerialTCP.
	Kind string
	// Source is where the device is configured to be: the port path,
	// "usb:vvvv:pppp[:serial]" or "tcp://host:port".
	Source string
	// Path is the port last opened (for a USB match, the /dev/ttyUSBn it
	// resolved to; for TCP, "tcp://host:port"); empty before the first
	// open.
	Path string
	// Realm, AuthID, AuthRole and Prefix are what the device's sessions
	// get (defaults applied).
	Realm, AuthID, AuthRole, Prefix string
	// Reason is why the device last went offline or its last session
	// ended; ReasonNone if neither has happened. Error is the text of the
	// error behind it, if any.
	Reason Reason
	Error  string
	// Since is when the device entered State.
	Since time.Time
	// Reconnects counts successful port opens (or dials) after the first.
	Reconnects uint64
	// Handshakes counts device sessions started; HandshakeErrors the
	// handshakes refused.
	Handshakes, HandshakeErrors uint64
	// Sessions counts sessions handed to the router.
	Sessions            uint64
	BytesIn, BytesOut   uint64
	FramesIn, FramesOut uint64
	// CRCDrops and COBSDrops count received frames dropped for a bad CRC
	// or bad COBS; OtherDrops the rest (oversize, reserved type, garbage,
	// malformed).
	CRCDrops, COBSDrops, OtherDrops uint64
	// SeqGaps counts lost WAMP frames from the device.
	SeqGaps uint64
	// Resets counts device reboots seen during a session; ResetsSent the
	// RESET frames sent to the device.
	Resets, ResetsSent uint64
	// PingTimeouts counts sessions ended because PINGs went unanswered.
	PingTimeouts uint64
	// LastSeen is when the last good frame arrived; zero if none has.
	LastSeen time.Time
}

// Event is an online or offline transition of a device, given to
// Config.OnChange.
type Event struct {
	Device string
	Realm  string
	Online bool
	// Reason is why the device went offline; ReasonNone for online events.
	Reason Reason
	// Status is the device's status right after the transition.
	Status Status
}

// linkTotals accumulates the counters of links that have ended.
type linkTotals struct {
	bytesIn, bytesOut, framesIn, framesOut uint64
	crc, cobs, other                       uint64
	seqGaps, resets, resetsSent            uint64
	handshakes, hsErrors, pingTimeouts     uint64
	lastSeen                               time.Time
}

func (t *linkTotals) add(s serial.LinkStats) {
	t.bytesIn += s.BytesIn
	t.bytesOut += s.BytesOut
	t.framesIn += s.FramesIn
	t.framesOut += s.FramesOut
	for r, n := range s.Dropped {
		switch serial.DropReason(r) {
		case serial.DropCRC:
			t.crc += n
		case serial.DropCOBS:
			t.cobs += n
		default:
			t.other += n
		}
	}
	t.seqGaps += s.SeqGaps
	t.resets += s.DeviceResets
	t.resetsSent += s.ResetsSent
	t.handshakes += s.Handshakes
	t.hsErrors += s.HandshakeErrors
	t.pingTimeouts += s.PingTimeouts
	if s.LastSeen.After(t.lastSeen) {
		t.lastSeen = s.LastSeen
	}
}

// fill copies the totals into st.
func (t *linkTotals) fill(st *Status) {
	st.BytesIn, st.BytesOut = t.bytesIn, t.bytesOut
	st.FramesIn, st.FramesOut = t.framesIn, t.framesOut
	st.CRCDrops, st.COBSDrops, st.OtherDrops = t.crc, t.cobs, t.other
	st.SeqGaps, st.Resets, st.ResetsSent = t.seqGaps, t.resets, t.resetsSent
	st.Handshakes, st.HandshakeErrors = t.handshakes, t.hsErrors
	st.PingTimeouts = t.pingTimeouts
	st.LastSeen = t.lastSeen
}
