package devices

import "time"

// Backoff returns how long to wait before retry number attempt (0 for the
// first retry after a failure). The base delay is min doubled attempt
// times, capped at max; r, a random number in [0, 1), spreads the result
// over [base/2, base), so that devices that failed together (a USB hub
// losing power) do not retry in step. Below the cap the spread of one
// attempt ends where that of the next begins, so waits never shrink as
// attempts grow.
func Backoff(attempt int, min, max time.Duration, r float64) time.Duration {
	if min <= 0 {
		min = time.Millisecond
	}
	if max < min {
		max = min
	}
	d := min
	for i := 0; i < attempt && d < max; i++ {
		d *= 2
	}
	if d > max || d <= 0 {
		d = max
	}
	if r < 0 || r >= 1 {
		r = 0
	}
	half := d / 2
	return half + time.Duration(r*float64(d-half))
}
