package outq

import (
	"sync"
	"testing"
)

func TestPushPopOrder(t *testing.T) {
	q := New(100)
	for _, s := range []string{"a", "bb", "ccc"} {
		if r := q.Push([]byte(s)); r != Queued {
			t.Fatalf("push %q: %v", s, r)
		}
	}
	if q.Len() != 6 {
		t.Fatalf("len = %d, want 6", q.Len())
	}
	items, closed := q.Pop(nil)
	if closed || len(items) != 3 || string(items[0]) != "a" || string(items[2]) != "ccc" {
		t.Fatalf("pop = %q closed=%v", items, closed)
	}
	if q.Len() != 0 {
		t.Fatalf("len after pop = %d", q.Len())
	}
}

func TestByteBudget(t *testing.T) {
	q := New(10)
	if q.Push(make([]byte, 8)) != Queued {
		t.Fatal("first push refused")
	}
	if r := q.Push(make([]byte, 3)); r != Full {
		t.Fatalf("over budget push = %v, want Full", r)
	}
	if q.Push(make([]byte, 2)) != Queued {
		t.Fatal("push within budget refused")
	}
	q.Pop(nil)
	// A single oversized message is accepted into an empty queue.
	if q.Push(make([]byte, 50)) != Queued {
		t.Fatal("oversized message into empty queue refused")
	}
	if q.HighWater() != 50 {
		t.Fatalf("high water = %d", q.HighWater())
	}
}

func TestCloseKeepsItems(t *testing.T) {
	q := New(0)
	q.Push([]byte("x"))
	q.Close()
	q.Close()
	if q.Push([]byte("y")) != Closed {
		t.Fatal("push after close accepted")
	}
	items, closed := q.Pop(nil)
	if !closed || len(items) != 1 {
		t.Fatalf("pop after close = %q closed=%v", items, closed)
	}
}

func TestConcurrentProducers(t *testing.T) {
	q := New(0)
	const producers, each = 8, 1000
	var wg sync.WaitGroup
	for range producers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range each {
				q.Push([]byte{1})
			}
		}()
	}
	done := make(chan int)
	go func() {
		n := 0
		var buf [][]byte
		for n < producers*each {
			<-q.Ready()
			buf, _ = q.Pop(buf)
			n += len(buf)
		}
		done <- n
	}()
	wg.Wait()
	if n := <-done; n != producers*each {
		t.Fatalf("consumed %d", n)
	}
}

func TestPushNoAlloc(t *testing.T) {
	q := New(0)
	msg := []byte("event")
	var buf [][]byte
	// Warm up the backing arrays.
	for range 16 {
		q.Push(msg)
	}
	buf, _ = q.Pop(buf)
	allocs := testing.AllocsPerRun(1000, func() {
		q.Push(msg)
		buf, _ = q.Pop(buf)
	})
	if allocs != 0 {
		t.Fatalf("push+pop allocates %.1f times", allocs)
	}
}

func BenchmarkPushPop(b *testing.B) {
	q := New(1 << 20)
	msg := make([]byte, 100)
	var buf [][]byte
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		q.Push(msg)
		if i%64 == 63 {
			buf, _ = q.Pop(buf)
		}
	}
}
