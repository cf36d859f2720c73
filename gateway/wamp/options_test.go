package wamp_test

import (
	"math"
	"testing"

	"github.com/wampgate/wampgate/gateway/wamp"
)

func TestOptHelpers(t *testing.T) {
	d := wamp.Dict{
		"yes": true, "str": "s", "n": int64(-3), "big": uint64(math.MaxUint64),
		"small": uint64(4), "goint": 9, "float": 2.0, "numstr": "5",
	}
	if !wamp.OptBool(d, "yes", false) || wamp.OptBool(d, "str", false) || !wamp.OptBool(d, "missing", true) {
		t.Error("OptBool")
	}
	if wamp.OptString(d, "str", "x") != "s" || wamp.OptString(d, "yes", "x") != "x" || wamp.OptString(nil, "str", "d") != "d" {
		t.Error("OptString")
	}
	tests := []struct {
		key  string
		want int64
	}{
		{"n", -3}, {"small", 4}, {"goint", 9},
		{"big", 42}, {"float", 42}, {"numstr", 42}, {"missing", 42},
	}
	for _, tt := range tests {
		if got := wamp.OptInt(d, tt.key, 42); got != tt.want {
			t.Errorf("OptInt(%q) = %d, want %d", tt.key, got, tt.want)
		}
	}
}

func TestRolesAndFeatures(t *testing.T) {
	details := wamp.Dict{"roles": wamp.Dict{
		"caller":     wamp.Dict{"features": wamp.Dict{"progressive_call_results": true, "call_canceling": false}},
		"subscriber": wamp.Dict{},
		"callee":     "not a dict",
	}}
	tests := []struct {
		role, feature string
		hasRole, has  bool
	}{
		{"caller", "progressive_call_results", true, true},
		{"caller", "call_canceling", true, false},
		{"caller", "missing", true, false},
		{"subscriber", "x", true, false},
		{"callee", "x", false, false},
		{"publisher", "x", false, false},
	}
	for _, tt := range tests {
		if got := wamp.HasRole(details, tt.role); got != tt.hasRole {
			t.Errorf("HasRole(%q) = %v", tt.role, got)
		}
		if got := wamp.HasFeature(details, tt.role, tt.feature); got != tt.has {
			t.Errorf("HasFeature(%q, %q) = %v", tt.role, tt.feature, got)
		}
	}
	if wamp.HasRole(nil, "caller") || wamp.HasFeature(wamp.Dict{"roles": int64(1)}, "caller", "x") {
		t.Error("malformed details reported a role")
	}
}
