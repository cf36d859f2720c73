package main

import (
	"math"
	"math/bits"
	"time"
)

// Latency histogram with logarithmic buckets, each split into linear
// sub-buckets: values below 2*subBuckets are counted exactly, and above
// that every bucket spans at most 1/subBuckets of its lower bound, so a
// reported percentile is at most 0.8% above the true sample. Recording is a
// few instructions and never allocates; the memory is fixed (about 58 KiB).

const (
	subBits    = 7
	subBuckets = 1 << subBits // linear steps per power of two
	exactBelow = 2 * subBuckets
	// numBuckets covers the whole uint64 range: 2*subBuckets exact values,
	// then subBuckets per power of two from 2^(subBits+1) up to 2^64.
	numBuckets = exactBelow + (64-subBits-1)*subBuckets
)

// histogram counts durations in nanoseconds. The zero value is empty and
// ready to use. It is not safe for concurrent use: give each goroutine its
// own and merge them.
type histogram struct {
	counts   [numBuckets]uint64
	n        uint64
	sum      float64 // ns, float so that it cannot overflow
	min, max uint64
}

// bucketOf returns the bucket index of v.
func bucketOf(v uint64) int {
	if v < exactBelow {
		return int(v)
	}
	shift := bits.Len64(v) - (subBits + 1) // >= 1
	return exactBelow + (shift-1)*subBuckets + int(v>>uint(shift)) - subBuckets
}

// bucketBounds returns the smallest and largest value counted in bucket i.
func bucketBounds(i int) (lo, hi uint64) {
	if i < exactBelow {
		return uint64(i), uint64(i)
	}
	j := i - exactBelow
	shift := uint(j/subBuckets + 1)
	lo = uint64(j%subBuckets+subBuckets) << shift
	return lo, lo + (1 << shift) - 1
}

// record adds one duration; negative durations count as zero.
func (h *histogram) record(d time.Duration) {
	v := uint64(0)
	if d > 0 {
		v = uint64(d)
	}
	h.counts[bucketOf(v)]++
	if h.n == 0 || v < h.min {
		h.min = v
	}
	if v > h.max {
		h.max = v
	}
	h.n++
	h.sum += float64(v)
}

// merge adds o's samples to h.
func (h *histogram) merge(o *histogram) {
	if o.n == 0 {
		return
	}
	for i, c := range o.counts {
		h.counts[i] += c
	}
	if h.n == 0 || o.min < h.min {
		h.min = o.min
	}
	if o.max > h.max {
		h.max = o.max
	}
	h.n += o.n
	h.sum += o.sum
}

// count returns the number of samples.
func (h *histogram) count() uint64 { return h.n }

// mean returns the average sample, 0 when empty.
func (h *histogram) mean() time.Duration {
	if h.n == 0 {
		return 0
	}
	return time.Duration(h.sum / float64(h.n))
}

// maximum returns the largest sample.
func (h *histogram) maximum() time.Duration { return time.Duration(h.max) }

// quantile returns the q-quantile (0 < q <= 1) with the nearest-rank
// method: the smallest recorded value such that at least q of the samples
// are at or below it, rounded up to its bucket's upper bound and clamped to
// the recorded range. It returns 0 when empty.
func (h *histogram) quantile(q float64) time.Duration {
	if h.n == 0 {
		return 0
	}
	rank := uint64(math.Ceil(q * float64(h.n)))
	rank = max(rank, 1)
	rank = min(rank, h.n)
	var cum uint64
	for i, c := range h.counts {
		cum += c
		if cum >= rank {
			_, hi := bucketBounds(i)
			return time.Duration(max(min(hi, h.max), h.min))
		}
	}
	return time.Duration(h.max)
}
