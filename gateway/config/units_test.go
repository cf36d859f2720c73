package config

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestParseDuration(t *testing.T) {
	for _, tt := range []struct {
		in      string
		want    time.Duration
		problem string
	}{
		{"30s", 30 * time.Second, ""},
		{"1m30s", 90 * time.Second, ""},
		{"250ms", 250 * time.Millisecond, ""},
		{" 2h ", 2 * time.Hour, ""},
		{"0", 0, ""},
		{"0.0", 0, ""},
		{"0s", 0, ""},
		{"30", 0, `duration "30" has no unit; write "30s"`},
		{"-5", 0, "has no unit"},
		{"1_000", 0, "has no unit"},
		{"", 0, "empty duration"},
		{"s", 0, "bad duration"},
		{"30 seconds", 0, "bad duration"},
		{"-1s", 0, "is negative"},
		{"9999999h", 0, "bad duration"},
	} {
		got, err := ParseDuration(tt.in)
		if tt.problem == "" {
			if err != nil || time.Duration(got) != tt.want {
				t.Errorf("ParseDuration(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), tt.problem) || !errors.Is(err, ErrSyntax) {
			t.Errorf("ParseDuration(%q) error = %v; want ErrSyntax with %q", tt.in, err, tt.problem)
		}
	}
	var d Duration
	if err := d.UnmarshalText([]byte("1m")); err != nil || d != Duration(time.Minute) {
		t.Errorf("UnmarshalText = %v, %v", d, err)
	}
	if b, _ := d.MarshalText(); string(b) != "1m0s" {
		t.Errorf("MarshalText = %s", b)
	}
	if err := d.UnmarshalText([]byte("60")); err == nil {
		t.Error("UnmarshalText(60) accepted a number without a unit")
	}
}

func TestParseByteSize(t *testing.T) {
	for _, tt := range []struct {
		in      string
		want    ByteSize
		problem string
	}{
		{"512", 512, ""},
		{"512B", 512, ""},
		{"64KiB", 64 << 10, ""},
		{"64kib", 64 << 10, ""},
		{"1MiB", 1 << 20, ""},
		{"1 MiB", 1 << 20, ""},
		{"2GiB", 2 << 30, ""},
		{"1TiB", 1 << 40, ""},
		{"2MB", 2_000_000, ""},
		{"64KB", 64_000, ""},
		{"64kB", 64_000, ""},
		{"3GB", 3_000_000_000, ""},
		{"1_000", 1000, ""},
		{"0", 0, ""},
		{"64K", 0, `ambiguous unit; write "64KiB" (powers of 1024) or "64KB" (powers of 1000)`},
		{"1m", 0, `write "1MiB"`},
		{"1.5MiB", 0, "not a whole number"},
		{"MiB", 0, "bad size"},
		{"", 0, "bad size"},
		{"-1", 0, "bad size"},
		{"12 parsecs", 0, `unknown unit "parsecs"`},
		{"99999999999999999999", 0, "too large"},
		{"9999999TiB", 0, "too large"},
	} {
		got, err := ParseByteSize(tt.in)
		if tt.problem == "" {
			if err != nil || got != tt.want {
				t.Errorf("ParseByteSize(%q) = %v, %v; want %d", tt.in, got, err, tt.want)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), tt.problem) || !errors.Is(err, ErrSyntax) {
			t.Errorf("ParseByteSize(%q) error = %v; want ErrSyntax with %q", tt.in, err, tt.problem)
		}
	}
}

func TestByteSizeString(t *testing.T) {
	for _, tt := range []struct {
		in   ByteSize
		want string
	}{
		{0, "0B"}, {1023, "1023B"}, {1024, "1KiB"}, {64 << 10, "64KiB"}, {1 << 20, "1MiB"},
		{3 << 30, "3GiB"}, {1000, "1KB"}, {2_000_000, "2MB"}, {1536, "1536B"}, {-5, "-5B"},
	} {
		if got := tt.in.String(); got != tt.want {
			t.Errorf("ByteSize(%d).String() = %q, want %q", int64(tt.in), got, tt.want)
		}
		if tt.in >= 0 {
			back, err := ParseByteSize(tt.in.String())
			if err != nil || back != tt.in {
				t.Errorf("ParseByteSize(%q) = %v, %v; want %d", tt.in.String(), back, err, tt.in)
			}
		}
	}
	var b ByteSize
	if err := b.UnmarshalText([]byte("4KiB")); err != nil || b != 4096 {
		t.Errorf("UnmarshalText = %v, %v", b, err)
	}
	if out, _ := b.MarshalText(); string(out) != "4KiB" {
		t.Errorf("MarshalText = %s", out)
	}
}

func TestParseRate(t *testing.T) {
	for _, tt := range []struct {
		in      string
		want    Rate
		perSec  float64
		str     string
		problem string
	}{
		{"100/s", Rate{100, time.Second, 100}, 100, "100/s", ""},
		{"600/m", Rate{600, time.Minute, 600}, 10, "600/m", ""},
		{"36/h", Rate{36, time.Hour, 36}, 0.01, "36/h", ""},
		{"5/100ms", Rate{5, 100 * time.Millisecond, 5}, 50, "5/100ms", ""},
		{" 10 / 2s ", Rate{10, 2 * time.Second, 10}, 5, "10/2s", ""},
		{"100", Rate{}, 0, "", "want events per time"},
		{"0/s", Rate{}, 0, "", "not a positive whole number"},
		{"x/s", Rate{}, 0, "", "not a positive whole number"},
		{"10/", Rate{}, 0, "", "not a positive duration"},
		{"10/0s", Rate{}, 0, "", "not a positive duration"},
		{"10/fortnight", Rate{}, 0, "", "not a positive duration"},
	} {
		got, err := ParseRate(tt.in)
		if tt.problem != "" {
			if err == nil || !strings.Contains(err.Error(), tt.problem) || !errors.Is(err, ErrSyntax) {
				t.Errorf("ParseRate(%q) error = %v; want ErrSyntax with %q", tt.in, err, tt.problem)
			}
			continue
		}
		if err != nil || got != tt.want || got.PerSecond() != tt.perSec || got.String() != tt.str || !got.Limited() {
			t.Errorf("ParseRate(%q) = %+v (%v/s, %q), %v; want %+v (%v/s, %q)", tt.in, got, got.PerSecond(), got, err, tt.want, tt.perSec, tt.str)
		}
	}
	if r := (Rate{}); r.Limited() || r.PerSecond() != 0 || r.String() != "unlimited" {
		t.Errorf("zero Rate: limited %v, %v/s, %q", r.Limited(), r.PerSecond(), r)
	}
	if s := (Rate{Count: 10, Per: time.Second, Burst: 3}).String(); s != "10/s burst 3" {
		t.Errorf("String with burst = %q", s)
	}
}
