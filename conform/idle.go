package conform

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/wschaos/wschaos/internal/quiet"
)

// errIdle ends a wait, in a world all in this process, that is idle for
// good: the effect it waits for can no longer come.
var errIdle = errors.New("the client and the server were idle: nothing more could happen without a step of the clock")

// waitFor is the context of one wait for an effect: it ends after limit
// of real time, with the scenario, or, when client, server and clock are
// all in this process (T.quiet), once the world is idle for good; then
// context.Cause is errIdle. An adapter's client lives in another process
// on the real clock, where no such verdict can be made.
func (t *T) waitFor(limit time.Duration) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithTimeout(t.ctx, limit)
	if !t.quiet {
		return ctx, cancel
	}
	ctx, cancelIdle := context.WithCancelCause(ctx)
	go func() {
		d := quiet.NewDetector(t.port)
		// Idle observes at most once a gap, counted from the end of the
		// observation before: a ticker of one gap would find the gap not
		// yet over at every other tick, and take two gaps an observation.
		tick := time.NewTicker(quiet.Gap / idleTicks)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
				if d.Idle(t.progress()) {
					cancelIdle(errIdle)
					return
				}
			}
		}
	}()
	return ctx, func() { cancelIdle(nil); cancel() }
}

// idleTicks is how many times a gap waitFor asks its detector: an
// observation is then at most a fifth of a gap late.
const idleTicks = 5

// A watch is the world's record at one moment: what the client had
// reported and what the server had recorded. Take it before looking at
// what a wait waits for, then wait for a change from it (awaitChange), so a
// change between the look and the wait is not missed.
type watch struct {
	events  <-chan struct{} // closed on the client's next event or the player's next line
	entries int             // the transcript's length
}

func (t *T) watch() watch {
	t.mu.Lock()
	defer t.mu.Unlock()
	return watch{events: t.changed, entries: t.srv.Transcript().Len()}
}

// awaitChange waits, without polling, until the client reports, the
// player notes or the server records something after w, ctx ends, or d
// passes: a wait that rechecked every millisecond, in virtual time or on
// the real clock, would be a goroutine in flight to every idle
// observation, its own world's and every other world's in the process.
func (t *T) awaitChange(ctx context.Context, w watch, d time.Duration) {
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	grew := make(chan struct{})
	go func() {
		if t.srv.Transcript().WaitBeyond(ctx, w.entries) == nil {
			close(grew)
		}
	}()
	select {
	case <-w.events:
	case <-grew:
	case <-ctx.Done():
	}
}

// inProcess reports whether a subject's whole world can be observed from
// here: virtual time, and a client in this process, not an adapter's.
func inProcess(virtual bool, subj Subject) bool {
	_, isAdapter := subj.(*process)
	return virtual && !isAdapter
}

// whyEnded turns the end of a wait's context into the end of its failure
// message: "" at its bound, the idle verdict otherwise.
func whyEnded(ctx context.Context) string {
	if errors.Is(context.Cause(ctx), errIdle) {
		return " (" + errIdle.Error() + ")"
	}
	return ""
}

// progress is everything the world has done that a wait may watch: any
// change means it is not idle.
func (t *T) progress() string {
	t.mu.Lock()
	events := len(t.events)
	t.mu.Unlock()
	next, _ := t.vclock.Next()
	return fmt.Sprint(events, t.srv.Transcript().Len(), t.vclock.Pending(owner), next.UnixNano())
}
