package conform

import "time"

// queueWindow is how long, in profile time, queue-order.txt keeps the
// client refused while the application queues (attempts=1-queued): room
// on the real clock for an adapter's sends and the registration of a send
// on open, even where the first wait is a few milliseconds (phoenix:
// 10 ms) and the scale is small.
const queueWindow = 3 * time.Second

// queueRefusals is the fewest refusals whose shortest waits add up to
// queueWindow at the run's scale.
func queueRefusals(t *T) int {
	p := t.Profile()
	var sum time.Duration
	for n := 1; n < maxResetRefusals; n++ {
		w, ok := p.Backoff.Window(n, 0)
		if !ok {
			return max(1, n-1)
		}
		if sum += w.Min; sum >= time.Duration(float64(queueWindow)*t.scale) {
			return n
		}
	}
	return maxResetRefusals
}
