package conform

import (
	"fmt"

	"github.com/wschaos/wschaos/profile"
)

// backoffFailures is how many refusals in a row the backoff scenario
// watches in real time when the profile never gives up: enough to pass
// mattermost's n² cliff (failure 8).
const backoffFailures = 8

// maxBackoffFailures bounds the failures watched in virtual time.
const maxBackoffFailures = 24

// backoffWatch is how many refusals the backoff scenario watches: in
// virtual time, where waits cost nothing, until the schedule has stopped
// changing and held for two more failures (its cap reached and kept:
// mattermost's first matters at failure 11), and never fewer than in real
// time, backoffFailures.
func backoffWatch(t *T) int {
	if !t.Virtual() {
		return backoffFailures
	}
	p := t.Profile()
	last := 1 // the last failure whose window differs from the one before
	prev, _ := p.Backoff.Window(1, 0)
	for n := 2; n < maxBackoffFailures; n++ {
		w, ok := p.Backoff.Window(n, 0)
		if !ok {
			break
		}
		if w != prev {
			last = n
		}
		prev = w
	}
	return min(max(backoffFailures, last+2), maxBackoffFailures)
}

// givesUpWhen says when a profile gives up.
func givesUpWhen(p *profile.Profile) string {
	for n := 1; n <= maxBackoffFailures*4; n++ {
		if _, ok := p.Backoff.Window(n, 0); !ok {
			return fmt.Sprintf("gives up after %d failures in a row", n-1)
		}
	}
	return "never gives up"
}

// maxResetRefusals bounds the refusals before the accepted attempt.
const maxResetRefusals = 12

// resetRefusals is how many refusals come before the accepted attempt: the
// fewest after which a failure count not reset on open would wait half as
// long again as the first wait's checked bound, so no tolerance can mistake
// one for the other (virtual time: queue 1, mattermost 7).
func resetRefusals(t *T) int {
	p := t.Profile()
	first, _ := p.Backoff.Window(1, 0)
	_, hi := t.Tolerance().widen(first.Min, first.Max)
	for n := 1; n < maxResetRefusals; n++ {
		w, ok := p.Backoff.Window(n+1, 0)
		if !ok { // such a client would give up: caught as well
			return n
		}
		if w.Min*2 > hi*3 {
			return n
		}
	}
	return maxResetRefusals
}
