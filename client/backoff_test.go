package client_test

import (
	"math/rand/v2"
	"time"

	"github.com/wschaos/wschaos/backoff"
)

// backoffInstant retries at once, for real-clock tests of give-up logic.
type backoffInstant struct{}

func (backoffInstant) Delay(int, time.Duration, *rand.Rand) (time.Duration, bool) {
	return time.Millisecond, true
}
func (backoffInstant) Window(int, time.Duration) (backoff.Window, bool) {
	return backoff.Window{Min: time.Millisecond, Max: time.Millisecond}, true
}
