package dealer

import (
	"testing"

	"github.com/wampgate/wampgate/gateway/wamp"
)

func TestSinglePolicy(t *testing.T) {
	x := New[int]()
	if _, created, err := x.Register(1, "com.add", "", ""); err != nil || !created {
		t.Fatalf("register: %v", err)
	}
	if _, _, err := x.Register(2, "com.add", "", ""); err != ErrProcedureExists {
		t.Fatalf("second single register err = %v", err)
	}
	if _, _, err := x.Register(2, "com.add", "", InvokeRoundRobin); err != ErrProcedureExists {
		t.Fatalf("shared onto single err = %v", err)
	}
}

func TestSharedPolicies(t *testing.T) {
	x := New[int]()
	r, _, _ := x.Register(1, "p", "", InvokeRoundRobin)
	x.Register(2, "p", "", InvokeRoundRobin)
	x.Register(3, "p", "", InvokeRoundRobin)
	if _, _, err := x.Register(4, "p", "", InvokeRandom); err != ErrPolicyConflict {
		t.Fatalf("conflicting policy err = %v", err)
	}
	if _, _, err := x.Register(1, "p", "", InvokeRoundRobin); err != ErrAlreadyRegisteredBy {
		t.Fatalf("duplicate callee err = %v", err)
	}
	var got []int
	for range 6 {
		s, _ := r.Pick()
		got = append(got, s)
	}
	want := []int{1, 2, 3, 1, 2, 3}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("roundrobin order = %v, want %v", got, want)
		}
	}
	f, _, _ := x.Register(1, "q", "", InvokeFirst)
	x.Register(2, "q", "", InvokeFirst)
	if s, _ := f.Pick(); s != 1 {
		t.Fatalf("first picked %d", s)
	}
	l, _, _ := x.Register(1, "z", "", InvokeLast)
	x.Register(2, "z", "", InvokeLast)
	if s, _ := l.Pick(); s != 2 {
		t.Fatalf("last picked %d", s)
	}
	if _, _, err := x.Register(1, "y", "", "broadcast"); err != ErrBadInvoke {
		t.Fatalf("bad invoke err = %v", err)
	}
}

func TestMatchPrecedence(t *testing.T) {
	x := New[int]()
	reg := func(uri, match string) wamp.ID {
		r, _, err := x.Register(1, uri, match, "")
		if err != nil {
			t.Fatalf("register %s: %v", uri, err)
		}
		return r.ID
	}
	exact := reg("a1.b2.c3.d4", "exact")
	p2 := reg("a1.b2", "prefix")
	p3 := reg("a1.b2.c3", "prefix")
	w1 := reg("a1.b2.c33..e5", "wildcard")
	reg("a1.b2..d4.e5", "wildcard")
	w3 := reg("a1.b2..d4.e5..g7", "wildcard")
	reg("a1.b2..d4..f6.g7", "wildcard")
	cases := []struct {
		uri  string
		want wamp.ID
	}{
		{"a1.b2.c3.d4", exact},
		{"a1.b2.c3.d4.e5", p3},
		{"a1.b2.x", p2},
		{"a1.b2.c33.d4.e5", p3}, // string prefix "a1.b2.c3" beats any wildcard
	}
	for _, c := range cases {
		if r := x.Match(c.uri); r == nil || r.ID != c.want {
			t.Errorf("Match(%s) = %v, want %d", c.uri, r, c.want)
		}
	}
	// Without the prefixes the wildcard ranking decides.
	y := New[int]()
	r1, _, _ := y.Register(1, "a1.b2.c33..e5", "wildcard", "")
	y.Register(1, "a1.b2..d4.e5", "wildcard", "")
	if r := y.Match("a1.b2.c33.d4.e5"); r != r1 {
		t.Errorf("wildcard: longer first run should win")
	}
	r3, _, _ := y.Register(1, "a1.b2..d4.e5..g7", "wildcard", "")
	y.Register(1, "a1.b2..d4..f6.g7", "wildcard", "")
	if r := y.Match("a1.b2.c88.d4.e5.f6.g7"); r != r3 {
		t.Errorf("wildcard: longer second run should win")
	}
	_, _ = w1, w3
	if x.Match("zz") != nil {
		t.Error("no registration should match zz")
	}
}

func TestRemoveCallee(t *testing.T) {
	x := New[int]()
	r, _, _ := x.Register(1, "p", "", InvokeRoundRobin)
	x.Register(2, "p", "", InvokeRoundRobin)
	x.Register(1, "q", "", "")
	left, deleted := x.RemoveCallee(1)
	if len(left) != 2 {
		t.Fatalf("left %d registrations", len(left))
	}
	nd := 0
	for _, d := range deleted {
		if d {
			nd++
		}
	}
	if nd != 1 || x.Match("q") != nil || x.Match("p") != r {
		t.Fatalf("after removal: deleted=%v", deleted)
	}
	if _, _, err := x.Unregister(1, r.ID); err != ErrNoSuchRegistration {
		t.Fatalf("unregister after removal err = %v", err)
	}
	if _, deleted, _ := x.Unregister(2, r.ID); !deleted || x.Count() != 0 {
		t.Fatal("last unregister must delete")
	}
}
