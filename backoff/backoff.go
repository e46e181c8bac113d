// Package backoff holds reconnect delay policies: the exact schedules of the
// shipped protocol profiles and the standard families users configure
// (gRPC, AWS full / equal / decorrelated jitter, fixed steps).
//
// A Policy is stateless: the caller keeps the failure count and the previous
// delay, and passes a seeded *rand.Rand so a run replays exactly. Every policy
// also states the window its delays fall in, which is what a harness checks a
// client against.
package backoff

import (
	"fmt"
	"math/rand/v2"
	"time"
)

// Policy decides how long a client waits before the reconnect that follows
// its n-th consecutive failure (n ≥ 1; a successful open resets n to 0).
type Policy interface {
	// Delay returns the wait before reconnecting after failure n, given the
	// previous delay (0 when n == 1). ok is false when the policy gives up.
	Delay(n int, prev time.Duration, rng *rand.Rand) (d time.Duration, ok bool)
	// Window returns the range every delay Delay can return for (n, prev)
	// falls in. ok is false when the policy gives up at n.
	Window(n int, prev time.Duration) (w Window, ok bool)
}

// Window is the closed range [Min, Max] a delay must fall in.
type Window struct{ Min, Max time.Duration }

// Contains reports whether d lies in the window.
func (w Window) Contains(d time.Duration) bool { return d >= w.Min && d <= w.Max }

func (w Window) String() string {
	if w.Min == w.Max {
		return w.Min.String()
	}
	return fmt.Sprintf("[%v, %v]", w.Min, w.Max)
}

// uniform draws from [lo, hi) with nanosecond resolution; hi <= lo gives lo.
func uniform(rng *rand.Rand, lo, hi time.Duration) time.Duration {
	if hi <= lo {
		return lo
	}
	return lo + time.Duration(rng.Int64N(int64(hi-lo)))
}

// drawn is the window of uniform(rng, lo, hi): [lo, hi-1], or just lo when
// the range is empty (a zero base gives hi == lo, and the draw is lo).
func drawn(lo, hi time.Duration) Window {
	if hi <= lo {
		return Window{lo, lo}
	}
	return Window{lo, hi - 1}
}

// exp returns base·factor^(n-1), clamped to limit when limit > 0 and without
// overflowing for large n.
func exp(base time.Duration, factor float64, n int, limit time.Duration) time.Duration {
	d := float64(base)
	for i := 1; i < n; i++ {
		d *= factor
		if limit > 0 && d >= float64(limit) {
			return limit
		}
		if d > float64(1<<62) {
			return time.Duration(1 << 62)
		}
	}
	if limit > 0 && time.Duration(d) > limit {
		return limit
	}
	return time.Duration(d)
}
