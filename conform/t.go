package conform

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/jonboulle/clockwork"
	"github.com/wschaos/wschaos/fakeserver"
	"github.com/wschaos/wschaos/profile"
	"github.com/wschaos/wschaos/timeline"
	"github.com/wschaos/wschaos/transcript"
	"github.com/wschaos/wschaos/vclock"
)

const (
	// patience bounds every wait for an effect in virtual time: loopback
	// I/O and a client's reaction, never a profile's timer. A wait ends
	// sooner once client and server are idle for good (waitFor).
	patience = 5 * time.Second
	// slack is added to every real-time wait on top of the tolerance: it
	// only decides how long to wait before saying "never", never whether a
	// wait was right.
	slack = 2 * time.Second
	// closePatience bounds the subject's Close.
	closePatience = 5 * time.Second
	// pollEvery is how often Step looks for the client's re-armed timer.
	pollEvery = time.Millisecond
)

// T drives one scenario: what the application does, and waits for what the
// server sees and the client reports. Its methods stop the scenario on a
// failure that leaves nothing more to check (Fatalf).
type T struct {
	ctx     context.Context
	p       *profile.Profile // scaled
	scale   float64          // the profile's, applied already
	tol     Tolerance
	cal     *Calibration // the adapter's timing, when it calibrated
	seed    uint64
	virtual bool
	vclock  *vclock.Clock // virtual time only
	clock   clockwork.Clock
	srv     *fakeserver.Server
	subj    Subject
	closed  bool
	// quiet: server, client and clock are all in this process, so a wait
	// may end as soon as the world is idle for good (waitFor).
	quiet bool
	port  int // the server's listen port
	// adapterErr: the subject's adapter could not start or broke the protocol.
	adapterErr string
	t0         time.Time // the clock when the server started

	mu       sync.Mutex
	events   []Event
	commands []Command     // what the scenario asked the client, with its replies
	changed  chan struct{} // closed and replaced on every event (and poke)
	failures []string
	settled  int // failures Settle has seen
	hooks    []hook
	skipped  string // why the scenario stopped without a verdict (Skipf)
	unmade   bool   // the factory failed: there was no subject
	// connected: Connect was called, so there is a client to close at the
	// end (a scenario skipped before it has none).
	connected bool

	// A scenario file's play: compare outputs exactly (exact), or take
	// them as they come to rewrite the file (rewrite); steps is what each
	// command expected and saw; idleSeen says a wait ended on an idle
	// world.
	exact, rewrite bool
	steps          []Step
	idleSeen       bool
}

// Step is one command of a scenario file: what the file expects it to
// bring and what it brought, for the report to show side by side.
type Step struct {
	Line    int      `json:"line"`
	Command string   `json:"command"`
	Want    []string `json:"want,omitempty"`
	Got     []string `json:"got,omitempty"`
}

// hook is an application reaction: it runs inside the client's event
// callback, the way an application's own handler would.
type hook struct {
	match func(Event) bool
	fn    func()
	done  bool
}

// OnEvent runs fn, once, inside the report of the first event that
// matches: for an application that acts from its handler (sends on open).
// fn must not wait for another event.
func (t *T) OnEvent(match func(Event) bool, fn func()) {
	t.mu.Lock()
	t.hooks = append(t.hooks, hook{match: match, fn: fn})
	t.mu.Unlock()
}

// stop unwinds a scenario after Fatalf.
type stop struct{}

// Profile is the contract, scaled.
func (t *T) Profile() *profile.Profile { return t.p }

// Tolerance is how far real-time waits may stray; zero in virtual time.
func (t *T) Tolerance() Tolerance { return t.tol }

// Virtual reports whether the scenario runs on a virtual clock.
func (t *T) Virtual() bool { return t.virtual }

// Server is the fake server the subject talks to.
func (t *T) Server() *fakeserver.Server { return t.srv }

// Errorf records a failure and lets the scenario go on.
func (t *T) Errorf(format string, args ...any) {
	t.mu.Lock()
	t.failures = append(t.failures, fmt.Sprintf(format, args...))
	t.mu.Unlock()
}

// Skipf ends the scenario without a verdict: it cannot run on this
// subject (a file that needs a capability the client lacks).
func (t *T) Skipf(format string, args ...any) {
	t.mu.Lock()
	t.skipped = fmt.Sprintf(format, args...)
	t.mu.Unlock()
	panic(stop{})
}

// Fatalf records a failure and ends the scenario.
func (t *T) Fatalf(format string, args ...any) {
	t.Errorf(format, args...)
	panic(stop{})
}

func (t *T) emit(e Event) {
	t.mu.Lock()
	defer t.mu.Unlock()
	e.At = t.clock.Since(t.t0)
	t.events = append(t.events, e)
	var run []func()
	for i := range t.hooks {
		if h := &t.hooks[i]; !h.done && h.match(e) {
			h.done = true
			run = append(run, h.fn)
		}
	}
	t.mu.Unlock()
	for _, fn := range run {
		fn()
	}
	t.mu.Lock()
	close(t.changed)
	t.changed = make(chan struct{})
}

// poke wakes whoever waits for a change (awaitChange) without an event:
// a line of the player's own, which a file's output holds too.
func (t *T) poke() {
	t.mu.Lock()
	defer t.mu.Unlock()
	close(t.changed)
	t.changed = make(chan struct{})
}

// Connect starts the subject on the server's URL.
func (t *T) Connect() {
	t.connected = true
	if err := t.command("connect "+t.srv.URL, func() error { return t.subj.Connect(t.ctx, t.srv.URL) }); err != nil {
		t.Fatalf("connect: the client refused to start: %v", err)
	}
}

// Send sends a message through the subject and returns its verdict.
func (t *T) Send(typ string, payload any) error {
	data, err := json.Marshal(payload)
	if err != nil {
		panic(fmt.Sprintf("conform: payload of %s: %v", typ, err))
	}
	return t.command(sendText(typ, data, ""), func() error { return t.subj.Send(t.ctx, typ, data) })
}

// whenSender is a subject that can send from its client's own handler of
// a state: an adapter, which runs in another process.
type whenSender interface {
	SendWhen(ctx context.Context, state, typ string, payload json.RawMessage) error
}

// SendOnConnected sends a message from the client's connected handler, as
// an application does from its open handler, and yields the send's
// verdict. Such a send is what overtakes a queue flushed too late.
func (t *T) SendOnConnected(d time.Duration, typ string, payload any) <-chan error {
	data, err := json.Marshal(payload)
	if err != nil {
		panic(fmt.Sprintf("conform: payload of %s: %v", typ, err))
	}
	out := make(chan error, 1)
	if ws, ok := t.subj.(whenSender); ok {
		ctx, cancel := context.WithTimeout(t.ctx, t.budget(d))
		go func() {
			defer cancel()
			out <- t.command(sendText(typ, data, StateConnected), func() error { return ws.SendWhen(ctx, StateConnected, typ, data) })
		}()
		return out
	}
	t.OnEvent(isState(StateConnected), func() {
		out <- t.command(sendText(typ, data, StateConnected), func() error { return t.subj.Send(t.ctx, typ, data) })
	})
	return out
}

// Close closes the subject on purpose.
func (t *T) Close() {
	ctx, cancel := context.WithTimeout(t.ctx, closePatience)
	defer cancel()
	err := t.command("close", func() error { return t.subj.Close(ctx) })
	t.closed = true
	if err != nil {
		t.Fatalf("close: %v", err)
	}
}

// budget turns a wait the profile allows into how long to wait for it in
// real time; in virtual time every wait is for an effect only.
func (t *T) budget(d time.Duration) time.Duration {
	if t.virtual {
		return patience
	}
	_, hi := t.tol.widen(0, d)
	return hi + slack
}

// AwaitEntries waits until pred holds for the transcript, allowing d of
// profile time, and returns the entries. what names the wait in a failure.
func (t *T) AwaitEntries(what string, d time.Duration, pred func([]transcript.Entry) bool) []transcript.Entry {
	return t.awaitEntries(what, d, "", pred)
}

// awaitEntries is AwaitEntries with the thing awaited named for the
// failure ("dial": still no dial ... after #3 ended).
func (t *T) awaitEntries(what string, d time.Duration, thing string, pred func([]transcript.Entry) bool) []transcript.Entry {
	began := t.clock.Now()
	ctx, cancel := t.waitFor(t.budget(d))
	defer cancel()
	if err := t.srv.Transcript().Wait(ctx, pred); err != nil && !pred(t.srv.Transcript().Entries()) {
		t.Fatalf("%s: %s", what, t.overdue(d, ctx, t.stillNo(thing, began)))
	}
	return t.srv.Transcript().Entries()
}

// overdue says which way a wait went wrong: it is always too long, never
// too short, since a wait that fails has seen nothing. It names the
// profile's allowance (scaled, and as widened by the tolerance), and what
// is still missing how long after what: "waited longer than the profile
// allows (up to 625ms, checked up to 1.4s): still no dial 3.4s after #7
// ended".
func (t *T) overdue(d time.Duration, ctx context.Context, missing string) string {
	switch {
	case t.virtual && whyEnded(ctx) != "":
		return "never came" + whyEnded(ctx)
	case t.virtual:
		return fmt.Sprintf("never came: not seen within %v of real time, the patience for an effect in virtual time", patience)
	case d == 0:
		return fmt.Sprintf("%s: it takes no time in the profile, and the harness gave it %v", missing, round(t.budget(d)))
	}
	_, hi := t.tol.widen(0, d)
	return fmt.Sprintf("waited longer than the profile allows (up to %v, checked up to %v): %s", round(d), round(hi), missing)
}

// kindNouns name what an AwaitCount waits for, in a failure: "still no
// refused attempt", not "still no refuse".
var kindNouns = map[transcript.Kind]string{
	transcript.KindRefuse: "refused attempt",
	transcript.KindRecv:   "message from the client",
	transcript.KindSend:   "message from the server",
	transcript.KindStall:  "stalled attempt",
	transcript.KindReset:  "reset attempt",
}

// stillNo says what a wait still misses, and since when: an attempt's
// entry since the last attempt ended (the wait a retry is judged by), else
// since the wait began.
func (t *T) stillNo(thing string, began time.Time) string {
	if thing == "" {
		return fmt.Sprintf("still not seen %v after the wait for it began", round(t.clock.Since(began)))
	}
	k := transcript.Kind(thing)
	if noun, ok := kindNouns[k]; ok {
		thing = noun
	}
	switch k {
	case transcript.KindDial, transcript.KindRefuse, transcript.KindOpen, transcript.KindReset, transcript.KindStall:
		if n, at, ok := t.lastEnded(); ok {
			return fmt.Sprintf("still no %s %v after #%d ended", thing, round(t.clock.Since(t.t0)-at), n)
		}
	}
	return fmt.Sprintf("still no %s %v after the wait for it began", thing, round(t.clock.Since(began)))
}

// lastEnded is the last attempt whose end the server recorded, and when.
func (t *T) lastEnded() (attempt int, at time.Duration, ok bool) {
	for _, e := range t.Entries() {
		if endsAttempt(e.Kind) && e.Kind != transcript.KindStall || e.Kind == transcript.KindNote && e.Note == stallGivenUp {
			attempt, at, ok = e.Attempt, e.At, true
		}
	}
	return attempt, at, ok
}

// AwaitCount waits until the transcript holds n entries of kind k on
// which keep (if not nil) holds, and returns them.
func (t *T) AwaitCount(what string, d time.Duration, n int, k transcript.Kind, keep func(transcript.Entry) bool) []transcript.Entry {
	match := func(es []transcript.Entry) []transcript.Entry {
		var out []transcript.Entry
		for _, e := range es {
			if e.Kind == k && (keep == nil || keep(e)) {
				out = append(out, e)
			}
		}
		return out
	}
	es := t.awaitEntries(what, d, string(k), func(es []transcript.Entry) bool { return len(match(es)) >= n })
	return match(es)
}

// Entries is the transcript so far.
func (t *T) Entries() []transcript.Entry { return t.srv.Transcript().Entries() }

// Events is what the client has reported so far.
func (t *T) Events() []Event {
	t.mu.Lock()
	defer t.mu.Unlock()
	return append([]Event(nil), t.events...)
}

// AwaitEvent waits for the n-th event (from 1) on which pred holds,
// allowing d of profile time, and returns it.
// ReportedWithin returns the client's n-th event on which pred holds, if
// it comes within the tolerance's late margin (real time) or before the
// world is idle (virtual time); ok is false if it does not. It never fails
// the scenario: for checks that want to read the client's own word when
// it gives one.
func (t *T) ReportedWithin(n int, pred func(Event) bool) (Event, bool) {
	ctx, cancel := t.waitFor(t.budget(0))
	defer cancel()
	for {
		t.mu.Lock()
		seen := 0
		for _, e := range t.events {
			if pred(e) {
				if seen++; seen == n {
					t.mu.Unlock()
					return e, true
				}
			}
		}
		changed := t.changed
		t.mu.Unlock()
		select {
		case <-changed:
		case <-ctx.Done():
			return Event{}, false
		}
	}
}

func (t *T) AwaitEvent(what string, d time.Duration, n int, pred func(Event) bool) Event {
	began := t.clock.Now()
	ctx, cancel := t.waitFor(t.budget(d))
	defer cancel()
	for ended := false; ; ended = ctx.Err() != nil {
		t.mu.Lock()
		seen := 0
		for _, e := range t.events {
			if pred(e) {
				if seen++; seen == n {
					t.mu.Unlock()
					return e
				}
			}
		}
		changed := t.changed
		t.mu.Unlock()
		switch {
		case ended && t.ctx.Err() != nil:
			t.Fatalf("%s: %v", what, t.ctx.Err())
		case ended:
			t.Fatalf("%s: %s", what, t.overdue(d, ctx, fmt.Sprintf("the client still had not reported it %v after the wait for it began", round(t.clock.Since(began)))))
		}
		select {
		case <-changed:
		case <-ctx.Done(): // look once more, then fail
		}
	}
}

// isState matches state events of the given states.
func isState(states ...string) func(Event) bool {
	return func(e Event) bool {
		if e.Kind != EventState {
			return false
		}
		for _, s := range states {
			if e.State == s {
				return true
			}
		}
		return false
	}
}

// Step, in virtual time, waits for the client to arm a timer and moves
// the clock exactly to its earliest deadline. In real time time moves on
// its own and Step does nothing.
func (t *T) Step() time.Duration {
	return t.StepOr(fmt.Sprintf("the client armed no timer within %v of real time (a retry, a heartbeat?)", patience))
}

// StepOr is Step with the failure to report, in the scenario's words, when
// the client arms no timer.
func (t *T) StepOr(failure string) time.Duration {
	if !t.virtual {
		return 0
	}
	ctx, cancel := t.waitFor(patience)
	defer cancel()
	tick := time.NewTicker(pollEvery)
	defer tick.Stop()
	for t.vclock.Pending(owner) == 0 {
		if ctx.Err() != nil {
			t.Fatalf("%s%s", failure, whyEnded(ctx))
		}
		select {
		case <-tick.C:
		case <-ctx.Done(): // look once more, then fail
		}
	}
	next, _ := t.vclock.NextFor(owner)
	d := next.Sub(t.vclock.Now())
	t.vclock.Advance(d)
	return d
}

// Settle follows the client's next failure: in virtual time it waits for
// the client to report it (reconnecting or gave-up, announced once its
// retry timer is armed) and, if it will retry, steps to the retry. In real
// time it does nothing: the retry comes on its own.
func (t *T) Settle() { t.SettleOn("") }

// SettleOn is Settle with the failure it expects named, for the message
// if it never comes.
func (t *T) SettleOn(what string) {
	if !t.virtual {
		return
	}
	t.settled++
	if what == "" {
		what = fmt.Sprintf("failure %d", t.settled)
	}
	e := t.AwaitEvent(what, 0, t.settled, isState(StateReconnecting, StateGaveUp))
	if e.State == StateReconnecting {
		t.stepToRetry()
	}
}

// gaveUp reports whether the client has said it gave up (whatever it said
// after: an adapter may report its own disconnected state next).
func (t *T) gaveUp() bool { return count(t.Events(), isState(StateGaveUp)) > 0 }

// StepToRetry is Settle for a failure the scenario has already seen the
// client report (it acted in between): it steps to the retry.
func (t *T) StepToRetry() {
	t.settled++
	t.stepToRetry()
}

// stepToRetry steps to the client's retry once the server has recorded how
// the last attempt ended: a client that drops its socket right after its
// close frame may say "reconnecting" before the server has read it, and an
// end stamped after the step would shorten the wait the judge sees.
func (t *T) stepToRetry() {
	var ended int // the attempt whose end was seen
	t.AwaitEntries("the server's record of how the last attempt ended", 0, func(es []transcript.Entry) bool {
		last := 0
		for _, e := range es {
			if e.Kind == transcript.KindDial {
				last = max(last, e.Attempt)
			}
		}
		ends := map[int]bool{}
		for _, e := range es {
			if endsAttempt(e.Kind) {
				ends[e.Attempt] = true
			}
		}
		if t.virtual {
			// The failure settled now ended the settled-th attempt to
			// end, not always the last one dialed: a client whose wait is
			// 0 (SignalR's first) has dialed its retry, or made all of
			// them, at the same instant. The reference client and its
			// twins report each failure once.
			var order []int
			for a := 1; a <= last; a++ {
				if ends[a] {
					order = append(order, a)
				}
			}
			if len(order) < t.settled {
				return false
			}
			ended = order[t.settled-1]
			return true
		}
		for _, e := range es {
			if e.Attempt == last && endsAttempt(e.Kind) {
				ended = last
				return true
			}
		}
		return false
	})
	if !t.virtual {
		return // the retry comes on its own
	}
	// A client that retries at once arms no timer: its retry is no step
	// away, and the judge will say how long it waited.
	redialed := func() bool {
		for _, e := range t.Entries() {
			if e.Kind == transcript.KindDial && e.Attempt > ended {
				return true
			}
		}
		return false
	}
	ctx, cancel := t.waitFor(patience)
	defer cancel()
	for !redialed() && t.vclock.Pending(owner) == 0 {
		if ctx.Err() != nil {
			t.Fatalf("after attempt %d ended the client neither armed a retry timer nor dialed again%s", ended, whyEnded(ctx))
		}
		quietReal(ctx, pollEvery)
	}
	if !redialed() {
		t.Step()
	}
}

// endsAttempt reports whether an entry of kind k ends an attempt, as far
// as the server can tell (a stalled one ends on the client's side).
func endsAttempt(k transcript.Kind) bool {
	switch k {
	case transcript.KindClose, transcript.KindRefuse, transcript.KindReset, transcript.KindStall:
		return true
	}
	return false
}

// Quiet lets d of profile time pass with nothing asked of the client, for
// checks that something does not happen: in virtual time it moves the
// clock by d and gives the client a moment to act on it.
func (t *T) Quiet(d time.Duration) {
	if t.virtual {
		t.vclock.Advance(d)
		quietReal(t.ctx, 50*time.Millisecond)
		return
	}
	_, hi := t.tol.widen(0, d)
	quietReal(t.ctx, hi)
}

func quietReal(ctx context.Context, d time.Duration) {
	tm := time.NewTimer(d)
	defer tm.Stop()
	select {
	case <-tm.C:
	case <-ctx.Done():
	}
}

// judge reads the transcript's reconnect waits against the profile's
// windows, widened by the tolerance. With report, each wrong one is a
// failure.
func (t *T) judge(es []transcript.Entry, report bool) []Wait {
	j := timeline.NewJudge(t.p)
	var out []Wait
	for _, e := range es {
		v, ok := j.See(e)
		if !ok {
			continue
		}
		w := Wait{Attempt: v.Attempt, Failure: v.Failure, From: e.At - v.Waited, Waited: v.Waited,
			Min: v.Min, Max: v.Max, GaveUp: v.GaveUp, Note: v.Unjudged}
		w.Lo, w.Hi = t.tol.widen(v.Min, v.Max)
		switch {
		case v.Unjudged != "":
			w.OK = true
		case v.Fatal != 0:
			w.GaveUp = true
			w.Note = fmt.Sprintf("the server closed with %d, after which the profile never reconnects", v.Fatal)
		case v.GaveUp:
			w.Note = fmt.Sprintf("the profile gives up after %d failures in a row", v.Failure-1)
		default:
			w.OK = v.Waited >= w.Lo && v.Waited <= w.Hi
		}
		out = append(out, w)
		if report && !w.OK {
			t.Errorf("%s", w.describe())
		}
	}
	return out
}

// CheckWaits fails the scenario for every reconnect wait out of its window.
func (t *T) CheckWaits() { t.judge(t.Entries(), true) }

func (w Wait) describe() string {
	if w.GaveUp {
		return fmt.Sprintf("reconnect #%d after %v: the client should have given up (%s)", w.Attempt, round(w.Waited), w.Note)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "reconnect #%d waited %v after failure %d; the profile waits %v", w.Attempt, round(w.Waited), w.Failure, window(w.Min, w.Max))
	if w.Lo != w.Min || w.Hi != w.Max {
		fmt.Fprintf(&b, " (checked within %v)", window(w.Lo, w.Hi))
	}
	// Which way it missed: too soon (a redial at once, a cap too low)
	// and too late (a growth too steep, a retry held back) are different
	// bugs.
	if w.Waited < w.Lo {
		b.WriteString(": it came too soon")
	} else if w.Waited > w.Hi {
		b.WriteString(": it waited too long")
	}
	return b.String()
}

func window(lo, hi time.Duration) string {
	if lo == hi {
		return round(lo).String()
	}
	return fmt.Sprintf("[%v, %v]", round(lo), round(hi))
}

func round(d time.Duration) time.Duration {
	if d > time.Second {
		return d.Round(time.Millisecond)
	}
	return d.Round(100 * time.Microsecond)
}
