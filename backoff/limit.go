package backoff

import (
	"math/rand/v2"
	"time"
)

// Limit gives up after Attempts consecutive failures: failure n ≤ Attempts
// gets the inner policy's delay, failure Attempts+1 gives up. A profile
// file writes it as the backoff's "retries".
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

// ForClient resolves the inner policy's per-client draws.
func (l Limit) ForClient(rng *rand.Rand) Policy {
	return Limit{Policy: ForClient(l.Policy, rng), Attempts: l.Attempts}
}
