package conform

import (
	"time"

	"github.com/wschaos/wschaos/chaos"
	"github.com/wschaos/wschaos/fakeserver"
	"github.com/wschaos/wschaos/profile"
)

// The scenarios of profile rules that only some profiles have: a
// handshake message, server pings, fatal close codes, a reset only after
// some uptime.

// clientMessage matches a message from the client that is not an answer
// to the server's ping.
func clientMessage(p *profile.Profile) func(fakeserver.Entry) bool {
	return func(e fakeserver.Entry) bool {
		return e.Msg != nil && !(p.Heartbeat.Mode == profile.HeartbeatServer && e.Msg.Type == p.Heartbeat.PongType)
	}
}

// uptimeRefusals is how many refusals come first in the reset-after-uptime
// scenario, so the failure count has grown before the short connection.
const uptimeRefusals = 3

var resetAfterUptimeScenario = Scenario{
	Name: "reset-after-uptime",
	Checks: "the failure count resets only after the profile's uptime: not after a connection that closed at once, " +
		"and after one that stayed up long enough",
	Applies: func(p *profile.Profile) bool { return p.ResetAfter > 0 },
	Faults: func(t *T) []chaos.Fault {
		p := t.Profile()
		first, _ := wait(p, 1)
		hold := p.ResetAfter + first // up long enough, with room to spare
		return []chaos.Fault{
			refuseFirst(uptimeRefusals),
			chaos.OnAttempts(chaos.AcceptThenClose(restart), uptimeRefusals+1),
			chaos.OnAttempts(chaos.CloseAfter(hold, profile.StatusGoingAway, "restart"), uptimeRefusals+2),
		}
	},
	Run: func(t *T) {
		p := t.Profile()
		k := uptimeRefusals
		t.Connect()
		before := t.followRefusals(k)
		t.AwaitCount("the short connection", before, 1, fakeserver.KindOpen, nil)
		t.Settle()
		short, _ := wait(p, k+1)
		t.AwaitCount("the connection that stays up", short, 2, fakeserver.KindOpen, nil)
		t.AwaitEvent("the connected state", 0, 2, isState(StateConnected)) // the client's timers are set
		t.StepToServer("the server's close, once the connection has been up long enough")
		t.AwaitCount("its close after the uptime", p.ResetAfter, 2, fakeserver.KindClose, nil)
		t.Settle()
		first, _ := wait(p, 1)
		t.AwaitCount("the reconnect after it", first, 3, fakeserver.KindOpen, nil)
		ws := t.judge(t.Entries(), false)
		if len(ws) >= k+2 {
			checkUptimeRatios(t, ws[0].Waited, ws[k].Waited, ws[k+1].Waited)
		}
		t.CheckWaits()
	},
}

// checkUptimeRatios compares the waits after the first failure (w1), after
// the short connection (ws) and after the long one (wl) by their ratios:
// where the base is drawn once per client the windows overlap, but the
// ratio of two waits of one client is the schedule's own.
func checkUptimeRatios(t *T, w1, ws, wl time.Duration) {
	p := t.Profile()
	k := uptimeRefusals
	lo1, _ := p.Backoff.Window(1, 0)
	loK, _ := p.Backoff.Window(k+1, 0)
	if lo1.Min <= 0 || w1 <= 0 {
		return
	}
	grown := float64(loK.Min) / float64(lo1.Min)
	if grown < 1.2 {
		return // the schedule hardly grows: the windows alone judge it
	}
	mid := (1 + grown) / 2
	if r := float64(ws) / float64(w1); r < mid {
		t.Errorf("the wait after a connection that closed at once was %v, %.2f× the first (%v); the profile resets the count only after %v up, so it waits %.2f× the first",
			round(ws), r, round(w1), p.ResetAfter, grown)
	}
	if r := float64(wl) / float64(w1); r > mid {
		t.Errorf("the wait after a connection that stayed up %v was %v, %.2f× the first (%v); the count had reset, so it waits the first wait again",
			p.ResetAfter, round(wl), r, round(w1))
	}
}

// awaitIdle, for an in-process subject, waits until client and server are
// idle: nothing more can happen without a step of the clock.
func (t *T) awaitIdle() {
	if !t.quiet {
		return
	}
	ctx, cancel := t.waitFor(patience)
	defer cancel()
	<-ctx.Done()
}

// StepToServer, in virtual time, waits until the earliest pending timer
// is the server's (a held-back frame, a scheduled close, a ping), not the
// client's, and moves the clock exactly to it: the scenario's next effect
// is the server's. In real time it does nothing.
func (t *T) StepToServer(what string) time.Duration {
	if !t.virtual {
		return 0
	}
	t.AwaitAny(what+" (the server's timer, before any of the client's)", func() bool {
		next, ok := t.vclock.Next()
		mine, armed := t.vclock.NextFor(owner)
		return ok && (!armed || next.Before(mine))
	})
	d, _ := t.vclock.AdvanceToNext()
	return d
}
