package vclock_test

import (
	"context"
	"errors"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/wschaos/wschaos/vclock"
)

// settle bounds the real time a test waits for something that must happen
// (a goroutine woken by the fake clock); it is never a sleep.
const settle = 10 * time.Second

// absent is how long a test waits to see that something does not happen.
const absent = 20 * time.Millisecond

func recv(t *testing.T, ch <-chan time.Time, what string) time.Time {
	t.Helper()
	select {
	case at := <-ch:
		return at
	case <-time.After(settle):
		t.Fatalf("%s did not fire", what)
		return time.Time{}
	}
}

func none(t *testing.T, ch <-chan time.Time, what string) {
	t.Helper()
	select {
	case at := <-ch:
		t.Fatalf("%s fired at %v, want no fire", what, at)
	default:
	}
}

func step(t *testing.T, c *vclock.Clock, want time.Duration) {
	t.Helper()
	before := c.Now()
	d, ok := c.AdvanceToNext()
	if !ok || d != want {
		t.Fatalf("AdvanceToNext() = %v, %v; want %v, true", d, ok, want)
	}
	if got := c.Now().Sub(before); got != want {
		t.Fatalf("AdvanceToNext moved the clock %v, but said %v", got, want)
	}
}

func noNext(t *testing.T, c *vclock.Clock) {
	t.Helper()
	if at, ok := c.Next(); ok {
		t.Fatalf("Next() = %v, want no pending timer", at)
	}
	now := c.Now()
	if d, ok := c.AdvanceToNext(); ok || d != 0 {
		t.Fatalf("AdvanceToNext() = %v, %v; want 0, false", d, ok)
	}
	if !c.Now().Equal(now) {
		t.Fatalf("AdvanceToNext with nothing pending moved the clock from %v to %v", now, c.Now())
	}
}

func TestNothingPending(t *testing.T) {
	c := vclock.New()
	noNext(t, c)
	if !c.Now().Equal(vclock.Epoch) || c.Elapsed() != 0 {
		t.Fatalf("a new clock reads %v, elapsed %v; want %v, 0", c.Now(), c.Elapsed(), vclock.Epoch)
	}
}

func TestElapsed(t *testing.T) {
	t0 := time.Date(2030, 6, 1, 12, 0, 0, 0, time.UTC)
	c := vclock.NewAt(t0)
	if !c.Start().Equal(t0) {
		t.Fatalf("Start() = %v, want %v", c.Start(), t0)
	}
	c.Advance(90 * time.Minute)
	if c.Elapsed() != 90*time.Minute || c.Since(t0) != 90*time.Minute || c.Until(t0.Add(100*time.Minute)) != 10*time.Minute {
		t.Fatalf("after 90m: Elapsed %v, Since %v, Until +100m %v", c.Elapsed(), c.Since(t0), c.Until(t0.Add(100*time.Minute)))
	}
	c.NewTimer(time.Hour)
	c.AdvanceToNext()
	if c.Elapsed() != 150*time.Minute {
		t.Fatalf("Elapsed() = %v, want 2h30m", c.Elapsed())
	}
}

// TestAdvanceToNextEarliest: a timer at 5 s, an AfterFunc at 3 s and a
// ticker every 4 s are met in deadline order, each at its exact time, and
// the ticker re-arms by its period.
func TestAdvanceToNextEarliest(t *testing.T) {
	c := vclock.New()
	start := c.Now()
	timer := c.NewTimer(5 * time.Second)
	called := make(chan time.Time, 1)
	c.AfterFunc(3*time.Second, func() { called <- c.Now() })
	tk := c.NewTicker(4 * time.Second)

	if at, ok := c.Next(); !ok || !at.Equal(start.Add(3*time.Second)) {
		t.Fatalf("Next() = %v, %v; want start+3s", at, ok)
	}
	step(t, c, 3*time.Second)
	if at := recv(t, called, "AfterFunc"); !at.Equal(start.Add(3 * time.Second)) {
		t.Fatalf("AfterFunc ran at %v, want start+3s", at.Sub(start))
	}
	none(t, timer.Chan(), "timer at 5s")
	none(t, tk.Chan(), "ticker at 4s")

	step(t, c, time.Second)
	if at := recv(t, tk.Chan(), "ticker"); !at.Equal(start.Add(4 * time.Second)) {
		t.Fatalf("ticker fired at %v, want start+4s", at.Sub(start))
	}
	none(t, timer.Chan(), "timer at 5s")

	step(t, c, time.Second)
	if at := recv(t, timer.Chan(), "timer"); !at.Equal(start.Add(5 * time.Second)) {
		t.Fatalf("timer fired at %v, want start+5s", at.Sub(start))
	}

	for _, want := range []time.Duration{8 * time.Second, 12 * time.Second, 16 * time.Second} {
		step(t, c, want-c.Elapsed())
		if at := recv(t, tk.Chan(), "ticker"); !at.Equal(start.Add(want)) {
			t.Fatalf("ticker fired at %v, want %v", at.Sub(start), want)
		}
	}
	tk.Stop()
	noNext(t, c)
}

func TestTimerReset(t *testing.T) {
	t.Run("earlier", func(t *testing.T) {
		c := vclock.New()
		timer := c.NewTimer(10 * time.Second)
		if !timer.Reset(2 * time.Second) {
			t.Errorf("Reset of an active timer = false, want true")
		}
		step(t, c, 2*time.Second)
		if at := recv(t, timer.Chan(), "timer"); at.Sub(c.Start()) != 2*time.Second {
			t.Fatalf("timer fired at %v, want 2s", at.Sub(c.Start()))
		}
		noNext(t, c)
	})
	t.Run("later", func(t *testing.T) {
		c := vclock.New()
		timer := c.NewTimer(2 * time.Second)
		timer.Reset(20 * time.Second)
		if at, _ := c.Next(); at.Sub(c.Start()) != 20*time.Second {
			t.Fatalf("Next() = start+%v, want start+20s", at.Sub(c.Start()))
		}
		step(t, c, 20*time.Second)
		recv(t, timer.Chan(), "timer")
	})
	t.Run("after firing", func(t *testing.T) {
		c := vclock.New()
		timer := c.NewTimer(time.Second)
		step(t, c, time.Second)
		recv(t, timer.Chan(), "timer")
		noNext(t, c)
		if timer.Reset(5 * time.Second) {
			t.Errorf("Reset of a fired timer = true, want false")
		}
		step(t, c, 5*time.Second)
		if at := recv(t, timer.Chan(), "re-armed timer"); at.Sub(c.Start()) != 6*time.Second {
			t.Fatalf("re-armed timer fired at %v, want 6s", at.Sub(c.Start()))
		}
	})
	t.Run("AfterFunc", func(t *testing.T) {
		c := vclock.New()
		called := make(chan time.Time, 1)
		f := c.AfterFunc(time.Minute, func() { called <- c.Now() })
		f.Reset(7 * time.Second)
		step(t, c, 7*time.Second)
		if at := recv(t, called, "AfterFunc"); at.Sub(c.Start()) != 7*time.Second {
			t.Fatalf("AfterFunc ran at %v, want 7s", at.Sub(c.Start()))
		}
	})
}

func TestStop(t *testing.T) {
	c := vclock.New()
	timer := c.NewTimer(time.Second)
	f := c.AfterFunc(2*time.Second, func() { t.Error("stopped AfterFunc ran") })
	tk := c.NewTicker(3 * time.Second)
	if !timer.Stop() || !f.Stop() {
		t.Errorf("Stop of an active timer = false, want true")
	}
	tk.Stop()
	noNext(t, c)
	if timer.Stop() {
		t.Errorf("second Stop = true, want false")
	}
	c.Advance(time.Hour)
	none(t, timer.Chan(), "stopped timer")
	none(t, tk.Chan(), "stopped ticker")
}

// TestStopOnlyTheStoppedOne: stopping the earliest timer makes the next one
// the earliest.
func TestStopOnlyTheStoppedOne(t *testing.T) {
	c := vclock.New()
	a := c.NewTimer(time.Second)
	b := c.NewTimer(4 * time.Second)
	a.Stop()
	step(t, c, 4*time.Second)
	recv(t, b.Chan(), "timer b")
	none(t, a.Chan(), "stopped timer a")
}

func TestTickerReset(t *testing.T) {
	c := vclock.New()
	tk := c.NewTicker(10 * time.Second)
	c.Advance(3 * time.Second)
	tk.Reset(5 * time.Second)
	for _, want := range []time.Duration{8 * time.Second, 13 * time.Second, 18 * time.Second} {
		step(t, c, 5*time.Second)
		if at := recv(t, tk.Chan(), "ticker"); at.Sub(c.Start()) != want {
			t.Fatalf("reset ticker fired at %v, want %v", at.Sub(c.Start()), want)
		}
	}
	tk.Stop()
	noNext(t, c)
	c.Advance(time.Hour)
	none(t, tk.Chan(), "ticker stopped after a Reset")
}

// TestTickerResetCountsOnce: a reset ticker is one pending waiter, not two.
func TestTickerResetCountsOnce(t *testing.T) {
	c := vclock.New()
	tk := c.NewTicker(10 * time.Second)
	tk.Reset(5 * time.Second)
	tk.Reset(7 * time.Second)
	ctx, cancel := context.WithTimeout(context.Background(), absent)
	defer cancel()
	if err := c.BlockUntilContext(ctx, 2); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("BlockUntilContext(2) with one reset ticker = %v, want a deadline error", err)
	}
}

// TestTickerAfterJump: after Advance jumps over several ticks, Next is the
// tick clockwork will really fire next.
func TestTickerAfterJump(t *testing.T) {
	for _, jump := range []time.Duration{30 * time.Second, 35 * time.Second} {
		c := vclock.New()
		tk := c.NewTicker(10 * time.Second)
		c.Advance(jump)
		if at := recv(t, tk.Chan(), "ticker"); at.Sub(c.Start()) != 10*time.Second {
			t.Fatalf("first buffered tick at %v, want 10s", at.Sub(c.Start()))
		}
		if at, ok := c.Next(); !ok || at.Sub(c.Start()) != 40*time.Second {
			t.Fatalf("after %v: Next() = start+%v, %v; want start+40s", jump, at.Sub(c.Start()), ok)
		}
		step(t, c, 40*time.Second-jump)
		if at := recv(t, tk.Chan(), "ticker"); at.Sub(c.Start()) != 40*time.Second {
			t.Fatalf("tick at %v, want 40s", at.Sub(c.Start()))
		}
	}
}

func TestFiredTimerIsNotPending(t *testing.T) {
	c := vclock.New()
	timer := c.NewTimer(5 * time.Second)
	c.Advance(10 * time.Second)
	recv(t, timer.Chan(), "timer")
	noNext(t, c)

	now := c.NewTimer(0)
	recv(t, now.Chan(), "zero-duration timer")
	noNext(t, c)
}

// TestWaiterObservesFire: a goroutine parked on a timer channel sees the
// fire, stamped with the deadline, once AdvanceToNext reaches it.
func TestWaiterObservesFire(t *testing.T) {
	c := vclock.New()
	got := make(chan time.Time)
	go func() { got <- <-c.After(45 * time.Second) }()
	if err := c.BlockUntilContext(t.Context(), 1); err != nil {
		t.Fatal(err)
	}
	step(t, c, 45*time.Second)
	if at := recv(t, got, "waiter"); at.Sub(c.Start()) != 45*time.Second {
		t.Fatalf("waiter saw %v, want 45s", at.Sub(c.Start()))
	}
}

func TestSleep(t *testing.T) {
	c := vclock.New()
	woke := make(chan time.Time)
	go func() {
		c.Sleep(30 * time.Second)
		woke <- c.Now()
	}()
	if err := c.BlockUntilContext(t.Context(), 1); err != nil {
		t.Fatal(err)
	}
	step(t, c, 30*time.Second)
	if at := recv(t, woke, "sleeper"); at.Sub(c.Start()) != 30*time.Second {
		t.Fatalf("sleeper woke at %v, want 30s", at.Sub(c.Start()))
	}
}

func TestBlockUntilContext(t *testing.T) {
	c := vclock.New()
	short := func() context.Context {
		ctx, cancel := context.WithTimeout(context.Background(), absent)
		t.Cleanup(cancel)
		return ctx
	}
	if err := c.BlockUntilContext(t.Context(), 0); err != nil {
		t.Fatalf("BlockUntilContext(0) = %v", err)
	}
	done := make(chan error, 1)
	go func() { done <- c.BlockUntilContext(t.Context(), 3) }()

	c.NewTimer(time.Second)
	c.NewTicker(time.Second)
	if err := c.BlockUntilContext(short(), 3); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("BlockUntilContext(3) with 2 pending = %v, want a deadline error", err)
	}
	f := c.AfterFunc(time.Second, func() {})
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("BlockUntilContext(3) = %v", err)
		}
	case <-time.After(settle):
		t.Fatal("BlockUntilContext(3) did not return with 3 pending")
	}
	f.Stop()
	if err := c.BlockUntilContext(short(), 3); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("BlockUntilContext(3) after a Stop = %v, want a deadline error", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := c.BlockUntilContext(ctx, 10); !errors.Is(err, context.Canceled) {
		t.Fatalf("BlockUntilContext on a cancelled context = %v", err)
	}
}

// TestConcurrentUse is for -race: goroutines make, reset and stop timers
// and tickers while another advances. When all are stopped, nothing is
// pending, in vclock or in the clockwork clock under it.
func TestConcurrentUse(t *testing.T) {
	c := vclock.New()
	const workers, rounds = 8, 200
	var wg sync.WaitGroup
	stop := make(chan struct{})
	advanced := make(chan struct{})
	go func() {
		defer close(advanced)
		last := c.Now()
		for {
			select {
			case <-stop:
				return
			default:
			}
			if _, ok := c.AdvanceToNext(); !ok {
				c.Advance(time.Millisecond)
			}
			if now := c.Now(); now.Before(last) {
				t.Errorf("clock went back from %v to %v", last, now)
				return
			} else {
				last = now
			}
		}
	}()
	for w := range workers {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(w), 1))
			d := func() time.Duration { return time.Duration(1+rng.IntN(1000)) * time.Millisecond }
			for range rounds {
				timer := c.NewTimer(d())
				f := c.AfterFunc(d(), func() { _ = c.Now() })
				tk := c.NewTicker(d())
				timer.Reset(d())
				tk.Reset(d())
				f.Reset(d())
				c.Next()
				select {
				case <-timer.Chan():
				case <-tk.Chan():
				default:
				}
				timer.Stop()
				f.Stop()
				tk.Stop()
			}
		})
	}
	wg.Wait()
	close(stop)
	<-advanced
	noNext(t, c)
	ctx, cancel := context.WithTimeout(context.Background(), absent)
	defer cancel()
	if err := c.BlockUntilContext(ctx, 1); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("after every timer was stopped, the clockwork clock still has a waiter (%v)", err)
	}
}

// TestResetWhileAdvancing: a timer reset while another goroutine advances is
// tracked at the deadline clockwork really gives it, so AdvanceToNext lands
// on its fire. (The two used to read "now" at different moments: a rare
// interleaving left vclock's deadline short of clockwork's, and Next then
// pruned a live timer. The race is narrow, so this repeats it many times.)
func TestResetWhileAdvancing(t *testing.T) {
	c := vclock.New()
	timer := c.NewTimer(time.Hour)
	for i := range 30000 {
		var wg sync.WaitGroup
		wg.Go(func() { c.Advance(time.Millisecond) })
		wg.Go(func() { timer.Reset(5 * time.Millisecond) })
		wg.Wait()
		select {
		case <-timer.Chan(): // fired during the Advance: drop it
		default:
		}
		if _, ok := c.Next(); !ok {
			ctx, cancel := context.WithTimeout(context.Background(), absent)
			err := c.BlockUntilContext(ctx, 1)
			cancel()
			if err == nil {
				t.Fatalf("round %d: Next() has nothing pending, but clockwork still holds the timer", i)
			}
			continue
		}
		c.AdvanceToNext()
		select {
		case <-timer.Chan():
		default:
			t.Fatalf("round %d: AdvanceToNext reached the tracked deadline at %v and the timer did not fire", i, c.Elapsed())
		}
	}
}

func TestForCountsOneOwnersTimers(t *testing.T) {
	c := vclock.New()
	client, server := c.For("client"), c.For("server")
	ct := client.NewTimer(30 * time.Second)
	server.NewTimer(10 * time.Second)
	if got := c.Pending("client"); got != 1 {
		t.Fatalf("client pending = %d, want 1", got)
	}
	if d, _ := c.AdvanceToNext(); d != 10*time.Second {
		t.Fatalf("first step %v, want the server's 10s: views share one timeline", d)
	}
	if got := c.Pending("server"); got != 0 {
		t.Fatalf("server pending after its timer fired = %d, want 0", got)
	}
	if at, ok := c.NextFor("client"); !ok || at != c.Start().Add(30*time.Second) {
		t.Fatalf("client's next = %v, %v; want its own 30s timer", at, ok)
	}
	if _, ok := c.NextFor("server"); ok {
		t.Fatal("the server's fired timer is still listed as next")
	}
	ct.Stop()
	if got := c.Pending("client"); got != 0 {
		t.Fatalf("client pending after Stop = %d, want 0", got)
	}
	ct.Reset(time.Second)
	tk := client.NewTicker(5 * time.Second)
	if got := c.Pending("client"); got != 2 {
		t.Fatalf("client pending with a timer and a ticker = %d, want 2", got)
	}
	tk.Stop()
	if client.Now() != c.Now() {
		t.Fatal("a view must read the shared time")
	}
}
