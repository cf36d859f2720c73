package cow

import (
	"slices"
	"testing"
)

func TestListSnapshots(t *testing.T) {
	var l List[int]
	if l.Load() != nil {
		t.Fatal("zero list not empty")
	}
	l.Add(1)
	l.Add(2)
	l.Add(3)
	snap := l.Load()
	if n := l.Remove(2); n != 2 {
		t.Fatalf("remaining %d", n)
	}
	if !slices.Equal(snap, []int{1, 2, 3}) {
		t.Fatalf("old snapshot changed: %v", snap)
	}
	if !slices.Equal(l.Load(), []int{1, 3}) {
		t.Fatalf("list %v", l.Load())
	}
	if n := l.Remove(9); n != 2 {
		t.Fatalf("removing a non-member: %d", n)
	}
}
