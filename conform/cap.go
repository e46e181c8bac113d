package conform

import (
	"fmt"
	"math"
	"time"

	"github.com/wschaos/wschaos/backoff"
	"github.com/wschaos/wschaos/profile"
	"github.com/wschaos/wschaos/transcript"
)

// A profile's cap is the most its backoff ever waits: a schedule that grows
// to a declared maximum and stays there. "check cap profile" judges it for
// any profile that has one, where "check cap W xN" needs the window
// written for one profile; "await retries cap" follows a refused client
// until the cap must have shown.

func init() {
	checks["cap"] = orProfile(checks["cap"], checkCapProfile)
}

// capHeld is how many waits at its cap a client must show: one reaches it,
// the next shows it held, not passed or dropped.
const capHeld = 2

// capSearch bounds the failures searched for the first one at the cap: a
// schedule that has not settled by then never will in any run.
const capSearch = 1000

// capRealBudget is the longest a file may wait on the real clock for the
// profile's waits to reach and hold the cap, at the run's scale: about
// what the slowest other file of a conform run takes, so that one
// behaviour does not double a run. reconnecting-websocket's cap, 10 s,
// is within it at the default scale (27.5 s at the default margins).
// mattermost's comes after more than 17 minutes of its waits (seven of
// 3 s, 192 s, 243 s, then 300 s twice): 84 s even at scale 0.05. Past the
// budget the file is skipped, saying the scale at which it runs; the
// library's backoff-cap.txt checks mattermost's cap in its own run.
const capRealBudget = 45 * time.Second

// backoffCap is the profile's cap: the window its waits settle in once
// the schedule has reached its declared maximum (with the jitter the
// profile draws there), and the first failure from which every client the
// profile allows waits in it (a base drawn per client reaches the cap at
// different failures: this is the latest). why says why the profile has
// none to check: no maximum, one its waits never reach or do not stay at,
// or one it gives up before holding for capHeld waits.
func backoffCap(p *profile.Profile) (w backoff.Window, at int, why string) {
	inner, limit := p.Backoff, 0
	if l, ok := inner.(backoff.Limit); ok {
		inner, limit = l.Policy, l.Attempts
	}
	var ceiling time.Duration
	switch b := inner.(type) {
	case backoff.Exponential:
		if b.Max > 0 && b.Max > b.Base && b.Factor <= 1 {
			return w, 0, fmt.Sprintf("profile %s's backoff (%v) never grows to its cap", p.Name, b)
		}
		ceiling = b.Max
	case *backoff.Exponential:
		return backoffCap(withBackoff(p, *b, limit))
	case backoff.Mattermost:
		ceiling = b.Max
	case *backoff.Mattermost:
		return backoffCap(withBackoff(p, *b, limit))
	case backoff.Decorrelated, *backoff.Decorrelated:
		return w, 0, fmt.Sprintf("profile %s's backoff (decorrelated jitter) draws each wait anew from its base: its waits do not hold the cap", p.Name)
	}
	if ceiling <= 0 {
		return w, 0, fmt.Sprintf("profile %s's backoff (%s) has no cap", p.Name, policyWords(inner))
	}
	settled, _ := inner.Window(capSearch, 0)
	if before, _ := inner.Window(capSearch-1, 0); before != settled {
		return w, 0, fmt.Sprintf("profile %s's backoff (%s) does not reach its cap within %d failures", p.Name, policyWords(inner), capSearch)
	}
	for at = 1; ; at++ {
		if got, _ := inner.Window(at, 0); got == settled {
			break
		}
	}
	if limit > 0 && at+capHeld-1 > limit {
		return w, 0, fmt.Sprintf("profile %s gives up after %d failures, before its waits hold the cap (%v from failure %d) for %d",
			p.Name, limit, settled, at, capHeld)
	}
	return settled, at, ""
}

// policyWords names a backoff: its own words where it has them, else its
// family.
func policyWords(b backoff.Policy) string {
	if s, ok := b.(fmt.Stringer); ok {
		return s.String()
	}
	if f := backoff.FamilyOf(b); f != "" {
		return f
	}
	return fmt.Sprintf("%T", b)
}

// withBackoff is p with its backoff b, under a retry limit where it had one.
func withBackoff(p *profile.Profile, b backoff.Policy, limit int) *profile.Profile {
	cp := p.Clone()
	cp.Backoff = b
	if limit > 0 {
		cp.Backoff = backoff.Limit{Policy: b, Attempts: limit}
	}
	return cp
}

// capWords says the cap: its window and from which failure on.
func capWords(w backoff.Window, at int) string {
	return fmt.Sprintf("%v from failure %d on", window(w.Min, w.Max), at)
}

// checkCapProfile: "check cap profile": the retry waits reached the
// profile's cap and held it: each wait from the failure where the profile
// reaches it is in its window, there are at least capHeld of them, and no
// wait before went past it. On the real clock the window is the scaled
// profile's, widened by the tolerance.
func checkCapProfile(pl *player, _ []string) (string, error) {
	t, p := pl.t, pl.t.p
	w, at, why := backoffCap(p)
	if why != "" {
		return verdict(false, "%s", why), nil
	}
	lo, hi := t.tol.widen(w.Min, w.Max)
	capText := "the profile's cap, " + capWords(w, at)
	if lo != w.Min || hi != w.Max {
		capText += fmt.Sprintf(" (checked within %v)", window(lo, hi))
	}
	held := 0
	for _, x := range t.judge(endsBeforeRedial(t.Entries()), false) {
		if x.Note != "" {
			continue // not judged, or after the profile gave up: check delays' business
		}
		switch {
		case x.Waited > hi:
			return verdict(false, "the wait after failure %d was %v: past %s", x.Failure, round(x.Waited), capText), nil
		case x.Failure >= at && x.Waited < lo:
			return verdict(false, "the wait after failure %d was %v: short of %s", x.Failure, round(x.Waited), capText), nil
		case x.Failure >= at:
			held++
		}
	}
	if held < capHeld {
		return verdict(false, "%d waits seen at %s: want %d, the cap reached and held", held, capText, capHeld), nil
	}
	return "ok", nil
}

// capWatchMax bounds the waits at the cap "await retries cap" follows.
const capWatchMax = 8

// awaitCap follows a client refused again and again until its waits must
// have reached the profile's cap and held it (capWatch), and the dial
// after the last. On the real clock a cap further away than
// capRealBudget, scaled, skips the file. It says what went wrong, "" if
// nothing did.
func (pl *player) awaitCap() (string, error) {
	t, p := pl.t, pl.t.p
	if _, _, why := backoffCap(p); why != "" {
		return "", fmt.Errorf("%s: the file must require backoff-cap", why)
	}
	last := capWatch(p, t.tol)
	if !t.virtual {
		if far := capTooFar(p, t.scale, last); far != "" {
			t.Skipf("%s", far)
		}
	}
	return pl.awaitRefused(last), nil
}

// capWatch is the last failure whose wait "await retries cap" waits for:
// capHeld waits from the failure where the profile reaches its cap, and
// on past them until the same schedule without its cap (uncapped, from
// its lowest base) would wait longer than the tolerance stretches the
// cap's window: a client that never stops growing then shows it, however
// wide a loaded machine's margins (a 1 s cap checked up to 3.15 s let a
// 2 s wait pass). It stops at the profile's last wait, and capWatchMax
// waits past the cap. With no tolerance (virtual time) the wait after
// the first at the cap already tells them apart.
func capWatch(p *profile.Profile, tol Tolerance) int {
	w, at, _ := backoffCap(p)
	_, hi := tol.widen(w.Min, w.Max)
	grown := uncapped(p.Backoff)
	last := at + capHeld - 1
	for last < at+capWatchMax {
		if g, ok := grown.Window(last, 0); ok && g.Min > hi {
			break
		}
		if _, ok := p.Backoff.Window(last+1, 0); !ok {
			break
		}
		last++
	}
	return last
}

// capTooFar says why the cap of p, a profile scaled by scale, is too far
// away to await on the real clock: its waits up to failure last, each at
// its longest, add up to more than capRealBudget. It names the scale that
// brings them within it. "" if they are within it.
func capTooFar(p *profile.Profile, scale float64, last int) string {
	w, at, why := backoffCap(p)
	if why != "" {
		return ""
	}
	var need time.Duration
	for n := 1; n <= last; n++ {
		wn, _ := p.Backoff.Window(n, 0)
		need += wn.Max
	}
	if need <= capRealBudget {
		return ""
	}
	fits := math.Floor(scale*float64(capRealBudget)/float64(need)*100) / 100
	return fmt.Sprintf("profile %s's waits reach its cap (%s) and hold it through failure %d after %v at scale %v, longer than the %v a file waits for it on the real clock: run it at --scale %v or less",
		p.Name, capWords(w, at), last, round(need), scale, capRealBudget, fits)
}

// awaitRefused waits for n refusals, each within the profile's span of the
// one before, then the dial after the last. It says what went wrong, ""
// if nothing did.
func (pl *player) awaitRefused(n int) string {
	t, p := pl.t, pl.t.p
	refused := func() int { return len(entriesOf(t.Entries(), transcript.KindRefuse)) }
	for k := 1; k <= n; k++ {
		if got, why := pl.awaitCount(refused, k, false); got < k {
			if t.gaveUp() {
				return fmt.Sprintf("the client gave up after %d failures; the profile retries after failure %d and %s", got, got, givesUpWhen(p))
			}
			return fmt.Sprintf("attempt %d: %s%s", k, why, profileWaits(p, k-1))
		}
	}
	dials := func() int { return len(entriesOf(t.Entries(), transcript.KindDial)) }
	if got, why := pl.awaitCount(dials, n+1, true); got <= n {
		if t.gaveUp() {
			return fmt.Sprintf("the client gave up after %d failures; the profile retries after failure %d and %s", n, n, givesUpWhen(p))
		}
		return fmt.Sprintf("attempt %d: %s%s", n+1, why, profileWaits(p, n))
	}
	return ""
}
