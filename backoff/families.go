package backoff

import (
	"math/rand/v2"
	"time"
)

// Exponential waits Base·Factor^(n-1), capped at Max (0: no cap), no jitter.
// Profile "queue" is Limit(Exponential{Base: time.Second, Factor: 2}, 5).
type Exponential struct {
	Base   time.Duration
	Factor float64
	Max    time.Duration
}

func (e Exponential) Delay(n int, prev time.Duration, _ *rand.Rand) (time.Duration, bool) {
	return exp(e.Base, e.Factor, n, e.Max), true
}

func (e Exponential) Window(n int, prev time.Duration) (Window, bool) {
	d, _ := e.Delay(n, prev, nil)
	return Window{d, d}, true
}

// Mattermost is the webapp client's schedule: Min while the failure count is
// at most MaxFails, then Min·n² capped at Max, then a jitter drawn from
// [0, Jitter) added after the cap. It never gives up on its own.
type Mattermost struct {
	Min      time.Duration // minWebSocketRetryTime, 3 s
	MaxFails int           // maxWebSocketFails, 7
	Max      time.Duration // maxWebSocketRetryTime, 300 s
	Jitter   time.Duration // reconnectJitterRange, 2 s
}

// MattermostDefaults are the constants of the real client.
var MattermostDefaults = Mattermost{Min: 3 * time.Second, MaxFails: 7, Max: 300 * time.Second, Jitter: 2 * time.Second}

func (m Mattermost) base(n int) time.Duration {
	if n <= m.MaxFails {
		return m.Min
	}
	// Test Min·n² > Max by division: the product overflows int64 as n nears
	// 2³¹ and can wrap to a small positive delay that slips under the cap.
	nn := time.Duration(n)
	if m.Min > 0 && nn > 0 && nn > m.Max/m.Min/nn {
		return m.Max
	}
	return min(m.Min*nn*nn, m.Max)
}

func (m Mattermost) Delay(n int, _ time.Duration, rng *rand.Rand) (time.Duration, bool) {
	return m.base(n) + uniform(rng, 0, m.Jitter), true
}

func (m Mattermost) Window(n int, _ time.Duration) (Window, bool) {
	b := m.base(n)
	return drawn(b, b+m.Jitter), true
}

// GRPC is gRPC's connection backoff: Base·Multiplier^(n-1) capped at Max,
// then spread by ±Jitter (a fraction, 0.2 for ±20 %).
type GRPC struct {
	Base       time.Duration
	Multiplier float64
	Jitter     float64
	Max        time.Duration
}

// GRPCDefaults are the values of gRPC's connection-backoff document.
var GRPCDefaults = GRPC{Base: time.Second, Multiplier: 1.6, Jitter: 0.2, Max: 120 * time.Second}

func (g GRPC) span(n int) (time.Duration, time.Duration) {
	b := exp(g.Base, g.Multiplier, n, g.Max)
	j := time.Duration(float64(b) * g.Jitter)
	return b - j, b + j
}

func (g GRPC) Delay(n int, _ time.Duration, rng *rand.Rand) (time.Duration, bool) {
	lo, hi := g.span(n)
	return uniform(rng, lo, hi), true
}

func (g GRPC) Window(n int, _ time.Duration) (Window, bool) {
	return drawn(g.span(n)), true
}

// FullJitter is AWS "full jitter": a draw from [0, min(Cap, Base·2^(n-1))).
type FullJitter struct{ Base, Cap time.Duration }

func (f FullJitter) Delay(n int, _ time.Duration, rng *rand.Rand) (time.Duration, bool) {
	return uniform(rng, 0, exp(f.Base, 2, n, f.Cap)), true
}

func (f FullJitter) Window(n int, _ time.Duration) (Window, bool) {
	return drawn(0, exp(f.Base, 2, n, f.Cap)), true
}

// EqualJitter is AWS "equal jitter": half of min(Cap, Base·2^(n-1)) plus a
// draw from [0, the other half).
type EqualJitter struct{ Base, Cap time.Duration }

func (e EqualJitter) Delay(n int, _ time.Duration, rng *rand.Rand) (time.Duration, bool) {
	t := exp(e.Base, 2, n, e.Cap)
	return t/2 + uniform(rng, 0, t-t/2), true
}

func (e EqualJitter) Window(n int, _ time.Duration) (Window, bool) {
	t := exp(e.Base, 2, n, e.Cap)
	return drawn(t/2, t), true
}

// Decorrelated is AWS "decorrelated jitter": min(Cap, a draw from
// [Base, prev·3)), with prev taken as Base on the first failure.
type Decorrelated struct{ Base, Cap time.Duration }

func (d Decorrelated) span(prev time.Duration) (time.Duration, time.Duration) {
	if prev < d.Base {
		prev = d.Base
	}
	return d.Base, prev * 3
}

func (d Decorrelated) Delay(_ int, prev time.Duration, rng *rand.Rand) (time.Duration, bool) {
	lo, hi := d.span(prev)
	return min(d.Cap, uniform(rng, lo, hi)), true
}

func (d Decorrelated) Window(_ int, prev time.Duration) (Window, bool) {
	w := drawn(d.span(prev))
	return Window{min(d.Cap, w.Min), min(d.Cap, w.Max)}, true
}

// Steps waits Delays[n-1], repeating the last step forever. Phoenix's socket
// steps 10, 50, 100, 150, 200, 250, 500, 1000, 2000 ms, then 5 s.
type Steps []time.Duration

// PhoenixSteps is the Phoenix channels client's reconnect schedule.
var PhoenixSteps = Steps{10 * time.Millisecond, 50 * time.Millisecond, 100 * time.Millisecond,
	150 * time.Millisecond, 200 * time.Millisecond, 250 * time.Millisecond, 500 * time.Millisecond,
	time.Second, 2 * time.Second, 5 * time.Second}

func (s Steps) Delay(n int, _ time.Duration, _ *rand.Rand) (time.Duration, bool) {
	if len(s) == 0 {
		return 0, true
	}
	return s[min(n, len(s))-1], true
}

func (s Steps) Window(n int, prev time.Duration) (Window, bool) {
	d, _ := s.Delay(n, prev, nil)
	return Window{d, d}, true
}

// Limit gives up after Attempts consecutive failures: failure n ≤ Attempts
// gets the inner policy's delay, failure Attempts+1 gives up.
type Limit struct {
	Policy   Policy
	Attempts int
}

func (l Limit) Delay(n int, prev time.Duration, rng *rand.Rand) (time.Duration, bool) {
	if n > l.Attempts {
		return 0, false
	}
	return l.Policy.Delay(n, prev, rng)
}

func (l Limit) Window(n int, prev time.Duration) (Window, bool) {
	if n > l.Attempts {
		return Window{}, false
	}
	return l.Policy.Window(n, prev)
}
