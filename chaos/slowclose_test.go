package chaos_test

import (
	"testing"
	"time"

	"github.com/wschaos/wschaos/chaos"
)

// slow-close only says how long to hold the answer: the servers hold it
// (the suite both run checks that, internal/link/linktest.SlowClose).
// Selectors pick the connections, and two add up.
func TestSlowCloseHoldsTheCloseAnswerOfTheConnectionsItIsOn(t *testing.T) {
	f := chaos.SlowClose(5 * time.Second)
	if f.String() != "slow-close 5s" {
		t.Errorf("String() = %q", f.String())
	}
	l := &chaos.Link{Attempt: 1}
	if steps := f.Open(l); len(steps) != 0 || l.HoldClose != 5*time.Second {
		t.Errorf("Open = %v, HoldClose %v; want no cut and 5s", steps, l.HoldClose)
	}
	f.Open(l)
	if l.HoldClose != 10*time.Second {
		t.Errorf("two slow-closes hold %v, want 10s", l.HoldClose)
	}
	on2 := chaos.OnAttempt(2, f).(chaos.ConnFault)
	for n, want := range map[int]time.Duration{1: 0, 2: 5 * time.Second} {
		l := &chaos.Link{Attempt: n}
		on2.Open(l)
		if l.HoldClose != want {
			t.Errorf("attempts=2 on attempt %d holds %v, want %v", n, l.HoldClose, want)
		}
	}
}
