package backoff_test

import (
	"testing"
	"time"

	"github.com/wschaos/wschaos/profile"
)

// TestQueueProfileBackoff pins the queue profile's schedule: 1, 2, 4, 8, 16 s, no
// jitter, and a give-up on the 6th failure.
func TestQueueProfileBackoff(t *testing.T) {
	p := profile.QueueProfile().Backoff
	want := []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second, 16 * time.Second}
	rng := seeded(3)
	for i, w := range want {
		n := i + 1
		for range 20 {
			if d, ok := p.Delay(n, 0, rng); !ok || d != w {
				t.Fatalf("Delay(%d) = %v, %v; want %v, true", n, d, ok, w)
			}
		}
		if win, ok := p.Window(n, 0); !ok || win.Min != w || win.Max != w {
			t.Errorf("Window(%d) = %v, %v; want exactly %v", n, win, ok, w)
		}
	}
	for _, n := range []int{6, 7, 100} {
		if d, ok := p.Delay(n, 0, rng); ok {
			t.Errorf("Delay(%d) = %v, true; want a give-up after 5 failures", n, d)
		}
		if _, ok := p.Window(n, 0); ok {
			t.Errorf("Window(%d) ok, want a give-up after 5 failures", n)
		}
	}
}
