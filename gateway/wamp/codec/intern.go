package codec

import (
	"encoding/binary"
	"math/bits"
)

// internTable remembers recently decoded short dict keys, so a stream of
// messages with the same keys (telemetry, options) does not allocate a new
// key string for each of them. It lives in a pooled decoder. It is two-way
// set associative: a key may sit in slot i or i^1, the most recent one in
// slot i. A miss costs one hash and one string allocation, as without it.
type internTable [128]string

const maxInternLen = 32

// internHash is a cheap hash for the tables below: it mixes the length
// with the first and last eight bytes (or all bytes of a shorter string).
// Collisions only cost a miss, as lookups compare the whole string.
func internHash(b []byte) uint32 {
	x := uint64(len(b))
	if len(b) >= 8 {
		x ^= binary.LittleEndian.Uint64(b) ^ bits.RotateLeft64(binary.LittleEndian.Uint64(b[len(b)-8:]), 29)
	} else {
		for _, c := range b {
			x = x<<8 ^ uint64(c) ^ x>>56
		}
	}
	x *= 0x9e3779b97f4a7c15
	return uint32(x >> 32)
}

func (t *internTable) str(b []byte) string {
	if len(b) > maxInternLen {
		return string(b)
	}
	i := internHash(b) % uint32(len(t))
	if t[i] == string(b) {
		return t[i]
	}
	if t[i^1] == string(b) {
		return t[i^1]
	}
	s := string(b)
	if t[i] != "" {
		t[i^1] = t[i]
	}
	t[i] = s
	return s
}

// valueCache does for short string values what internTable does for keys,
// and keeps them boxed: a hit returns the same interface value as before,
// so a repeated value (a procedure URI, a unit, a sensor name) costs
// neither the string nor the interface allocation. Strings are immutable,
// so sharing them between decoded messages is invisible to callers. It is
// direct mapped.
type valueCache [64]any

const maxCachedValueLen = 24

func (t *valueCache) str(b []byte) any {
	if len(b) == 0 {
		return ""
	}
	if len(b) > maxCachedValueLen {
		return string(b)
	}
	i := internHash(b) % uint32(len(t))
	if s, ok := t[i].(string); ok && s == string(b) {
		return t[i]
	}
	v := any(string(b))
	t[i] = v
	return v
}
