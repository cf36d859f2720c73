package firmwaresim

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sync/atomic"
	"time"

	"github.com/wampgate/wampgate/transports"
)

// Defaults of the fault settings.
const (
	// DefaultGarbageLen is the longest garbage burst when
	// LineFaults.GarbageLen is zero.
	DefaultGarbageLen = 16
	// DefaultStallDuration is the length of a stall when
	// LineFaults.StallDuration is zero.
	DefaultStallDuration = 500 * time.Millisecond
	// DefaultUnplugFor is how long an unplugged device stays away when
	// FaultConfig.UnplugFor is zero.
	DefaultUnplugFor = time.Second
)

// LineFaults are the faults of one direction of the line. Rates are
// probabilities per bit or per byte; the zero value is a clean line.
//
// Every fault is drawn from the device's seeded random source, one source
// per direction, so the same seed and the same bytes give the same faults.
type LineFaults struct {
	// BitErrorRate is the probability that a bit flips, e.g. 1e-4.
	BitErrorRate float64
	// DropRate is the probability that a byte is lost.
	DropRate float64
	// GarbageRate is the probability that a burst of random bytes (line
	// noise, a console message) goes before a byte; the burst is 1 to
	// GarbageLen bytes long (default DefaultGarbageLen).
	GarbageRate float64
	GarbageLen  int
	// StallRate is the probability that the line goes silent for
	// StallDuration (default DefaultStallDuration) before a byte. A stalled
	// transmitter holds its output; a stalled receiver stops reading.
	StallRate     float64
	StallDuration time.Duration
}

func (f LineFaults) active() bool {
	return f.BitErrorRate > 0 || f.DropRate > 0 || f.GarbageRate > 0 || f.StallRate > 0
}

// FaultConfig lists the faults a simulated device injects. The zero value
// injects none. Line faults, reboots mid-frame, muted PINGs and the
// misbehaviours apply to the serial modes; RebootEvery and UnplugEvery also
// to plain RawSocket, where a reboot closes the connection.
type FaultConfig struct {
	// TX are the faults of what the device sends, RX of what it receives.
	TX, RX LineFaults

	// RebootEvery is the mean time between reboots (each interval is drawn
	// uniformly from half to one and a half times it). A reboot cuts the
	// device off in the middle of a frame: half a frame, then a leading
	// 0x00 and HANDSHAKE. Zero: no timed reboots.
	RebootEvery time.Duration
	// RebootProb is the probability, per WAMP frame sent, that the device
	// reboots halfway through writing that frame.
	RebootProb float64

	// UnplugEvery is the mean time between unplugs (jittered like
	// RebootEvery). An unplugged pty device closes its master, so the
	// gateway's port hangs up, and after UnplugFor (default
	// DefaultUnplugFor) opens a new pty with a new slave path. A TCP serial
	// server drops its connection and refuses new ones for UnplugFor.
	UnplugEvery time.Duration
	UnplugFor   time.Duration

	// MutePings makes the device stop answering PINGs after it has answered
	// MutePingsAfter of them (a hung firmware task: the gateway should end
	// the session after three unanswered PINGs).
	MutePings      bool
	MutePingsAfter int

	// WrongSerializer, when not zero, is the serializer nibble (1 to 15) the
	// HANDSHAKE announces instead of the serializer the device speaks.
	// A gateway that does not accept it answers with error octet 1.
	WrongSerializer transports.Serializer
	// OversizeProb is the probability, per WAMP frame sent, that a WAMP
	// frame larger than the gateway's announced limit goes before it.
	OversizeProb float64
	// MalformedProb is the probability, per WAMP frame sent, that a frame
	// whose payload is not a valid WAMP message goes before it.
	MalformedProb float64
}

// Fault names one fault that Device.Inject and DeviceLink.Inject trigger at
// once.
type Fault uint8

// Faults that can be injected on demand.
const (
	// FaultReboot reboots the device in the middle of a frame.
	FaultReboot Fault = iota + 1
	// FaultUnplug unplugs the device for FaultConfig.UnplugFor.
	FaultUnplug
	// FaultGarbage sends a burst of random bytes.
	FaultGarbage
	// FaultStall stalls the transmitter for TX.StallDuration.
	FaultStall
	// FaultOversize sends a WAMP frame over the gateway's limit.
	FaultOversize
	// FaultMalformed sends a WAMP frame that is not a valid WAMP message.
	FaultMalformed
)

var faultNames = [...]string{
	FaultReboot: "reboot", FaultUnplug: "unplug", FaultGarbage: "garbage",
	FaultStall: "stall", FaultOversize: "oversize", FaultMalformed: "malformed",
}

// String returns the fault's name.
func (f Fault) String() string {
	if int(f) < len(faultNames) && faultNames[f] != "" {
		return faultNames[f]
	}
	return fmt.Sprintf("fault(%d)", uint8(f))
}

// DirectionStats counts the line faults injected in one direction.
type DirectionStats struct {
	BitErrors     uint64
	DroppedBytes  uint64
	GarbageBursts uint64
	GarbageBytes  uint64
	Stalls        uint64
}

func (s *DirectionStats) add(o DirectionStats) {
	s.BitErrors += o.BitErrors
	s.DroppedBytes += o.DroppedBytes
	s.GarbageBursts += o.GarbageBursts
	s.GarbageBytes += o.GarbageBytes
	s.Stalls += o.Stalls
}

type dirCounters struct {
	bitErrors, dropped, bursts, garbage, stalls atomic.Uint64
}

func (c *dirCounters) snapshot() DirectionStats {
	return DirectionStats{
		BitErrors:     c.bitErrors.Load(),
		DroppedBytes:  c.dropped.Load(),
		GarbageBursts: c.bursts.Load(),
		GarbageBytes:  c.garbage.Load(),
		Stalls:        c.stalls.Load(),
	}
}

// never is the countdown of a fault that is switched off.
const never = math.MaxInt64

// faultStream applies LineFaults to a byte stream. Each fault kind keeps a
// countdown to its next occurrence, drawn from a geometric distribution, so
// the cost per byte is a few decrements whatever the rates. A faultStream
// is used by one goroutine at a time.
type faultStream struct {
	cfg LineFaults
	rng *rand.Rand
	st  *dirCounters

	bitGap     int64 // error-free bits before the next flipped one
	dropGap    int64 // bytes before the next dropped one
	garbageGap int64 // bytes before the next garbage burst
	stallGap   int64 // bytes before the next stall
}

func newFaultStream(cfg LineFaults, rng *rand.Rand, st *dirCounters) *faultStream {
	if cfg.GarbageLen <= 0 {
		cfg.GarbageLen = DefaultGarbageLen
	}
	if cfg.StallDuration <= 0 {
		cfg.StallDuration = DefaultStallDuration
	}
	f := &faultStream{cfg: cfg, rng: rng, st: st}
	f.bitGap = f.geom(cfg.BitErrorRate)
	f.dropGap = f.geom(cfg.DropRate)
	f.garbageGap = f.geom(cfg.GarbageRate)
	f.stallGap = f.geom(cfg.StallRate)
	return f
}

func (f *faultStream) active() bool { return f != nil && f.cfg.active() }

// geom draws the number of trials before the next success of probability
// p: never for p <= 0, zero for p >= 1.
func (f *faultStream) geom(p float64) int64 {
	switch {
	case p <= 0 || math.IsNaN(p):
		return never
	case p >= 1:
		return 0
	}
	k := math.Floor(math.Log1p(-f.rng.Float64()) / math.Log1p(-p))
	if k >= 1<<62 {
		return never
	}
	return int64(k)
}

// mangle appends to dst what src becomes on the line, stopping before the
// first byte that a stall delays. It returns the extended dst, how many
// bytes of src it consumed and the stall to wait before the rest (zero when
// all of src was consumed). n may be 0 with a stall; the next call then
// goes on with src[0].
func (f *faultStream) mangle(dst, src []byte) (out []byte, n int, stall time.Duration) {
	for i, b := range src {
		if f.stallGap == 0 {
			f.stallGap = 1 + f.geom(f.cfg.StallRate) // the stalled byte goes next
			f.st.stalls.Add(1)
			return dst, i, f.cfg.StallDuration
		}
		f.stallGap--
		if f.garbageGap == 0 {
			dst = f.garbage(dst)
			f.garbageGap = f.geom(f.cfg.GarbageRate)
		} else {
			f.garbageGap--
		}
		if f.dropGap == 0 {
			f.dropGap = f.geom(f.cfg.DropRate)
			f.st.dropped.Add(1)
			continue
		}
		f.dropGap--
		pos := int64(0)
		for f.bitGap < 8-pos {
			pos += f.bitGap
			b ^= 1 << pos
			pos++
			f.bitGap = f.geom(f.cfg.BitErrorRate)
			f.st.bitErrors.Add(1)
		}
		if f.bitGap != never {
			f.bitGap -= 8 - pos
		}
		dst = append(dst, b)
	}
	return dst, len(src), 0
}

// garbage appends a burst of up to GarbageLen random bytes to dst.
func (f *faultStream) garbage(dst []byte) []byte {
	k := 1 + f.rng.IntN(f.cfg.GarbageLen)
	for range k {
		dst = append(dst, byte(f.rng.Uint32()))
	}
	f.st.bursts.Add(1)
	f.st.garbage.Add(uint64(k))
	return dst
}

// Random streams of a device, one per consumer, so that concurrent
// consumers never disturb each other's sequence.
const (
	streamTX = iota + 1
	streamRX
	streamFrames
	streamReboots
	streamUnplugs
	streamPublishers // + publisher index
)

// newRand returns the random source of one stream of a device.
func newRand(seed int64, stream uint64) *rand.Rand {
	return rand.New(rand.NewPCG(uint64(seed), 0x9e3779b97f4a7c15^stream))
}

// jitter returns d scaled by a factor drawn uniformly from [0.5, 1.5).
func jitter(rng *rand.Rand, d time.Duration) time.Duration {
	return time.Duration(float64(d) * (0.5 + rng.Float64()))
}
