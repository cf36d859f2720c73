//go:build race

package codec

// raceEnabled is set when the race detector is on; it makes sync.Pool drop
// items at random, so allocation counts are not exact.
const raceEnabled = true
