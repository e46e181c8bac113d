package backoff_test

import (
	"math"
	"slices"
	"testing"
	"time"

	"github.com/wschaos/wschaos/backoff"
)

// TestMattermostScheduleWithoutJitter pins SPEC.md's schedule: 3 s while the
// fail count is at most 7, then 3 s·n², capped at 300 s.
func TestMattermostScheduleWithoutJitter(t *testing.T) {
	tests := []struct {
		n    int
		want time.Duration
	}{
		{1, 3 * time.Second},
		{2, 3 * time.Second},
		{3, 3 * time.Second},
		{4, 3 * time.Second},
		{5, 3 * time.Second},
		{6, 3 * time.Second},
		{7, 3 * time.Second},
		{8, 192 * time.Second},
		{9, 243 * time.Second},
		{10, 300 * time.Second},
		{11, 300 * time.Second},
		{100, 300 * time.Second},
		{1000, 300 * time.Second},
	}
	m := backoff.MattermostDefaults
	for _, tt := range tests {
		d, ok := m.Delay(tt.n, 0, low())
		if !ok || d != tt.want {
			t.Errorf("Delay(%d) with no jitter = %v, %v; want %v, true", tt.n, d, ok, tt.want)
		}
		w, ok := m.Window(tt.n, 0)
		if !ok || w.Min != tt.want {
			t.Errorf("Window(%d).Min = %v, %v; want %v, true", tt.n, w.Min, ok, tt.want)
		}
	}
}

func TestMattermostNeverGivesUp(t *testing.T) {
	m := backoff.MattermostDefaults
	rng := seeded(1)
	for n := 1; n <= 1000; n++ {
		if _, ok := m.Delay(n, 0, rng); !ok {
			t.Fatalf("Delay(%d) gave up; mattermost only stops on an intentional close", n)
		}
		if _, ok := m.Window(n, 0); !ok {
			t.Fatalf("Window(%d) gave up", n)
		}
	}
}

// TestMattermostJitterAfterCap: the jitter is added after the cap, so from
// n = 10 on every delay lies in [300 s, 302 s).
func TestMattermostJitterAfterCap(t *testing.T) {
	m := backoff.MattermostDefaults
	tests := []struct {
		n      int
		lo, hi time.Duration // [lo, hi)
	}{
		{1, 3 * time.Second, 5 * time.Second},
		{7, 3 * time.Second, 5 * time.Second},
		{8, 192 * time.Second, 194 * time.Second},
		{9, 243 * time.Second, 245 * time.Second},
		{10, 300 * time.Second, 302 * time.Second},
		{20, 300 * time.Second, 302 * time.Second},
		{1000, 300 * time.Second, 302 * time.Second},
	}
	for _, tt := range tests {
		w, _ := m.Window(tt.n, 0)
		if want := (backoff.Window{Min: tt.lo, Max: tt.hi - 1}); w != want {
			t.Errorf("Window(%d) = %v, want %v", tt.n, w, want)
		}
		if d, _ := m.Delay(tt.n, 0, high()); d != tt.hi-1 {
			t.Errorf("Delay(%d) with the largest jitter = %v, want %v", tt.n, d, tt.hi-1)
		}
		rng := seeded(uint64(tt.n))
		var spread bool
		for range draws {
			d, _ := m.Delay(tt.n, 0, rng)
			if d < tt.lo || d >= tt.hi {
				t.Fatalf("Delay(%d) = %v, outside [%v, %v)", tt.n, d, tt.lo, tt.hi)
			}
			if !w.Contains(d) {
				t.Fatalf("Delay(%d) = %v, outside its own Window %v", tt.n, d, w)
			}
			spread = spread || d != tt.lo
		}
		if !spread {
			t.Errorf("Delay(%d): %d seeded draws all gave %v; the jitter is not applied", tt.n, draws, tt.lo)
		}
	}
}

func TestMattermostSameSeedSameSequence(t *testing.T) {
	m := backoff.MattermostDefaults
	run := func(seed uint64) []time.Duration {
		rng := seeded(seed)
		var out []time.Duration
		for n := 1; n <= 50; n++ {
			d, _ := m.Delay(n, 0, rng)
			out = append(out, d)
		}
		return out
	}
	a, b := run(42), run(42)
	if !slices.Equal(a, b) {
		t.Fatalf("seed 42 gave two sequences:\n%v\n%v", a, b)
	}
	if c := run(43); slices.Equal(a, c) {
		t.Fatalf("seeds 42 and 43 gave the same sequence %v; the rng is not used", a)
	}
}

// TestMattermostHugeFailCount: 3 s·n² overflows int64 once n nears 2³¹; the
// cap must still hold there rather than wrap to a short delay.
func TestMattermostHugeFailCount(t *testing.T) {
	m := backoff.MattermostDefaults
	for _, n := range []int{55_000, 1 << 20, 1 << 31, 3_037_000_500, 1 << 40, math.MaxInt} {
		w, ok := m.Window(n, 0)
		if want := (backoff.Window{Min: 300 * time.Second, Max: 302*time.Second - 1}); !ok || w != want {
			t.Errorf("Window(%d) = %v, %v; want %v, true", n, w, ok, want)
		}
	}
}

// TestLimitedMattermostNeverReachesLongBranch documents the difference
// between the real client and an RxJS port of it, which retries at most 7
// times: Limit{MattermostDefaults, 7} stops before the n² branch, so all its
// delays stay in [3 s, 5 s) while the real schedule's 8th is about 192 s. A
// check of a client against the profile's windows tells the two apart.
func TestLimitedMattermostNeverReachesLongBranch(t *testing.T) {
	port := backoff.Limit{Policy: backoff.MattermostDefaults, Attempts: 7}
	rng := seeded(2)
	var longest time.Duration
	for n := 1; n <= 100; n++ {
		d, ok := port.Delay(n, 0, rng)
		if n > 7 {
			if ok {
				t.Fatalf("port Delay(%d) = %v, want a give-up after 7 attempts", n, d)
			}
			continue
		}
		if !ok {
			t.Fatalf("port gave up at %d, before its 7 attempts", n)
		}
		longest = max(longest, d)
	}
	if longest >= 5*time.Second {
		t.Fatalf("port's longest delay = %v, want < 5 s (the flat branch only)", longest)
	}
	real8, ok := backoff.MattermostDefaults.Window(8, 0)
	if !ok || real8.Min != 192*time.Second {
		t.Fatalf("real Window(8) = %v, %v; want it to start at 192 s", real8, ok)
	}
	if _, ok := port.Window(8, 0); ok {
		t.Fatalf("port Window(8) is open; the port has no 8th retry to compare")
	}
}
