package bench

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/wschaos/wschaos/vclock"
)

// herdClock is one virtual clock shared by a herd of clients, handed to
// each client as a view that watches its timers. The reference client
// keeps exactly one timer pending while it runs (the connect timeout
// while dialing, the heartbeat while connected, the backoff while
// waiting), so the herd has settled after a step once every timer is
// armed in the future and none is a connect timeout: every client whose
// timer the step fired has dialed, heard back, and armed its next one.
// That is the effect a step waits for, however many clients it woke.
//
// A client's dial is told from its wait by its length: the connect
// timeout is an odd duration (herdConnectTimeout) that no backoff policy
// and no heartbeat produces.
type herdClock struct {
	vc      *vclock.Clock
	connect time.Duration

	mu      sync.Mutex
	changed *sync.Cond
	timers  []*herdTimer
	busy    int // timers stopped, or running a connect timeout
	due     int // timers armed at or before now: fired, not yet re-armed
}

// timerState is where one watched timer stands.
type timerState int

const (
	timerWaiting timerState = iota // armed in the future: settled
	timerBusy                      // stopped, or timing a dial
	timerDue                       // its deadline has passed
)

func newHerdClock(vc *vclock.Clock, connectTimeout time.Duration) *herdClock {
	h := &herdClock{vc: vc, connect: connectTimeout}
	h.changed = sync.NewCond(&h.mu)
	return h
}

// view is the clock one client gets.
func (h *herdClock) view() clockwork.Clock { return herdView{h} }

// advance moves the virtual clock by d, firing what is due, and marks
// every timer it fired as due.
func (h *herdClock) advance(d time.Duration) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.vc.Advance(d)
	now := h.vc.Now()
	for _, t := range h.timers {
		if t.state == timerWaiting && !t.at.After(now) {
			h.set(t, timerDue)
		}
	}
}

// settle waits until every timer is armed in the future and none times a
// dial, or ctx ends.
func (h *herdClock) settle(ctx context.Context) error {
	stop := context.AfterFunc(ctx, func() {
		h.mu.Lock()
		defer h.mu.Unlock()
		h.changed.Broadcast()
	})
	defer stop()
	h.mu.Lock()
	defer h.mu.Unlock()
	for h.busy > 0 || h.due > 0 {
		if ctx.Err() != nil {
			return fmt.Errorf("herd never settled at +%v (%d timers stopped or dialing, %d fired and not re-armed): %w",
				h.vc.Elapsed(), h.busy, h.due, ctx.Err())
		}
		h.changed.Wait()
	}
	return nil
}

// set moves t to state s and keeps the counts; h.mu must be held.
func (h *herdClock) set(t *herdTimer, s timerState) {
	h.count(t.state, -1)
	t.state = s
	h.count(s, +1)
	h.changed.Broadcast()
}

func (h *herdClock) count(s timerState, delta int) {
	switch s {
	case timerBusy:
		h.busy += delta
	case timerDue:
		h.due += delta
	}
}

// armed is the state of a timer just armed for d.
func (h *herdClock) armed(d time.Duration) timerState {
	switch {
	case d == h.connect:
		return timerBusy
	case d <= 0:
		return timerDue
	}
	return timerWaiting
}

// herdTimer is a client's timer, watched.
type herdTimer struct {
	clockwork.Timer
	h     *herdClock
	state timerState
	at    time.Time
}

func (t *herdTimer) Reset(d time.Duration) bool {
	t.h.mu.Lock()
	defer t.h.mu.Unlock()
	t.at = t.h.vc.Now().Add(d)
	t.h.set(t, t.h.armed(d))
	return t.Timer.Reset(d)
}

func (t *herdTimer) Stop() bool {
	t.h.mu.Lock()
	defer t.h.mu.Unlock()
	t.h.set(t, timerBusy)
	return t.Timer.Stop()
}

// herdView is a client's door into the herd's clock: its timers are
// watched, everything else is the shared virtual clock's.
type herdView struct{ h *herdClock }

func (v herdView) NewTimer(d time.Duration) clockwork.Timer {
	h := v.h
	h.mu.Lock()
	defer h.mu.Unlock()
	t := &herdTimer{Timer: h.vc.NewTimer(d), h: h, at: h.vc.Now().Add(d)}
	t.state = h.armed(d)
	h.count(t.state, +1)
	h.timers = append(h.timers, t)
	return t
}

func (v herdView) Now() time.Time                         { return v.h.vc.Now() }
func (v herdView) Since(t time.Time) time.Duration        { return v.h.vc.Since(t) }
func (v herdView) Until(t time.Time) time.Duration        { return v.h.vc.Until(t) }
func (v herdView) Sleep(d time.Duration)                  { <-v.After(d) }
func (v herdView) After(d time.Duration) <-chan time.Time { return v.NewTimer(d).Chan() }
func (v herdView) AfterFunc(d time.Duration, f func()) clockwork.Timer {
	panic("bench: the herd clock watches timers, not AfterFunc")
}
func (v herdView) NewTicker(d time.Duration) clockwork.Ticker {
	panic("bench: the herd clock watches timers, not tickers")
}
