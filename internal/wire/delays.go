package wire

import (
	"time"

	"github.com/jonboulle/clockwork"
)

// Delays is a connection's queue of work due later (delayed frames,
// scheduled cuts) behind one clock timer, armed only while something waits:
// on a virtual clock a connection with nothing delayed arms no timer, so a
// spec can count pending timers exactly. Items due at the same time keep
// the order they were added in. Not safe for concurrent use: the
// connection's loop, or its lock, owns it.
type Delays[T any] struct {
	clock   clockwork.Clock
	fire    func() // set by NewDelaysFunc: the timer calls it instead of sending on C
	items   []delayed[T]
	timer   clockwork.Timer
	armed   bool
	armedAt time.Time
}

type delayed[T any] struct {
	due time.Time
	v   T
}

// NewDelays returns an empty queue on clock.
func NewDelays[T any](clock clockwork.Clock) *Delays[T] { return &Delays[T]{clock: clock} }

// NewDelaysFunc returns an empty queue whose timer calls fire, on a
// goroutine of its own, instead of sending on C: for a connection with no
// loop goroutine to select on C. fire must call Fired, under the lock that
// guards the queue, before it runs what is Due; a call for a deadline that
// has since moved then finds nothing due, and Arm re-arms.
func NewDelaysFunc[T any](clock clockwork.Clock, fire func()) *Delays[T] {
	return &Delays[T]{clock: clock, fire: fire}
}

// Add queues v d from now, after everything due at the same time or earlier.
func (q *Delays[T]) Add(d time.Duration, v T) {
	due := q.clock.Now().Add(d)
	i := len(q.items)
	for i > 0 && q.items[i-1].due.After(due) {
		i--
	}
	q.items = append(q.items, delayed[T]{})
	copy(q.items[i+1:], q.items[i:])
	q.items[i] = delayed[T]{due, v}
}

// Due takes the first item if it is due now.
func (q *Delays[T]) Due() (T, bool) {
	var zero T
	if len(q.items) == 0 || q.items[0].due.After(q.clock.Now()) {
		return zero, false
	}
	v := q.items[0].v
	q.items = q.items[1:]
	return v, true
}

// Arm sets the timer for the first item still waiting, or stops it when
// none is.
func (q *Delays[T]) Arm() {
	if len(q.items) == 0 {
		q.Disarm()
		return
	}
	at := q.items[0].due
	if q.armed && q.armedAt.Equal(at) {
		return
	}
	d := at.Sub(q.clock.Now())
	switch {
	case q.timer == nil && q.fire != nil:
		q.timer = q.clock.AfterFunc(d, q.fire)
	case q.timer == nil:
		q.timer = q.clock.NewTimer(d)
	default:
		q.stop()
		q.timer.Reset(d)
	}
	q.armed, q.armedAt = true, at
}

// Disarm stops the timer.
func (q *Delays[T]) Disarm() {
	if q.armed {
		q.stop()
		q.armed = false
	}
}

// C fires when the first item is due; nil while nothing waits.
func (q *Delays[T]) C() <-chan time.Time {
	if !q.armed {
		return nil
	}
	return q.timer.Chan()
}

// Fired tells the queue its loop has read C.
func (q *Delays[T]) Fired() { q.armed = false }

// Drop empties the queue and stops the timer, returning what never ran.
func (q *Delays[T]) Drop() []T {
	out := make([]T, len(q.items))
	for i, it := range q.items {
		out[i] = it.v
	}
	q.items = nil
	q.Disarm()
	return out
}

// stop stops the timer and drains a firing the loop has not read, so it
// cannot wake the loop for a deadline that moved.
func (q *Delays[T]) stop() {
	if !q.timer.Stop() && q.fire == nil {
		select {
		case <-q.timer.Chan():
		default:
		}
	}
}
