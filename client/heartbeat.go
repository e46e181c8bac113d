package client

import (
	"fmt"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/wschaos/wschaos/profile"
)

// heartbeat is the liveness state of one socket. It lives and dies with
// serve, so nothing of it carries into the next connection.
//
// It keeps deadlines, not timers: when the next ping is due and when the
// link is dead. serve arms its one timer for the earlier of the two, so
// every dead rule (next-ping, timeout, silence) and every mode (the client
// pings, the server pings, ping frames) runs on a single pending timer.
type heartbeat struct {
	p           *profile.Profile
	noCheck     bool  // flaw NoPongCheck: no deadline for an answer
	outstanding bool  // a ping is unanswered
	seq         int64 // the id of that ping
	// nextPing is when the next ping is due, deadAt when the link is dead;
	// the zero time for none.
	nextPing, deadAt time.Time
	// pongTimer exists only under flaw PongTimeout.
	pongTimer clockwork.Timer
}

func (c *Client) newHeartbeat() *heartbeat {
	if c.flaws.StaleHeartbeat && c.staleHB != nil {
		return c.staleHB
	}
	hb := &heartbeat{p: c.p, noCheck: c.flaws.NoPongCheck}
	if c.flaws.PongTimeout > 0 {
		hb.pongTimer = c.clock.NewTimer(c.flaws.PongTimeout)
		stopTimer(hb.pongTimer)
	}
	return hb
}

// pings reports whether the client sends pings: an application message or
// a ping frame, every Interval.
func (h *heartbeat) pings() bool {
	cfg := h.p.Heartbeat
	return (cfg.Mode == profile.HeartbeatClient || cfg.Mode == profile.HeartbeatFrames) && cfg.Interval > 0
}

// start sets the deadlines of a socket connected at now, and reports
// whether a ping is due at once (Heartbeat.OnOpen).
func (h *heartbeat) start(now time.Time) (pingNow bool) {
	cfg := h.p.Heartbeat
	h.nextPing, h.deadAt = time.Time{}, time.Time{}
	switch {
	case h.pings() && h.outstanding:
		// A ping carried over (flaw StaleHeartbeat) is awaited as if it
		// had just been sent, and suppresses the ping on open.
		h.sent(now)
	case h.pings() && cfg.OnOpen:
		pingNow = true
	case h.pings():
		h.nextPing = now.Add(cfg.Interval)
	case cfg.Mode == profile.HeartbeatServer:
		h.serverPinged(now)
	}
	h.heard(now)
	return pingNow
}

// sent records a ping sent at now, and when it must be answered.
func (h *heartbeat) sent(now time.Time) {
	cfg := h.p.Heartbeat
	h.outstanding = true
	switch cfg.Dead {
	case profile.DeadTimeout:
		if h.noCheck {
			h.nextPing = now.Add(cfg.Interval)
			return
		}
		// The next ping goes one Interval after the answer (phoenix).
		h.nextPing, h.deadAt = time.Time{}, now.Add(cfg.Timeout)
	case profile.DeadSilence:
		h.nextPing = now.Add(cfg.Interval) // answers are not awaited
	default: // next-ping: still unanswered when the next is due is dead
		h.nextPing = now.Add(cfg.Interval)
		if !h.noCheck {
			h.deadAt = h.nextPing
		}
	}
}

// answered records the answer to the outstanding ping, at now.
func (h *heartbeat) answered(now time.Time) {
	if !h.outstanding {
		return
	}
	h.outstanding = false
	if h.pongTimer != nil {
		stopTimer(h.pongTimer)
	}
	switch h.p.Heartbeat.Dead {
	case profile.DeadTimeout:
		h.deadAt, h.nextPing = time.Time{}, now.Add(h.p.Heartbeat.Interval)
	case profile.DeadNextPing, "":
		h.deadAt = time.Time{}
	}
}

// heard records a frame from the server at now: under the silence rule it
// moves the deadline.
func (h *heartbeat) heard(now time.Time) {
	if cfg := h.p.Heartbeat; cfg.Dead == profile.DeadSilence && cfg.Enabled() {
		h.deadAt = now.Add(cfg.Timeout)
	}
}

// serverPinged records a ping from the server at now (mode server): under
// the timeout rule the next one is due within Interval + Timeout, under
// next-ping before a second interval passes.
func (h *heartbeat) serverPinged(now time.Time) {
	cfg := h.p.Heartbeat
	switch cfg.Dead {
	case profile.DeadTimeout:
		h.deadAt = now.Add(cfg.Interval + cfg.Timeout)
	case profile.DeadNextPing:
		h.deadAt = now.Add(2 * cfg.Interval)
	}
}

// isPong reports whether m answers the outstanding application ping.
func (h *heartbeat) isPong(m profile.Message) bool {
	return h.outstanding && h.p.Heartbeat.Mode == profile.HeartbeatClient && h.p.IsPong(m, h.seq)
}

// isServerPing reports whether m is the server's ping (mode server).
func (h *heartbeat) isServerPing(m profile.Message) bool {
	cfg := h.p.Heartbeat
	return cfg.Mode == profile.HeartbeatServer && m.Kind == profile.Event && m.Type == cfg.PingType
}

// due is the earliest deadline, if any.
func (h *heartbeat) due() (time.Time, bool) {
	switch {
	case h.deadAt.IsZero() && h.nextPing.IsZero():
		return time.Time{}, false
	case h.deadAt.IsZero():
		return h.nextPing, true
	case h.nextPing.IsZero() || h.deadAt.Before(h.nextPing):
		return h.deadAt, true
	}
	return h.nextPing, true
}

// hbAction is what a fired heartbeat timer calls for.
type hbAction int

const (
	hbWait hbAction = iota // nothing is due yet: re-arm
	hbPing
	hbDead
)

// fired says what is due at now. The link's death comes first: under
// next-ping the deadline and the next ping fall together.
func (h *heartbeat) fired(now time.Time) hbAction {
	switch {
	case !h.deadAt.IsZero() && !now.Before(h.deadAt):
		return hbDead
	case !h.nextPing.IsZero() && !now.Before(h.nextPing):
		return hbPing
	}
	return hbWait
}

// why says what the dead rule saw, for the error behind the close.
func (h *heartbeat) why() error {
	cfg := h.p.Heartbeat
	switch {
	case cfg.Dead == profile.DeadSilence:
		return fmt.Errorf("nothing from the server for %v (heartbeat rule silence)", cfg.Timeout)
	case cfg.Mode == profile.HeartbeatServer:
		return fmt.Errorf("no ping from the server in time (heartbeat rule %s)", cfg.Dead)
	case cfg.Dead == profile.DeadTimeout:
		return fmt.Errorf("no answer to the last ping within %v (heartbeat rule timeout)", cfg.Timeout)
	}
	return fmt.Errorf("no answer to the last ping within the heartbeat interval %v", cfg.Interval)
}

// deadline fires when a flawed pong timeout runs out; nil otherwise.
func (h *heartbeat) deadline() <-chan time.Time {
	if h.pongTimer == nil {
		return nil
	}
	return h.pongTimer.Chan()
}

func (h *heartbeat) stop() {
	if h.pongTimer != nil {
		stopTimer(h.pongTimer)
	}
}
