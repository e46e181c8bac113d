package conform

import (
	"slices"
	"time"

	"github.com/wschaos/wschaos/backoff"
	"github.com/wschaos/wschaos/internal/flaw"
	"github.com/wschaos/wschaos/profile"
)

// A Twin is the reference client with exactly one bug. A scenario must
// pass on the reference client and fail on each twin it names: that is
// how the harness proves a check catches the bug it is about.
type Twin struct {
	// Bug says what the buggy client does, to follow "a client that".
	Bug string
	// Make builds it.
	Make Factory
}

// flawed is a twin that commits one of the reference client's flaws.
func flawed(bug string, f flaw.Set) Twin { return Twin{Bug: bug, Make: referenceWith(f)} }

// misconfigured is a twin that follows a contract of its own: the server
// plays the scenario's profile, the client this changed copy of it.
func misconfigured(bug string, change func(*profile.Profile)) Twin {
	ref := Reference()
	return Twin{Bug: bug, Make: func(env Env) (Subject, error) {
		cp := env.Profile.Clone()
		change(cp)
		env.Profile = cp
		return ref(env)
	}}
}

// twins are every twin a scenario may name: scenario files in their
// "# twin:" line.
var twins = map[string]Twin{
	"gives-up-after-7": misconfigured("gives up after 7 attempts (an RxJS port of the mattermost client)", func(p *profile.Profile) {
		p.Backoff = backoff.Limit{Policy: backoff.MattermostDefaults, Attempts: 7}
	}),
	"backoff-2n": misconfigured("backs off 1, 2, 4, 8, 16, 30 s (the schedule that port replaced)", func(p *profile.Profile) {
		p.Backoff = backoff.Exponential{Base: time.Second, Factor: 2, Max: 30 * time.Second}
	}),
	"cliff-off-by-one": misconfigured("starts n² one failure early (> 6 instead of > 7)", func(p *profile.Profile) {
		m := backoff.MattermostDefaults
		m.MaxFails = 6
		p.Backoff = m
	}),
	"cap-240s": misconfigured("caps at 240 s instead of 300 s", func(p *profile.Profile) {
		m := backoff.MattermostDefaults
		m.Max = 240 * time.Second
		p.Backoff = m
	}),
	"no-jitter": misconfigured("adds no jitter", func(p *profile.Profile) {
		m := backoff.MattermostDefaults
		m.Jitter = 0
		p.Backoff = m
	}),
	"never-gives-up": misconfigured("never gives up", func(p *profile.Profile) {
		p.Backoff = backoff.Exponential{Base: time.Second, Factor: 2}
	}),
	"unbounded-queue":      misconfigured("has an unbounded queue", func(p *profile.Profile) { p.Queue.Limit = 0 }),
	"queues-when-closed":   misconfigured("queues sends while not open", func(p *profile.Profile) { p.Queue = profile.Queue{Enabled: true, Limit: 10} }),
	"no-resume":            misconfigured("does not speak the resume protocol", func(p *profile.Profile) { p.Resume = nil }),
	"no-heartbeat":         misconfigured("sends no heartbeat at all", func(p *profile.Profile) { p.Heartbeat.Interval = 0 }),
	"no-reset-on-open":     flawed("keeps counting failures across a successful open", flaw.Set{NoResetOnOpen: true}),
	"no-resync":            flawed("does not resync when the server answers a resume with a new id", flaw.Set{NoResyncOnNewID: true}),
	"keep-seq-on-new-id":   flawed("keeps its sequence number when the server gives a new id", flaw.Set{KeepSeqOnNewID: true}),
	"resume-off-by-one":    flawed("resumes from the last event it saw instead of the next", flaw.Set{ResumeFromLastSeen: true}),
	"no-seq-check":         flawed("does not check event sequence numbers", flaw.Set{NoSeqCheck: true}),
	"no-pong-check":        flawed("never checks that its pings are answered", flaw.Set{NoPongCheck: true}),
	"queue-lifo":           flawed("flushes its queue newest first", flaw.Set{QueueLIFO: true}),
	"sends-overtake":       flawed("lets new sends out before flushing its queue", flaw.Set{SendsOvertakeQueue: true}),
	"flush-keeps-queue":    flawed("keeps its queue after flushing it", flaw.Set{FlushKeepsQueue: true}),
	"pong-timeout-10s":     flawed("wants each pong within 10 s", flaw.Set{PongTimeout: 10 * time.Second}),
	"stale-heartbeat":      flawed("carries an unanswered ping into the next connection", flaw.Set{StaleHeartbeat: true}),
	"overlap-on-reconnect": flawed("opens the new socket before closing the old", flaw.Set{OverlapOnReconnect: true}),
	"close-without-frame":  flawed("drops the connection without a close frame", flaw.Set{CloseWithoutFrame: true}),
	"retry-ignores-close":  flawed("still dials the retry it armed before Close", flaw.Set{RetryIgnoresClose: true}),
	"close-leaves-dial":    flawed("lets a handshake in progress run on after Close", flaw.Set{CloseLeavesDial: true}),
	"no-connect-timeout":   flawed("waits for a stalled handshake forever", flaw.Set{NoConnectTimeout: true}),
	"stale-gave-up":        flawed("still says gave-up after Close", flaw.Set{ClosedStateNotAnnounced: true}),
	"code-in-frame":        flawed("puts an error close's code in the close frame, not on the next connect", flaw.Set{CloseCodeInFrame: true}),
	"no-cap": misconfigured("lets its backoff grow past the profile's cap", func(p *profile.Profile) {
		p.Backoff = uncapped(p.Backoff)
	}),
	"redials-at-once":       flawed("dials again at once after a dead link, with no backoff wait", flaw.Set{RedialAtOnceAfterDeadLink: true}),
	"dead-socket-left-open": flawed("leaves a dead socket open beside the next one", flaw.Set{DeadSocketLeftOpen: true}),
	"close-reconnects":      flawed("reconnects after its own intentional close", flaw.Set{CloseReconnects: true}),
	"reports-last-code":     flawed("reports the last close code since the open on the next connect, not the first", flaw.Set{ReportLastCode: true}),
	"keeps-code-after-open": flawed("still reports an old close code after a successful open", flaw.Set{KeepCodeAfterOpen: true}),
	"resets-before-uptime":  flawed("resets its failure count on open, before the uptime the profile asks for", flaw.Set{ResetOnOpenDespiteUptime: true}),
	"every-code-fatal":      flawed("gives up after any close the server sends, whatever its code", flaw.Set{EveryServerCodeFatal: true}),
	"retries-fatal-codes":   flawed("reconnects after a close code its profile calls fatal", flaw.Set{IgnoreFatalCodes: true}),
	// The twins the files for every profile were first proven against.

	"no-server-pongs":     flawed("never answers the server's pings", flaw.Set{NoServerPongs: true}),
	"pings-half-as-often": misconfigured("pings half as often as the profile says", func(p *profile.Profile) { p.Heartbeat.Interval *= 2 }),
	"no-ping-on-open":     misconfigured("does not ping on open", func(p *profile.Profile) { p.Heartbeat.OnOpen = false }),
	"backoff-factor-3": misconfigured("backs off by a factor of 3 instead of the profile's", func(p *profile.Profile) {
		p.Backoff = backoff.Limit{Policy: backoff.Exponential{Base: time.Second, Factor: 3}, Attempts: 5}
	}),
	"ignores-server-errors":  misconfigured("ignores the server's error messages", func(p *profile.Profile) { p.ErrorType = "" }),
	"connected-before-reply": flawed("says connected before the server's handshake reply", flaw.Set{NoHandshakeWait: true}),
}

// uncapped is b without its cap, under its retry limit where it has one:
// the no-cap twin's schedule.
func uncapped(b backoff.Policy) backoff.Policy {
	switch b := b.(type) {
	case backoff.Limit:
		return backoff.Limit{Policy: uncapped(b.Policy), Attempts: b.Attempts}
	case backoff.Exponential:
		b.Max = 0
		return b
	case backoff.Mattermost:
		b.Max = 24 * time.Hour
		return b
	}
	return b
}

func twinNames() []string {
	var names []string
	for n := range twins {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// TwinOf returns the twin of that name, for a scenario file's proof.
func TwinOf(name string) (Twin, bool) { t, ok := twins[name]; return t, ok }
