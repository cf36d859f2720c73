package main

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

func TestBucketsCoverEveryValueOnce(t *testing.T) {
	// Consecutive buckets must tile the uint64 range without gaps or
	// overlaps, and every bucket must be narrow enough for the promised
	// precision.
	var next uint64
	for i := range numBuckets {
		lo, hi := bucketBounds(i)
		if lo != next {
			t.Fatalf("bucket %d starts at %d, want %d", i, lo, next)
		}
		if hi < lo {
			t.Fatalf("bucket %d: hi %d < lo %d", i, hi, lo)
		}
		if width := hi - lo + 1; lo >= exactBelow && float64(width) > float64(lo)/subBuckets {
			t.Fatalf("bucket %d [%d, %d] is wider than 1/%d of its start", i, lo, hi, subBuckets)
		}
		if bucketOf(lo) != i || bucketOf(hi) != i {
			t.Fatalf("bucket %d [%d, %d]: bucketOf(lo)=%d bucketOf(hi)=%d", i, lo, hi, bucketOf(lo), bucketOf(hi))
		}
		next = hi + 1
	}
	if next != 0 {
		t.Fatalf("last bucket ends at %d, want 2^64-1", next-1)
	}
}

func TestBucketOfEdges(t *testing.T) {
	for _, v := range []uint64{0, 1, 255, 256, 257, 511, 512, 1000, 1 << 20, 1<<20 + 1, 1<<53 - 1, math.MaxUint64} {
		lo, hi := bucketBounds(bucketOf(v))
		if v < lo || v > hi {
			t.Errorf("value %d in bucket [%d, %d]", v, lo, hi)
		}
	}
}

// exactQuantile is the nearest-rank quantile of sorted samples.
func exactQuantile(sorted []uint64, q float64) uint64 {
	rank := max(int(math.Ceil(q*float64(len(sorted)))), 1)
	return sorted[rank-1]
}

func TestQuantileAgainstSortedSamples(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	var h histogram
	samples := make([]uint64, 20000)
	for i := range samples {
		// Log-uniform between 1 ns and about 1 s, like real latencies.
		v := uint64(math.Exp(rng.Float64() * math.Log(1e9)))
		samples[i] = v
		h.record(time.Duration(v))
	}
	slices.Sort(samples)
	for _, q := range []float64{0.001, 0.1, 0.5, 0.9, 0.99, 0.999, 1} {
		want := exactQuantile(samples, q)
		got := uint64(h.quantile(q))
		// The estimate is the upper bound of the sample's bucket: never
		// below it, at most 1/subBuckets above.
		if got < want || float64(got-want) > float64(want)/subBuckets {
			t.Errorf("quantile(%v) = %d, exact %d", q, got, want)
		}
	}
	if got := uint64(h.maximum()); got != samples[len(samples)-1] {
		t.Errorf("maximum = %d, want %d", got, samples[len(samples)-1])
	}
	if h.count() != uint64(len(samples)) {
		t.Errorf("count = %d, want %d", h.count(), len(samples))
	}
}

func TestQuantileSmallExact(t *testing.T) {
	var h histogram
	for v := 1; v <= 100; v++ {
		h.record(time.Duration(v))
	}
	for q, want := range map[float64]time.Duration{0.5: 50, 0.9: 90, 0.99: 99, 1: 100, 0.001: 1} {
		if got := h.quantile(q); got != want {
			t.Errorf("quantile(%v) = %v, want %v", q, got, want)
		}
	}
	if got := h.mean(); got != 50 { // 50.5 truncated
		t.Errorf("mean = %v, want 50ns", got)
	}
}

func TestQuantileClampedToRecordedRange(t *testing.T) {
	var h histogram
	h.record(1000*time.Microsecond + 1) // one sample in a wide bucket
	if got, want := h.quantile(0.5), 1000*time.Microsecond+1; got != want {
		t.Errorf("single-sample quantile = %v, want %v", got, want)
	}
}

func TestHistogramEmptyAndNegative(t *testing.T) {
	var h histogram
	if h.quantile(0.5) != 0 || h.mean() != 0 || h.maximum() != 0 {
		t.Errorf("empty histogram: quantile %v mean %v max %v", h.quantile(0.5), h.mean(), h.maximum())
	}
	h.record(-5)
	if h.count() != 1 || h.quantile(1) != 0 {
		t.Errorf("negative sample: count %d, max %v", h.count(), h.quantile(1))
	}
}

func TestHistogramMerge(t *testing.T) {
	var a, b, all histogram
	for v := range 1000 {
		d := time.Duration(v*v + 3)
		all.record(d)
		if v%3 == 0 {
			a.record(d)
		} else {
			b.record(d)
		}
	}
	var m histogram
	m.merge(&a)
	m.merge(&b)
	m.merge(&histogram{}) // empty: no effect on min
	if m.counts != all.counts || m.n != all.n || m.min != all.min || m.max != all.max || m.sum != all.sum {
		t.Errorf("merged histogram differs: n %d/%d min %d/%d max %d/%d", m.n, all.n, m.min, all.min, m.max, all.max)
	}
}

func TestHistogramRecordDoesNotAllocate(t *testing.T) {
	var h histogram
	if n := testing.AllocsPerRun(100, func() { h.record(12345) }); n != 0 {
		t.Errorf("record allocates %v times", n)
	}
}

func BenchmarkHistogramRecord(b *testing.B) {
	b.ReportAllocs()
	var h histogram
	for i := 0; b.Loop(); i++ {
		h.record(time.Duration(i&0xffff) * time.Microsecond)
	}
}
