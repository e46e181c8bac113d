package conform

import (
	"fmt"
	"strconv"
	"time"

	"github.com/wschaos/wschaos/profile"
	"github.com/wschaos/wschaos/transcript"
)

// The checks here judge behaviours that only timing reveals: how long an
// old socket stays open beside a new one, how soon a stalled handshake is
// given up, whether the backoff reaches its cap and stays there, which
// connect carries which close code. Each reads the server's record alone,
// so it means the same through an adapter on the real clock, where every
// duration it is given is scaled and widened by the tolerance.

// realBound is a duration the file gives, as the check holds it on this
// run's clock: itself in virtual time, else scaled and widened late.
func (pl *player) realBound(d time.Duration) time.Duration {
	if pl.t.virtual {
		return d
	}
	_, hi := pl.t.tol.widen(0, scaleDur(d, pl.t.scale))
	return hi
}

// boundWords says a bound the way the check held it.
func (pl *player) boundWords(d time.Duration) string {
	if pl.t.virtual {
		return d.String()
	}
	return fmt.Sprintf("%v scaled by %v (checked within %v)", d, pl.t.scale, round(pl.realBound(d)))
}

// checkOpen: "open N", how many sockets are open now, or "open max N
// within D", how many were ever open at once, where an old socket that
// closes within D of the next one's dial is not counted: a client's close
// frame and its next dial race to the server, but a socket left open
// beside its successor stays open far longer.
func checkOpen(pl *player, args []string) (string, error) {
	if len(args) == 0 || args[0] != "max" {
		return checkCount("sockets open now", func(pl *player) int { return openNow(pl.t.Entries()) })(pl, args)
	}
	if len(args) != 4 || args[2] != "within" {
		return "", fmt.Errorf("want open N, or open max N within D, like: check open max 1 within 200ms")
	}
	limit, err := strconv.Atoi(args[1])
	if err != nil || limit < 1 {
		return "", fmt.Errorf("%q: want at least 1 socket", args[1])
	}
	bound, err := time.ParseDuration(args[3])
	if err != nil || bound < 0 {
		return "", fmt.Errorf("%q: want a duration like 200ms", args[3])
	}
	return pl.openMax(limit, bound), nil
}

// life is one socket's span as the server saw it.
type life struct {
	attempt  int
	from, to time.Duration
	ended    bool
}

// lives replays the server's record of the client's sockets, with the
// same ends as openNow.
func lives(es []transcript.Entry) []*life {
	var out []*life
	by := map[int]*life{}
	for _, e := range es {
		switch {
		case e.Kind == transcript.KindDial:
			l := &life{attempt: e.Attempt, from: e.At}
			by[e.Attempt] = l
			out = append(out, l)
		case e.Kind == transcript.KindClose, e.Kind == transcript.KindRefuse, e.Kind == transcript.KindReset,
			e.Kind == transcript.KindNote && e.Note == stallGivenUp:
			if l := by[e.Attempt]; l != nil && !l.ended {
				l.to, l.ended = e.At, true
			}
		}
	}
	return out
}

// openMax judges "open max N within D". At each dial it counts the
// sockets open then that were still open D later (or are still open and D
// has not passed: on the real clock the check looks again).
func (pl *player) openMax(limit int, bound time.Duration) string {
	b := pl.realBound(bound)
	now := pl.t.clock.Since(pl.t.t0)
	ls := lives(pl.t.Entries())
	for i, nw := range ls {
		var beside []*life
		for _, old := range ls[:i] {
			if old.ended && old.to <= nw.from+b {
				continue
			}
			beside = append(beside, old)
		}
		if len(beside)+1 <= limit {
			continue
		}
		old := beside[0]
		still := fmt.Sprintf("still open at the check, %v after", round(now-nw.from))
		if old.ended {
			still = fmt.Sprintf("closed %v after", round(old.to-nw.from))
		}
		return verdict(false, "%d sockets open at once: #%d was dialed at +%v while #%d was open, and #%d did not close within %s of that dial (%s); want at most %d",
			len(beside)+1, nw.attempt, round(nw.from), old.attempt, old.attempt, pl.boundWords(bound), still, limit)
	}
	return "ok"
}

// checkAbandoned: "abandoned N within D": the client gave up N stalled
// handshakes, each within D of its dial (the profile's connect timeout,
// which "within profile" names):
// a stalled attempt is a failure, and counted as one in time. A stall
// not yet given up after D fails the check, saying how long it has run.
func checkAbandoned(pl *player, args []string) (string, error) {
	if len(args) != 3 || args[1] != "within" {
		return "", fmt.Errorf("want a count and a bound, like: check abandoned 1 within 10s, or within profile")
	}
	want, err := strconv.Atoi(args[0])
	if err != nil || want < 0 {
		return "", fmt.Errorf("%q is not a count", args[0])
	}
	b, words, err := pl.timeoutBound(args[2])
	if err != nil {
		return "", err
	}
	now := pl.t.clock.Since(pl.t.t0)
	es := pl.t.Entries()
	stalled := map[int]bool{}
	for _, e := range es {
		if e.Kind == transcript.KindStall {
			stalled[e.Attempt] = true
		}
	}
	got, pending := 0, ""
	for _, l := range lives(es) {
		switch {
		case !stalled[l.attempt]:
		case !l.ended && now-l.from > b:
			return verdict(false, "waited longer than the connect timeout, %s: the handshake of #%d stalled and %v after its dial the client still had not given it up",
				words, l.attempt, round(now-l.from)), nil
		case !l.ended: // not due yet: on the real clock the check looks again
			pending = fmt.Sprintf(" (the handshake of #%d stalled and is not given up yet, %v after its dial)", l.attempt, round(now-l.from))
		case l.to-l.from > b:
			return verdict(false, "waited longer than the connect timeout, %s: the client gave up the stalled handshake of #%d only %v after its dial",
				words, l.attempt, round(l.to-l.from)), nil
		default:
			got++
		}
	}
	return verdict(got == want, "the client gave up %d stalled handshakes within %s, want %d%s", got, words, want, pending), nil
}

// timeoutBound reads abandoned's bound: a duration the file gives, or
// "profile", the profile's connect timeout, for a file written for every
// profile. It returns the bound as this run's clock holds it, and how to
// say it.
func (pl *player) timeoutBound(arg string) (time.Duration, string, error) {
	if arg != "profile" {
		d, err := time.ParseDuration(arg)
		if err != nil || d <= 0 {
			return 0, "", fmt.Errorf("%q: want a duration like 10s, or profile", arg)
		}
		return pl.realBound(d), pl.boundWords(d), nil
	}
	t := pl.t
	to := t.p.Connect.Timeout // scaled already on the real clock
	if to <= 0 {
		return 0, "", fmt.Errorf("profile %s has no connect timeout: the file must require connect-timeout", t.p.Name)
	}
	if t.virtual {
		return to, fmt.Sprintf("the profile's %v", to), nil
	}
	_, hi := t.tol.widen(0, to)
	return hi, fmt.Sprintf("the profile's %v (checked within %v)", round(to), round(hi)), nil
}

// checkCap: "cap 300s..302s x2": the last N retry waits are each in the
// cap's window, and no wait before them went past it: the backoff reached
// its cap and held it. Only the last waits are read, so a profile whose
// base is drawn per client (reconnecting-websocket) is judged whatever
// its client drew.
func checkCap(pl *player, args []string) (string, error) {
	want, err := parseSpans(args)
	if err != nil {
		return "", err
	}
	for _, w := range want[1:] {
		if w != want[0] {
			return "", fmt.Errorf("want one window and how many waits hold it, like: check cap 300s..302s x2")
		}
	}
	w, n := want[0], len(want)
	lo, hi := w.lo, w.hi
	if !pl.t.virtual {
		lo, hi = pl.t.tol.widen(scaleDur(w.lo, pl.t.scale), scaleDur(w.hi, pl.t.scale))
	}
	inside := func(d time.Duration) bool {
		if pl.t.virtual {
			return d >= lo && d < hi
		}
		return d >= lo && d <= hi
	}
	capText := w.String()
	if !pl.t.virtual {
		capText = fmt.Sprintf("%s scaled by %v (checked within %v)", w, pl.t.scale, window(lo, hi))
	}
	got := RetryDelays(pl.t.Entries())
	for i, d := range got {
		if d > hi || (i >= len(got)-n && !inside(d)) {
			dir := "longer than"
			if d < lo {
				dir = "shorter than"
			}
			return verdict(false, "the delay after failure %d was %v: %s the cap, %s", i+1, round(d), dir, capText), nil
		}
	}
	return verdict(len(got) >= n, "%d retries so far: too few to see the cap, %s, held for %d waits", len(got), capText, n), nil
}

// checkReportedOn: "reported C N" (checkReported), or "reported C on
// A-B": each of the dials A to B carries C on its connect URL, where the
// profile reports the last close's code there (close.report query or
// both): the code is carried to the very next connect, and the first code
// since the last open is the one kept. The server reads the code under the
// profile's own parameter (close.query: mattermost's disconnect_err_code),
// so the check holds for any profile that reports; a file written for
// every profile requires code-on-connect, and under one that does not
// report the check is the file's mistake, not the client's.
func checkReportedOn(pl *player, args []string) (string, error) {
	if len(args) != 3 || args[1] != "on" {
		return checkReported(pl, args)
	}
	// Any code a client may report, 1006 (no close frame came) included,
	// which no server sends and codeSel refuses.
	c, err := strconv.Atoi(args[0])
	if err != nil || c < 1000 || c > 4999 {
		return "", fmt.Errorf("%q: want a close code from 1000 to 4999", args[0])
	}
	code := profile.StatusCode(c)
	lo, hi, err := numberRange(args[2])
	if err != nil {
		return "", err
	}
	p := pl.t.p
	if !p.Close.InQuery() {
		if pl.f.generic() {
			return "", fmt.Errorf("profile %s reports close codes in the close frame, not on the connect URL: the file must require code-on-connect", p.Name)
		}
		return "", fmt.Errorf("profile %s reports close codes in the close frame, not on the connect URL: use check reported %s N", p.Name, args[0])
	}
	dials := map[int]profile.StatusCode{}
	for _, e := range entriesOf(pl.t.Entries(), transcript.KindDial) {
		dials[e.Attempt] = e.ReportedCode
	}
	for n := lo; n <= hi; n++ {
		got, ok := dials[n]
		switch {
		case !ok:
			return verdict(false, "no dial #%d yet: want it to report %d (%s=)", n, code, p.Close.Query), nil
		case got == 0:
			return verdict(false, "dial #%d reported no code, want %d (%s=%d)", n, code, p.Close.Query, code), nil
		case got != code:
			return verdict(false, "dial #%d reported %d, want %d (%s=%d)", n, got, code, p.Close.Query, code), nil
		}
	}
	return "ok", nil
}
