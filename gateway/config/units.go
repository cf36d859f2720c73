package config

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// ErrSyntax is wrapped by the Parse functions' errors.
var ErrSyntax = errors.New("config: invalid value")

// Duration is a time.Duration written in the config as a string with a unit,
// such as "30s", "1m30s" or "250ms". A plain number is an error except 0,
// because a bare "30" could mean seconds or nanoseconds.
type Duration time.Duration

// ParseDuration parses a non-negative duration such as "30s". "0" is
// accepted; any other number without a unit is an error that says which
// unit to add.
func ParseDuration(s string) (Duration, error) {
	d, problem := parseDuration(s)
	if problem != "" {
		return 0, fmt.Errorf("%w: %s", ErrSyntax, problem)
	}
	return d, nil
}

// parseDuration is ParseDuration with the problem as a plain message.
func parseDuration(s string) (Duration, string) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, "empty duration"
	}
	if isNumber(s) {
		if f, err := strconv.ParseFloat(strings.ReplaceAll(s, "_", ""), 64); err == nil && f == 0 {
			return 0, ""
		}
		return 0, fmt.Sprintf("duration %q has no unit; write %q (units: ms, s, m, h)", s, s+"s")
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Sprintf("bad duration %q (want a number and a unit, such as \"30s\" or \"1m30s\")", s)
	}
	if d < 0 {
		return 0, fmt.Sprintf("duration %q is negative", s)
	}
	return Duration(d), ""
}

// String formats d like time.Duration ("1m30s").
func (d Duration) String() string { return time.Duration(d).String() }

// MarshalText implements encoding.TextMarshaler.
func (d Duration) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler with ParseDuration.
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := ParseDuration(string(b))
	if err != nil {
		return err
	}
	*d = v
	return nil
}

// isNumber reports whether s looks like a plain number (digits with an
// optional sign and decimal point).
func isNumber(s string) bool {
	s = strings.TrimLeft(s, "+-")
	if s == "" {
		return false
	}
	digits := false
	for _, r := range s {
		switch {
		case r >= '0' && r <= '9':
			digits = true
		case r == '.' || r == '_':
		default:
			return false
		}
	}
	return digits
}

// ByteSize is a size in bytes. In the config it is a plain integer (bytes)
// or a whole number with a unit: B, IEC KiB/MiB/GiB/TiB (powers of 1024) or
// SI KB/MB/GB/TB (powers of 1000). Units are case-insensitive; the ambiguous
// single letters K, M, G and T are rejected.
type ByteSize int64

var byteUnits = []struct {
	name string
	mult int64
}{
	{"TiB", 1 << 40}, {"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10},
	{"TB", 1e12}, {"GB", 1e9}, {"MB", 1e6}, {"KB", 1e3},
	{"B", 1},
}

// ParseByteSize parses a size such as "64KiB", "2MB", "512B" or "4096".
func ParseByteSize(s string) (ByteSize, error) {
	b, problem := parseByteSize(s)
	if problem != "" {
		return 0, fmt.Errorf("%w: %s", ErrSyntax, problem)
	}
	return b, nil
}

// parseByteSize is ParseByteSize with the problem as a plain message.
func parseByteSize(s string) (ByteSize, string) {
	s = strings.TrimSpace(s)
	i := 0
	for i < len(s) && (s[i] >= '0' && s[i] <= '9' || s[i] == '_') {
		i++
	}
	num, unit := s[:i], strings.TrimSpace(s[i:])
	if num == "" || strings.Trim(num, "_") == "" {
		return 0, fmt.Sprintf("bad size %q (want a whole number and a unit, such as \"64KiB\" or \"1MiB\")", s)
	}
	if strings.HasPrefix(unit, ".") {
		return 0, fmt.Sprintf("size %q is not a whole number; use a smaller unit", s)
	}
	n, err := strconv.ParseInt(strings.ReplaceAll(num, "_", ""), 10, 64)
	if err != nil {
		return 0, fmt.Sprintf("size %q is too large", s)
	}
	if unit == "" {
		return ByteSize(n), ""
	}
	for _, u := range byteUnits {
		if strings.EqualFold(unit, u.name) {
			if n > math.MaxInt64/u.mult {
				return 0, fmt.Sprintf("size %q is too large", s)
			}
			return ByteSize(n * u.mult), ""
		}
	}
	switch strings.ToUpper(unit) {
	case "K", "M", "G", "T":
		u := strings.ToUpper(unit)
		return 0, fmt.Sprintf("size %q has an ambiguous unit; write %q (powers of 1024) or %q (powers of 1000)", s, num+u+"iB", num+u+"B")
	}
	return 0, fmt.Sprintf("size %q has an unknown unit %q (want B, KiB, MiB, GiB, KB, MB or GB)", s, unit)
}

// String formats b with the largest unit that divides it exactly, IEC
// before SI ("64KiB", "2MB", "1000B" is "1KB", "1023B").
func (b ByteSize) String() string {
	if b > 0 {
		for _, u := range byteUnits {
			if u.mult > 1 && int64(b)%u.mult == 0 {
				return strconv.FormatInt(int64(b)/u.mult, 10) + u.name
			}
		}
	}
	return strconv.FormatInt(int64(b), 10) + "B"
}

// MarshalText implements encoding.TextMarshaler.
func (b ByteSize) MarshalText() ([]byte, error) { return []byte(b.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler with ParseByteSize.
func (b *ByteSize) UnmarshalText(t []byte) error {
	v, err := ParseByteSize(string(t))
	if err != nil {
		return err
	}
	*b = v
	return nil
}

// Rate is a token-bucket rate limit: Count events per Per, with bursts of up
// to Burst events. The zero Rate means no limit. In the config it is a
// string "N/unit" such as "100/s", "600/m" or "5/100ms" (burst: N), or a
// mapping {rate: "100/s", burst: 20}; the top-level limits also accept
// "unlimited".
type Rate struct {
	Count int
	Per   time.Duration
	Burst int
}

// ParseRate parses "N/unit" with N > 0 and unit a duration, where a bare
// unit means one of it ("/s" is "/1s"). Burst is set to N.
func ParseRate(s string) (Rate, error) {
	r, problem := parseRate(s)
	if problem != "" {
		return Rate{}, fmt.Errorf("%w: %s", ErrSyntax, problem)
	}
	return r, nil
}

// parseRate is ParseRate with the problem as a plain message.
func parseRate(s string) (Rate, string) {
	s = strings.TrimSpace(s)
	num, per, ok := strings.Cut(s, "/")
	if !ok {
		return Rate{}, fmt.Sprintf("bad rate %q (want events per time, such as \"100/s\")", s)
	}
	num, per = strings.TrimSpace(num), strings.TrimSpace(per)
	n, err := strconv.Atoi(num)
	if err != nil || n <= 0 {
		return Rate{}, fmt.Sprintf("bad rate %q: %q is not a positive whole number", s, num)
	}
	if per != "" && (per[0] < '0' || per[0] > '9') && per[0] != '.' {
		per = "1" + per
	}
	d, err := time.ParseDuration(per)
	if err != nil || d <= 0 {
		return Rate{}, fmt.Sprintf("bad rate %q: %q is not a positive duration (want s, m, h or such as 100ms)", s, per)
	}
	return Rate{Count: n, Per: d, Burst: n}, ""
}

// Limited reports whether r limits anything.
func (r Rate) Limited() bool { return r.Count > 0 && r.Per > 0 }

// PerSecond returns the sustained rate in events per second; 0 means no
// limit.
func (r Rate) PerSecond() float64 {
	if !r.Limited() {
		return 0
	}
	return float64(r.Count) / r.Per.Seconds()
}

// String formats r as "100/s" or "100/s burst 20"; "unlimited" for the zero
// Rate.
func (r Rate) String() string {
	if !r.Limited() {
		return "unlimited"
	}
	per := r.Per.String()
	switch r.Per {
	case time.Second:
		per = "s"
	case time.Minute:
		per = "m"
	case time.Hour:
		per = "h"
	}
	s := strconv.Itoa(r.Count) + "/" + per
	if r.Burst != r.Count {
		s += " burst " + strconv.Itoa(r.Burst)
	}
	return s
}
