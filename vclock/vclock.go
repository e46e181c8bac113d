// Package vclock is a fake clock for scenario specs: clockwork's FakeClock,
// plus knowledge of when the next timer is due.
//
// clockwork's Advance(d) leaves Now() at the end of the jump, so a timer that
// fired midway is observed at the wrong time. AdvanceToNext moves the clock
// exactly to the earliest pending deadline, so whatever that timer triggers
// (a reconnect, a ping) is stamped with the exact virtual time. Hours of
// backoff then take one step per timer, not one per millisecond.
//
// Clock implements clockwork.Clock: pass it wherever a clockwork.Clock goes.
package vclock

import (
	"context"
	"sync"
	"time"

	"github.com/jonboulle/clockwork"
)

// Epoch is the default start of virtual time, fixed so transcripts replay.
var Epoch = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// Clock is a fake clock that tracks the deadlines of the timers it made.
type Clock struct {
	fake  *clockwork.FakeClock
	start time.Time

	// mu guards deadlines and is held across every call that arms, stops or
	// advances the fake clock, so a timer armed while another goroutine
	// advances gets the same "now" here as in clockwork. Holding it across
	// fake.Advance is safe: clockwork runs AfterFunc callbacks in their own
	// goroutines and never blocks on a channel send.
	mu        sync.Mutex
	deadlines map[any]deadline
}

type deadline struct {
	at     time.Time
	period time.Duration // tickers: re-armed every period
	owner  string        // who armed it, through For
}

// New returns a Clock at Epoch.
func New() *Clock { return NewAt(Epoch) }

// NewAt returns a Clock at t.
func NewAt(t time.Time) *Clock {
	return &Clock{fake: clockwork.NewFakeClockAt(t), start: t, deadlines: map[any]deadline{}}
}

// Start is the time the clock was made at.
func (c *Clock) Start() time.Time { return c.start }

// Elapsed is the virtual time since Start.
func (c *Clock) Elapsed() time.Duration { return c.Now().Sub(c.start) }

func (c *Clock) Now() time.Time                  { return c.fake.Now() }
func (c *Clock) Since(t time.Time) time.Duration { return c.fake.Since(t) }
func (c *Clock) Until(t time.Time) time.Duration { return c.fake.Until(t) }
func (c *Clock) Sleep(d time.Duration)           { <-c.After(d) }
func (c *Clock) After(d time.Duration) <-chan time.Time {
	return c.NewTimer(d).Chan()
}

func (c *Clock) NewTimer(d time.Duration) clockwork.Timer { return c.newTimer("", d, nil) }

func (c *Clock) AfterFunc(d time.Duration, f func()) clockwork.Timer { return c.newTimer("", d, f) }

func (c *Clock) NewTicker(d time.Duration) clockwork.Ticker { return c.newTicker("", d) }

func (c *Clock) newTimer(owner string, d time.Duration, f func()) clockwork.Timer {
	t := &timer{c: c, owner: owner}
	c.mu.Lock()
	defer c.mu.Unlock()
	if f != nil {
		t.Timer = c.fake.AfterFunc(d, f)
	} else {
		t.Timer = c.fake.NewTimer(d)
	}
	c.track(t, owner, d, 0)
	return t
}

func (c *Clock) newTicker(owner string, d time.Duration) clockwork.Ticker {
	t := &ticker{c: c, owner: owner}
	c.mu.Lock()
	defer c.mu.Unlock()
	t.Ticker = c.fake.NewTicker(d)
	c.track(t, owner, d, d)
	return t
}

// track records a deadline d from now; c.mu must be held.
func (c *Clock) track(key any, owner string, d, period time.Duration) {
	if d <= 0 && period <= 0 {
		delete(c.deadlines, key)
		return
	}
	c.deadlines[key] = deadline{at: c.fake.Now().Add(d), period: period, owner: owner}
}

// For returns a view of c for one owner: the same time, but the timers it
// makes count as owner's in Pending. Give the client under test its own
// view, and a spec can tell "the client has re-armed" from "some timer is
// pending".
func (c *Clock) For(owner string) clockwork.Clock { return view{c, owner} }

// Pending counts owner's live timers and tickers.
func (c *Clock) Pending(owner string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.fake.Now()
	n := 0
	for _, dl := range c.deadlines {
		if dl.owner == owner && (dl.at.After(now) || dl.period > 0) {
			n++
		}
	}
	return n
}

// NextFor returns the earliest deadline after now of owner's timers.
func (c *Clock) NextFor(owner string) (time.Time, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.fake.Now()
	var next time.Time
	found := false
	for _, dl := range c.deadlines {
		if dl.owner != owner {
			continue
		}
		at := dl.at
		if !at.After(now) {
			if dl.period <= 0 {
				continue // fired
			}
			at = at.Add(dl.period * (now.Sub(at)/dl.period + 1))
		}
		if !found || at.Before(next) {
			next, found = at, true
		}
	}
	return next, found
}

// view is Clock.For: one owner's door into a shared Clock.
type view struct {
	c     *Clock
	owner string
}

func (v view) Now() time.Time                         { return v.c.Now() }
func (v view) Since(t time.Time) time.Duration        { return v.c.Since(t) }
func (v view) Until(t time.Time) time.Duration        { return v.c.Until(t) }
func (v view) Sleep(d time.Duration)                  { <-v.After(d) }
func (v view) After(d time.Duration) <-chan time.Time { return v.NewTimer(d).Chan() }
func (v view) NewTimer(d time.Duration) clockwork.Timer {
	return v.c.newTimer(v.owner, d, nil)
}
func (v view) AfterFunc(d time.Duration, f func()) clockwork.Timer {
	return v.c.newTimer(v.owner, d, f)
}
func (v view) NewTicker(d time.Duration) clockwork.Ticker { return v.c.newTicker(v.owner, d) }

// Next returns the earliest deadline after now of any live timer or ticker.
func (c *Clock) Next() (time.Time, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.nextLocked()
}

// nextLocked is Next; c.mu must be held.
func (c *Clock) nextLocked() (time.Time, bool) {
	now := c.fake.Now()
	var next time.Time
	found := false
	for key, dl := range c.deadlines {
		at := dl.at
		if !at.After(now) {
			if dl.period <= 0 {
				delete(c.deadlines, key) // fired
				continue
			}
			at = at.Add(dl.period * (now.Sub(at)/dl.period + 1))
		}
		if !found || at.Before(next) {
			next, found = at, true
		}
	}
	return next, found
}

// AdvanceToNext moves the clock exactly to the next deadline and returns how
// far it moved; ok is false (and the clock stays) when no timer is pending.
func (c *Clock) AdvanceToNext() (d time.Duration, ok bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	at, ok := c.nextLocked()
	if !ok {
		return 0, false
	}
	d = at.Sub(c.fake.Now())
	c.fake.Advance(d)
	return d, true
}

// Advance moves the clock by d, firing every timer due on the way. Now()
// reads the end of the jump afterwards: step with AdvanceToNext where the
// time a timer fired matters.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.fake.Advance(d)
}

// BlockUntilContext blocks until at least n timers, tickers and sleepers are
// pending, or ctx ends.
func (c *Clock) BlockUntilContext(ctx context.Context, n int) error {
	return c.fake.BlockUntilContext(ctx, n)
}

type timer struct {
	clockwork.Timer
	c     *Clock
	owner string
}

func (t *timer) Reset(d time.Duration) bool {
	t.c.mu.Lock()
	defer t.c.mu.Unlock()
	t.c.track(t, t.owner, d, 0)
	return t.Timer.Reset(d)
}

func (t *timer) Stop() bool {
	t.c.mu.Lock()
	defer t.c.mu.Unlock()
	delete(t.c.deadlines, t)
	return t.Timer.Stop()
}

type ticker struct {
	clockwork.Ticker
	c     *Clock
	owner string
}

func (t *ticker) Reset(d time.Duration) {
	t.c.mu.Lock()
	defer t.c.mu.Unlock()
	t.c.track(t, t.owner, d, d)
	// clockwork v0.5.0's fakeTicker.Reset adds the ticker to the clock's
	// waiters without taking it out first. Stop it so it is listed once:
	// otherwise BlockUntilContext counts it twice and a later Stop leaves a
	// copy that keeps ticking.
	t.Ticker.Stop()
	t.Ticker.Reset(d)
}

func (t *ticker) Stop() {
	t.c.mu.Lock()
	defer t.c.mu.Unlock()
	delete(t.c.deadlines, t)
	t.Ticker.Stop()
}
