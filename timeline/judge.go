// Package timeline reads a fake server's transcript as one client's story:
// each reconnect, how long the client waited before it, and whether the
// profile allows that wait.
package timeline

import (
	"fmt"
	"time"

	"github.com/wschaos/wschaos/profile"
	"github.com/wschaos/wschaos/transcript"
)

// Verdict is the judgement of one reconnect.
type Verdict struct {
	// Client names the client the reconnect is of, when Clients judges
	// more than one ("" for a lone client).
	Client  string
	Attempt int           // the attempt that reconnected
	Failure int           // the failure count it follows (1 after the first)
	Waited  time.Duration // from the end of the previous attempt to this dial
	Min     time.Duration // the profile's window, widened by the tolerance
	Max     time.Duration
	// OK: the wait is inside the window. GaveUp: the profile had given up,
	// so there should have been no dial at all.
	OK, GaveUp bool
	// Fatal is the close code, one of the profile's fatal ones, after which
	// the client dialed although it must never reconnect (0 if none).
	Fatal profile.StatusCode
	// Unjudged says why a reconnect could not be judged ("" if it was).
	Unjudged string
}

// displayPrecision is how finely String shows a duration: a drawn
// window's top is a nanosecond under its bound ([1s, 5s) ends at
// 4.999999999s), which reads as noise; the judgement uses the exact value.
const displayPrecision = time.Millisecond

// String says the verdict in a line, durations rounded to the
// millisecond.
func (v Verdict) String() string {
	who := ""
	if v.Client != "" {
		who = v.Client + ": "
	}
	waited, lo, hi := round(v.Waited), round(v.Min), round(v.Max)
	switch {
	case v.Unjudged != "":
		return fmt.Sprintf("%sreconnect #%d: not judged: %s", who, v.Attempt, v.Unjudged)
	case v.Fatal != 0:
		return fmt.Sprintf("%sreconnect #%d after %v: WRONG: the profile never reconnects after close code %d", who, v.Attempt, waited, v.Fatal)
	case v.GaveUp:
		return fmt.Sprintf("%sreconnect #%d after %v: WRONG: the profile gives up after %d failures", who, v.Attempt, waited, v.Failure-1)
	case v.OK:
		return fmt.Sprintf("%sreconnect #%d after %v (failure %d): ok, within [%v, %v]", who, v.Attempt, waited, v.Failure, lo, hi)
	}
	return fmt.Sprintf("%sreconnect #%d after %v (failure %d): WRONG: the profile waits [%v, %v]", who, v.Attempt, waited, v.Failure, lo, hi)
}

// Wrong reports whether the verdict is against the client: judged, and
// outside the profile.
func (v Verdict) Wrong() bool { return v.Unjudged == "" && !v.OK }

func round(d time.Duration) time.Duration { return d.Round(displayPrecision) }

// Judge follows the attempts of one client, entry by entry, the way the
// profile's client counts failures: every refused or closed attempt is a
// failure, a successful open resets the count, and a close the profile
// resets before (a ping timeout, a sequence mismatch) counts as the first.
// Attempts of several clients interleaved make no sense to it.
type Judge struct {
	p *profile.Profile
	// Tolerance widens every window on both sides: real clocks and real
	// networks add a little to every wait. Zero on a virtual clock.
	Tolerance time.Duration

	failures int
	prev     time.Duration // the previous wait, for policies that use it
	ended    bool          // an attempt has ended and no dial followed yet
	lastEnd  time.Duration
	stalled  bool // the last attempt stalled: its end is the client's, unseen
	closed   map[int]bool
	openAt   time.Duration      // when the current connection counted as connected
	open     bool               // a connection is up and counts as connected
	fatal    profile.StatusCode // the server closed with a fatal code
}

// NewJudge returns a judge of p's reconnects.
func NewJudge(p *profile.Profile) *Judge { return &Judge{p: p, closed: map[int]bool{}} }

// See takes the next transcript entry; for a dial that follows a failure it
// returns the verdict on the wait before it.
func (j *Judge) See(e transcript.Entry) (Verdict, bool) {
	switch e.Kind {
	case transcript.KindOpen:
		if j.p.Connect.Handshake == nil {
			j.connected(e.At)
		}
	case transcript.KindSend:
		if h := j.p.Connect.Handshake; h != nil && e.Msg != nil && e.Msg.Type == h.ReplyType {
			j.connected(e.At)
		}
	case transcript.KindStall:
		j.stalled = true
	case transcript.KindRefuse, transcript.KindReset:
		j.fail(e.At)
	case transcript.KindClose:
		if j.closed[e.Attempt] {
			break // one end per attempt
		}
		j.closed[e.Attempt] = true
		if j.open && e.At-j.openAt >= j.p.ResetAfter && j.p.ResetAfter > 0 {
			j.failures, j.prev = 0, 0 // up long enough: the count resets
		}
		j.open = false
		if e.By == profile.Client && j.resetsBefore(e.Code) {
			j.failures = 0
		}
		if e.By == profile.Server && j.p.Close.IsFatal(e.Code) {
			j.fatal = e.Code
		}
		j.fail(e.At)
	case transcript.KindDial:
		return j.dial(e)
	}
	return Verdict{}, false
}

// connected is the moment the client counts as connected: the open, or
// the handshake's reply. Without a reset_after the count resets now.
func (j *Judge) connected(at time.Duration) {
	j.open, j.openAt = true, at
	if j.p.ResetAfter == 0 {
		j.failures, j.prev = 0, 0
	}
}

func (j *Judge) fail(at time.Duration) {
	j.failures++
	j.ended, j.lastEnd, j.stalled = true, at, false
}

// resetsBefore reports whether the profile's client restarts its failure
// count before closing with code.
func (j *Judge) resetsBefore(code profile.StatusCode) bool {
	hb, r := j.p.Heartbeat, j.p.Resume
	return (hb.ResetFailures && code == hb.CloseCode) || (r != nil && r.ResetFailures && code == r.GapCloseCode)
}

func (j *Judge) dial(e transcript.Entry) (Verdict, bool) {
	if j.stalled { // the client gave up on a stalled handshake, unseen
		j.stalled, j.ended = false, false
		j.failures++
		return Verdict{Attempt: e.Attempt, Failure: j.failures, Unjudged: "the previous handshake stalled; its end is the client's timeout"}, true
	}
	if !j.ended {
		return Verdict{}, false // a first connect, or a manual one
	}
	j.ended = false
	v := Verdict{Attempt: e.Attempt, Failure: j.failures, Waited: e.At - j.lastEnd}
	if j.fatal != 0 {
		v.Fatal, j.fatal = j.fatal, 0
		return v, true
	}
	w, ok := j.p.Backoff.Window(j.failures, j.prev)
	if !ok {
		v.GaveUp = true
		return v, true
	}
	v.Min, v.Max = max(0, w.Min-j.Tolerance), w.Max+j.Tolerance
	v.OK = v.Waited >= v.Min && v.Waited <= v.Max
	j.prev = v.Waited
	return v, true
}
