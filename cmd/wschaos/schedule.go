package main

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"time"

	"github.com/wschaos/wschaos/backoff"
	"github.com/wschaos/wschaos/internal/filecodec"
	"github.com/wschaos/wschaos/profile"
)

const (
	// scheduleHorizon is how many failures `profile show` looks ahead to
	// find where a schedule stops growing: the shipped ones settle within
	// 10, and ×1.01 from 1 ms to a 5 min cap, about as slow as anyone
	// configures, within 1,300.
	scheduleHorizon = 2000
	// scheduleShown is how many waits are always printed, and
	// scheduleMaxShown the most before the rest is summed up in a line.
	scheduleShown    = 10
	scheduleMaxShown = 40
	// saturated is where the backoff arithmetic stops an uncapped
	// schedule (backoff's exp saturates at 2^62 ns, 146 years): a window
	// that settles at or beyond it has no cap, it just ran out of numbers.
	saturated = time.Duration(1 << 61)
)

// windowAt is failure n's window, and whether the policy still retries.
type windowAt struct {
	n  int
	w  backoff.Window
	ok bool
}

// schedule is each failure's window up to the horizon or the give-up.
// prev is the previous window's top, so a policy whose draw depends on the
// wait before (decorrelated jitter) shows the window covering every one.
func schedule(pol backoff.Policy) []windowAt {
	var out []windowAt
	var prev time.Duration
	for n := 1; n <= scheduleHorizon; n++ {
		w, ok := pol.Window(n, prev)
		out = append(out, windowAt{n, w, ok})
		if !ok {
			break
		}
		prev = w.Max
	}
	return out
}

// describeSchedule says, one line each, what wait follows each failure in a
// row: the first waits, where the window stops growing, whether and when
// the client gives up, what is drawn per client, and when the count resets.
func describeSchedule(p *profile.Profile) []string {
	lines := []string{"schedule: the wait before reconnecting after each failure in a row (windows rounded to 4 figures)"}
	lines = append(lines, perClientNotes(p.Backoff)...)

	ws := schedule(p.Backoff)
	giveUp := 0
	if last := ws[len(ws)-1]; !last.ok {
		giveUp, ws = last.n, ws[:len(ws)-1]
	}
	// settled is the first failure from which every window is the same.
	settled := len(ws)
	for settled > 1 && ws[settled-2].w == ws[len(ws)-1].w {
		settled--
	}
	capped := len(ws) > 0 && giveUp == 0 && settled < len(ws) && ws[settled-1].w.Max < saturated

	shown := len(ws)
	switch {
	case giveUp > 0:
		// every wait before it gives up
	case capped:
		shown = max(scheduleShown, settled)
	default:
		shown = scheduleShown
	}
	shown = min(shown, len(ws))
	cut := shown > scheduleMaxShown
	if cut {
		shown = scheduleShown
	}
	for _, w := range ws[:shown] {
		lines = append(lines, fmt.Sprintf("failure %d: wait %s", w.n, showWindow(w.w)))
	}
	if cut {
		last := len(ws)
		if capped {
			last = settled - 1 // the cap's line says the rest
		}
		lines = append(lines, fmt.Sprintf("… failures %d to %d: up to %s", shown+1, last, showWindow(ws[last-1].w)))
	}
	if giveUp > 0 {
		lines = append(lines, fmt.Sprintf("failure %d: gives up", giveUp))
	}

	switch {
	case capped:
		lines = append(lines, fmt.Sprintf("cap: reached at failure %d; every later failure waits %s too",
			settled, showWindow(ws[settled-1].w)))
	case giveUp > 0 && settled < len(ws):
		lines = append(lines, fmt.Sprintf("cap: reached at failure %d, at %s", settled, showWindow(ws[settled-1].w)))
	case giveUp > 0:
		lines = append(lines, "cap: none reached before it gives up")
	case pastADay(ws) > 0:
		lines = append(lines, fmt.Sprintf("cap: none; the wait keeps growing, past a day from failure %d", pastADay(ws)))
	default:
		lines = append(lines, fmt.Sprintf("cap: none within %d failures; the wait is still growing (failure %d: %s)",
			len(ws), len(ws), showWindow(ws[len(ws)-1].w)))
	}
	if giveUp > 0 {
		lines = append(lines, fmt.Sprintf("gives up at failure %d: once %d reconnects in a row have failed, it stops (retries: %d)",
			giveUp, giveUp-1, giveUp-1))
	} else {
		lines = append(lines, "never gives up: it reconnects until it is closed (retries: unlimited)")
	}
	if p.ResetAfter > 0 {
		lines = append(lines, fmt.Sprintf("the failure count goes back to 0 once a connection has stayed up %s (reset_after)", p.ResetAfter))
	} else {
		lines = append(lines, "the failure count goes back to 0 as soon as a connection opens")
	}
	return lines
}

// pastADay is the first failure whose shortest wait is over a day, 0 if
// none: how an uncapped schedule is told from a slow one.
func pastADay(ws []windowAt) int {
	for _, w := range ws {
		if w.w.Min > 24*time.Hour {
			return w.n
		}
	}
	return 0
}

// perClientNotes says which parts of the schedule are drawn once per
// client, and which depend on the wait before.
func perClientNotes(pol backoff.Policy) []string {
	var notes []string
	inner := pol
	if l, ok := pol.(backoff.Limit); ok {
		inner = l.Policy
	}
	if e, ok := inner.(backoff.Exponential); ok && e.BaseMax > e.Base {
		notes = append(notes, fmt.Sprintf("the base is drawn once per client from [%s, %s): one client's waits all grow from its draw; the windows cover every client",
			showDuration(e.Base), showDuration(e.BaseMax)))
	} else if drawsPerClient(pol) {
		notes = append(notes, "some parameters are drawn once per client; the windows cover every client")
	}
	if w1, _ := inner.Window(2, 0); func() bool { w2, _ := inner.Window(2, time.Hour); return w1 != w2 }() {
		notes = append(notes, "each wait is drawn from a range set by the wait before it; the windows cover every earlier wait")
	}
	return notes
}

// drawsPerClient reports whether two clients can follow different
// schedules: ForClient with the lowest and the highest draws differ.
func drawsPerClient(pol backoff.Policy) bool {
	lo := backoff.ForClient(pol, rand.New(constSource(0)))
	hi := backoff.ForClient(pol, rand.New(constSource(^uint64(0))))
	return !reflect.DeepEqual(lo, hi)
}

// constSource returns the same number for every draw.
type constSource uint64

func (c constSource) Uint64() uint64 { return uint64(c) }

func showWindow(w backoff.Window) string {
	return fmt.Sprintf("[%s, %s]", showDuration(w.Min), showDuration(w.Max))
}

// showDuration rounds to 4 significant figures for reading: a drawn
// window's top is one nanosecond under its bound ([1s, 5s) is [1s,
// 4.999999999s]), and ×1.3 leaves float dust.
func showDuration(d time.Duration) string {
	unit := time.Duration(1)
	for v := d / 1000; v >= 10; v /= 10 {
		unit *= 10
	}
	return filecodec.FormatDuration(d.Round(unit))
}
