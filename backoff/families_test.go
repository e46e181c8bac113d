package backoff_test

import (
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/wschaos/wschaos/backoff"
)

const ms = time.Millisecond

// window is [lo, hi) as the closed Window a policy states for it.
func window(lo, hi time.Duration) backoff.Window { return backoff.Window{Min: lo, Max: hi - 1} }

// point is a window of one exact delay.
func point(d time.Duration) backoff.Window { return backoff.Window{Min: d, Max: d} }

// TestFamilyValues pins each family's delays at chosen failures: the window,
// the lowest draw and the highest draw.
func TestFamilyValues(t *testing.T) {
	tests := []struct {
		name string
		p    backoff.Policy
		n    int
		prev time.Duration
		want backoff.Window
	}{
		{"exponential n=1", backoff.Exponential{Base: time.Second, Factor: 2}, 1, 0, point(time.Second)},
		{"exponential n=4", backoff.Exponential{Base: time.Second, Factor: 2}, 4, 0, point(8 * time.Second)},
		{"exponential factor 1.5", backoff.Exponential{Base: 100 * ms, Factor: 1.5}, 3, 0, point(225 * ms)},
		{"exponential below cap", backoff.Exponential{Base: time.Second, Factor: 2, Max: 10 * time.Second}, 4, 0, point(8 * time.Second)},
		{"exponential at cap", backoff.Exponential{Base: time.Second, Factor: 2, Max: 10 * time.Second}, 5, 0, point(10 * time.Second)},
		{"exponential n=200 capped", backoff.Exponential{Base: time.Second, Factor: 2, Max: 10 * time.Second}, 200, 0, point(10 * time.Second)},

		{"grpc n=1", backoff.GRPCDefaults, 1, 0, window(800*ms, 1200*ms)},
		{"grpc n=2", backoff.GRPCDefaults, 2, 0, window(1280*ms, 1920*ms)},
		{"grpc n=12 capped", backoff.GRPCDefaults, 12, 0, window(96*time.Second, 144*time.Second)},
		{"grpc n=200 capped", backoff.GRPCDefaults, 200, 0, window(96*time.Second, 144*time.Second)},
		{"grpc no jitter", backoff.Exponential{Base: time.Second, Factor: 2, Max: time.Minute}, 3, 0, point(4 * time.Second)},

		{"full jitter n=1", backoff.FullJitter(100*ms, 10*time.Second), 1, 0, window(0, 100*ms)},
		{"full jitter n=3", backoff.FullJitter(100*ms, 10*time.Second), 3, 0, window(0, 400*ms)},
		{"full jitter capped", backoff.FullJitter(100*ms, 10*time.Second), 8, 0, window(0, 10*time.Second)},

		{"equal jitter n=1", backoff.EqualJitter(100*ms, 10*time.Second), 1, 0, window(50*ms, 100*ms)},
		{"equal jitter n=3", backoff.EqualJitter(100*ms, 10*time.Second), 3, 0, window(200*ms, 400*ms)},
		{"equal jitter capped", backoff.EqualJitter(100*ms, 10*time.Second), 8, 0, window(5*time.Second, 10*time.Second)},

		{"decorrelated first", backoff.Decorrelated{Base: 100 * ms, Cap: 10 * time.Second}, 1, 0, window(100*ms, 300*ms)},
		{"decorrelated prev below base", backoff.Decorrelated{Base: 100 * ms, Cap: 10 * time.Second}, 2, 50 * ms, window(100*ms, 300*ms)},
		{"decorrelated uses prev", backoff.Decorrelated{Base: 100 * ms, Cap: 10 * time.Second}, 2, time.Second, window(100*ms, 3*time.Second)},
		{"decorrelated n is ignored", backoff.Decorrelated{Base: 100 * ms, Cap: 10 * time.Second}, 9, time.Second, window(100*ms, 3*time.Second)},
		{"decorrelated capped", backoff.Decorrelated{Base: 100 * ms, Cap: 10 * time.Second}, 2, 5 * time.Second, backoff.Window{Min: 100 * ms, Max: 10 * time.Second}},
		{"decorrelated cap below base", backoff.Decorrelated{Base: time.Second, Cap: 500 * ms}, 1, 0, point(500 * ms)},

		{"steps n=3", backoff.Steps{Delays: []time.Duration{time.Second, 2 * time.Second, 3 * time.Second}}, 3, 0, point(3 * time.Second)},
		{"steps repeat last", backoff.Steps{Delays: []time.Duration{time.Second, 2 * time.Second}}, 5, 0, point(2 * time.Second)},
		{"steps empty", backoff.Steps{}, 1, 0, point(0)},

		{"limit passes through", backoff.Limit{Policy: backoff.GRPCDefaults, Attempts: 3}, 3, 0, window(2048*ms, 3072*ms)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w, ok := tt.p.Window(tt.n, tt.prev)
			if !ok || w != tt.want {
				t.Fatalf("Window(%d, %v) = %v, %v; want %v, true", tt.n, tt.prev, w, ok, tt.want)
			}
			if d, ok := tt.p.Delay(tt.n, tt.prev, low()); !ok || d != w.Min {
				t.Errorf("lowest Delay(%d, %v) = %v, %v; want %v, true", tt.n, tt.prev, d, ok, w.Min)
			}
			if d, ok := tt.p.Delay(tt.n, tt.prev, high()); !ok || d != w.Max {
				t.Errorf("highest Delay(%d, %v) = %v, %v; want %v, true", tt.n, tt.prev, d, ok, w.Max)
			}
		})
	}
}

func TestPhoenixSteps(t *testing.T) {
	want := []time.Duration{10 * ms, 50 * ms, 100 * ms, 150 * ms, 200 * ms, 250 * ms, 500 * ms,
		time.Second, 2 * time.Second, 5 * time.Second, 5 * time.Second, 5 * time.Second}
	for i, w := range want {
		n := i + 1
		if d, ok := backoff.PhoenixSteps.Delay(n, 0, nil); !ok || d != w {
			t.Errorf("PhoenixSteps.Delay(%d) = %v, %v; want %v, true", n, d, ok, w)
		}
	}
	if d, _ := backoff.PhoenixSteps.Delay(1000, 0, nil); d != 5*time.Second {
		t.Errorf("PhoenixSteps.Delay(1000) = %v, want the last step 5s forever", d)
	}
}

// TestExponentialNoOverflow: without a cap the delay grows until it
// saturates; it never wraps negative or shrinks.
func TestExponentialNoOverflow(t *testing.T) {
	policies := []backoff.Policy{
		backoff.Exponential{Base: time.Second, Factor: 2},
		backoff.Exponential{Base: time.Millisecond, Factor: 1.6},
		backoff.Exponential{Base: time.Second, Factor: 1.6, Jitter: backoff.JitterRatio, Ratio: 0.2},
		backoff.FullJitter(time.Second, 0),
		backoff.EqualJitter(time.Second, 0),
	}
	for _, p := range policies {
		var prevMin time.Duration
		for n := 1; n <= 200; n++ {
			w, _ := p.Window(n, 0)
			if w.Min < prevMin || w.Max < w.Min {
				t.Fatalf("%#v Window(%d) = %v after a Min of %v: overflowed", p, n, w, prevMin)
			}
			prevMin = w.Min
		}
		if w, _ := p.Window(200, 0); w.Max < 100*365*24*time.Hour {
			t.Errorf("%#v Window(200) = %v, want a saturated delay of over a century", p, w)
		}
	}
}

// TestGRPCWithinTwentyPercent compares every failure's window with
// 1 s·1.6^(n-1), capped at 120 s before the ±20 % jitter.
func TestGRPCWithinTwentyPercent(t *testing.T) {
	for n := 1; n <= 40; n++ {
		b := min(float64(time.Second)*math.Pow(1.6, float64(n-1)), float64(120*time.Second))
		w, _ := backoff.GRPCDefaults.Window(n, 0)
		const tolerance = float64(time.Microsecond) // float rounding of 1.6^k
		if math.Abs(float64(w.Min)-0.8*b) > tolerance || math.Abs(float64(w.Max)-1.2*b) > tolerance {
			t.Errorf("GRPCDefaults.Window(%d) = %v, want about [%v, %v)", n, w, time.Duration(0.8*b), time.Duration(1.2*b))
		}
	}
}

func TestLimitGivesUp(t *testing.T) {
	tests := []struct {
		attempts, n int
		ok          bool
	}{
		{0, 1, false},
		{1, 1, true},
		{1, 2, false},
		{5, 5, true},
		{5, 6, false},
		{5, 1000, false},
	}
	for _, tt := range tests {
		l := backoff.Limit{Policy: backoff.Steps{Delays: []time.Duration{time.Second}}, Attempts: tt.attempts}
		d, ok := l.Delay(tt.n, 0, nil)
		if ok != tt.ok {
			t.Errorf("Limit %d: Delay(%d) ok = %v, want %v", tt.attempts, tt.n, ok, tt.ok)
		}
		if ok && d != time.Second {
			t.Errorf("Limit %d: Delay(%d) = %v, want the inner 1s", tt.attempts, tt.n, d)
		}
		if _, wok := l.Window(tt.n, 0); wok != tt.ok {
			t.Errorf("Limit %d: Window(%d) ok = %v, want %v", tt.attempts, tt.n, wok, tt.ok)
		}
	}
}

// familyCases are configurations every window property runs over,
// including degenerate zero values a user may leave unset.
var familyCases = []struct {
	name string
	p    backoff.Policy
	maxN int
}{
	{"exponential", backoff.Exponential{Base: 100 * ms, Factor: 2, Max: 30 * time.Second}, 25},
	{"exponential uncapped", backoff.Exponential{Base: time.Second, Factor: 2}, 200},
	{"grpc", backoff.GRPCDefaults, 30},
	{"grpc uncapped", backoff.Exponential{Base: time.Second, Factor: 1.6, Jitter: backoff.JitterRatio, Ratio: 0.2}, 200},
	{"full jitter", backoff.FullJitter(100*ms, 10*time.Second), 30},
	{"full jitter uncapped", backoff.FullJitter(100*ms, 0), 200},
	{"equal jitter", backoff.EqualJitter(100*ms, 10*time.Second), 30},
	{"decorrelated", backoff.Decorrelated{Base: 100 * ms, Cap: 10 * time.Second}, 30},
	{"phoenix", backoff.PhoenixSteps, 15},
	{"mattermost", backoff.MattermostDefaults, 30},
	{"queue", backoff.Limit{Policy: backoff.Exponential{Base: time.Second, Factor: 2}, Attempts: 5}, 10},
	{"limited grpc", backoff.Limit{Policy: backoff.GRPCDefaults, Attempts: 4}, 10},
	{"zero exponential", backoff.Exponential{}, 3},
	{"zero grpc", backoff.Exponential{Jitter: backoff.JitterRatio}, 3},
	{"zero full jitter", backoff.FullJitter(0, 0), 3},
	{"zero equal jitter", backoff.EqualJitter(0, 0), 3},
	{"zero decorrelated", backoff.Decorrelated{}, 3},
	{"zero mattermost", backoff.Mattermost{}, 3},
	{"one nanosecond base", backoff.EqualJitter(1, 1), 3},
}

// TestDelayWithinWindow: over many seeded runs, each feeding its previous
// delay back as prev, every delay lies in the window stated for (n, prev),
// Delay and Window agree on giving up, and the highest draw is the window's
// top.
func TestDelayWithinWindow(t *testing.T) {
	for _, fc := range familyCases {
		t.Run(fc.name, func(t *testing.T) {
			for seed := range uint64(draws / 20) {
				rng := seeded(seed)
				var prev time.Duration
				for n := 1; n <= fc.maxN; n++ {
					w, wok := fc.p.Window(n, prev)
					d, dok := fc.p.Delay(n, prev, rng)
					if wok != dok {
						t.Fatalf("n=%d prev=%v: Window ok = %v but Delay ok = %v", n, prev, wok, dok)
					}
					if !dok {
						break
					}
					if w.Max < w.Min {
						t.Fatalf("n=%d prev=%v: empty Window %v", n, prev, w)
					}
					if !w.Contains(d) {
						t.Fatalf("seed %d n=%d prev=%v: Delay = %v, outside Window %v", seed, n, prev, d, w)
					}
					for _, r := range []struct {
						name string
						d    time.Duration
					}{{"lowest", must(fc.p.Delay(n, prev, low()))}, {"highest", must(fc.p.Delay(n, prev, high()))}} {
						if !w.Contains(r.d) {
							t.Fatalf("n=%d prev=%v: %s Delay = %v, outside Window %v", n, prev, r.name, r.d, w)
						}
					}
					if top := must(fc.p.Delay(n, prev, high())); top != w.Max {
						t.Fatalf("n=%d prev=%v: highest Delay = %v, but Window says up to %v", n, prev, top, w.Max)
					}
					prev = d
				}
			}
		})
	}
}

func must(d time.Duration, _ bool) time.Duration { return d }

func TestSameSeedSameDelays(t *testing.T) {
	for _, fc := range familyCases {
		run := func() string {
			rng := seeded(7)
			var prev time.Duration
			s := ""
			for n := 1; n <= fc.maxN; n++ {
				d, ok := fc.p.Delay(n, prev, rng)
				s += fmt.Sprint(d, ok, " ")
				prev = d
			}
			return s
		}
		if a, b := run(), run(); a != b {
			t.Errorf("%s: seed 7 gave two sequences:\n%s\n%s", fc.name, a, b)
		}
	}
}

func TestWindowContains(t *testing.T) {
	tests := []struct {
		w    backoff.Window
		d    time.Duration
		want bool
	}{
		{backoff.Window{Min: time.Second, Max: 2 * time.Second}, time.Second, true},
		{backoff.Window{Min: time.Second, Max: 2 * time.Second}, 2 * time.Second, true},
		{backoff.Window{Min: time.Second, Max: 2 * time.Second}, time.Second - 1, false},
		{backoff.Window{Min: time.Second, Max: 2 * time.Second}, 2*time.Second + 1, false},
		{backoff.Window{Min: time.Second, Max: 2 * time.Second}, 1500 * ms, true},
		{backoff.Window{}, 0, true},
		{backoff.Window{}, 1, false},
		{backoff.Window{Min: 2, Max: 1}, 1, false},
		{backoff.Window{Min: 2, Max: 1}, 2, false},
	}
	for _, tt := range tests {
		if got := tt.w.Contains(tt.d); got != tt.want {
			t.Errorf("%v.Contains(%v) = %v, want %v", tt.w, tt.d, got, tt.want)
		}
	}
}

func TestWindowString(t *testing.T) {
	tests := []struct {
		w    backoff.Window
		want string
	}{
		{point(3 * time.Second), "3s"},
		{window(3*time.Second, 5*time.Second), "[3s, 4.999999999s]"},
	}
	for _, tt := range tests {
		if got := tt.w.String(); got != tt.want {
			t.Errorf("String() = %q, want %q", got, tt.want)
		}
	}
}
