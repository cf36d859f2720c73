package broker

import (
	"slices"
	"testing"

	"github.com/wampgate/wampgate/gateway/wamp"
)

func TestSubscribeShareAndRepeat(t *testing.T) {
	x := New[int]()
	a, created, added, err := x.Subscribe(1, "com.a", "")
	if err != nil || !created || !added {
		t.Fatalf("first subscribe: created=%v added=%v err=%v", created, added, err)
	}
	b, created, added, _ := x.Subscribe(2, "com.a", wamp.MatchExact)
	if b != a || created || !added {
		t.Fatalf("second subscriber should share subscription %d, got %d created=%v", a.ID, b.ID, created)
	}
	c, _, added, _ := x.Subscribe(1, "com.a", "")
	if c != a || added {
		t.Fatalf("repeated subscribe must return the existing subscription without adding")
	}
	if got := a.Subscribers(); !slices.Equal(got, []int{1, 2}) {
		t.Fatalf("subscribers = %v", got)
	}
	if _, _, _, err := x.Subscribe(3, "com.a", "regex"); err != ErrBadMatch {
		t.Fatalf("bad match err = %v", err)
	}
}

func TestMatchAllPolicies(t *testing.T) {
	x := New[int]()
	e, _, _, _ := x.Subscribe(1, "com.app.temp", "exact")
	p, _, _, _ := x.Subscribe(2, "com.app", "prefix")
	w, _, _, _ := x.Subscribe(3, "com..temp", "wildcard")
	x.Subscribe(4, "org", "prefix")
	got := x.Match("com.app.temp", nil)
	ids := []wamp.ID{}
	for _, s := range got {
		ids = append(ids, s.ID)
	}
	slices.Sort(ids)
	want := []wamp.ID{e.ID, p.ID, w.ID}
	if !slices.Equal(ids, want) {
		t.Fatalf("matched %v, want %v", ids, want)
	}
	if got := x.Match("com.app.temp.x", nil); len(got) != 1 || got[0] != p {
		t.Fatalf("only prefix should match a longer topic, got %d", len(got))
	}
}

func TestUnsubscribeAndRemove(t *testing.T) {
	x := New[int]()
	s, _, _, _ := x.Subscribe(1, "t", "")
	x.Subscribe(2, "t", "")
	x.Subscribe(1, "u", "prefix")
	old := s.Subscribers()
	if _, deleted, err := x.Unsubscribe(1, s.ID); err != nil || deleted {
		t.Fatalf("unsubscribe: deleted=%v err=%v", deleted, err)
	}
	if !slices.Equal(old, []int{1, 2}) {
		t.Fatal("copy-on-write violated: an old snapshot changed")
	}
	if _, _, err := x.Unsubscribe(1, s.ID); err != ErrNoSuchSubscription {
		t.Fatalf("double unsubscribe err = %v", err)
	}
	left, deleted := x.RemoveSubscriber(1)
	if len(left) != 1 || !deleted[0] {
		t.Fatalf("remove subscriber: %d left, deleted=%v", len(left), deleted)
	}
	if _, deleted, _ := x.Unsubscribe(2, s.ID); !deleted {
		t.Fatal("last unsubscribe must delete")
	}
	if x.Count() != 0 || len(x.Match("u.x", nil)) != 0 || x.Get(s.ID) != nil {
		t.Fatal("index not empty after all removed")
	}
}

func TestMatchNoAlloc(t *testing.T) {
	x := New[int]()
	for i := range 100 {
		x.Subscribe(i, "com.app.temp", "")
	}
	buf := make([]*Subscription[int], 0, 8)
	allocs := testing.AllocsPerRun(1000, func() { buf = x.Match("com.app.temp", buf[:0]) })
	if allocs != 0 {
		t.Fatalf("Match allocates %.1f times", allocs)
	}
}

func BenchmarkMatchExact(b *testing.B) {
	x := New[int]()
	for i := range 1000 {
		x.Subscribe(i, "com.app.t"+string(rune('a'+i%26)), "")
	}
	buf := make([]*Subscription[int], 0, 8)
	b.ReportAllocs()
	for b.Loop() {
		buf = x.Match("com.app.tq", buf[:0])
	}
}
