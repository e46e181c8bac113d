package conform

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/wschaos/wschaos/profile"
	"github.com/wschaos/wschaos/transcript"
)

// checks are what "check NAME ARGS" may name. Each reads the run so far,
// as the server recorded it and the client reported it, so each means the
// same on every subject; durations are the profile's, scaled and widened
// by the tolerance on the real clock.
var checks = map[string]func(pl *player, args []string) (string, error){
	"delays":    checkDelays,
	"state":     checkState,
	"sent":      checkSent,
	"delivered": checkDelivered,
	"resyncs": checkCount("resyncs", func(pl *player) int {
		return count(pl.t.Events(), func(e Event) bool { return e.Kind == EventResync })
	}),
	"dials":    checkCount("dials", func(pl *player) int { return len(entriesOf(pl.t.Entries(), transcript.KindDial)) }),
	"open":     checkOpen,
	"closes":   checkCloses,
	"reported": checkReportedOn,
	// file_checks_behave.go
	"abandoned": checkAbandoned,
	"cap":       checkCap,
}

func checkNames() []string {
	var names []string
	for n := range checks {
		names = append(names, n)
	}
	return names
}

func verdict(ok bool, format string, args ...any) string {
	if ok {
		return "ok"
	}
	return "FAIL: " + fmt.Sprintf(format, args...)
}

// span is a wait the file allows: [lo, hi).
type span struct{ lo, hi time.Duration }

func (w span) String() string {
	if w.hi == w.lo+1 {
		return w.lo.String()
	}
	return fmt.Sprintf("[%v, %v)", w.lo, w.hi)
}

// parseSpans reads "3s..5s x7 192s..194s 300s..302s x2" or exact "1s 2s 4s".
func parseSpans(args []string) ([]span, error) {
	var want []span
	for _, a := range args {
		if n, ok := strings.CutPrefix(a, "x"); ok {
			k, err := strconv.Atoi(n)
			if err != nil || k < 1 || len(want) == 0 {
				return nil, fmt.Errorf("%q: a repeat follows a window, like 3s..5s x7", a)
			}
			for range k - 1 {
				want = append(want, want[len(want)-1])
			}
			continue
		}
		lo, hi, isRange := strings.Cut(a, "..")
		l, err1 := time.ParseDuration(lo)
		h, err2 := l+1, error(nil)
		if isRange {
			h, err2 = time.ParseDuration(hi)
		}
		if err1 != nil || err2 != nil || h <= l {
			return nil, fmt.Errorf("%q: want a delay like 1s or a window like 3s..5s", a)
		}
		want = append(want, span{l, h})
	}
	return want, nil
}

// checkDelays: every measured retry delay in order, and no more. On the
// real clock each window is scaled and widened by the tolerance.
func checkDelays(pl *player, args []string) (string, error) {
	want, err := parseSpans(args)
	if err != nil {
		return "", err
	}
	got := RetryDelays(pl.t.Entries())
	for i, d := range got {
		if i >= len(want) {
			return verdict(false, "%d retries, want %d: a dial more than the file allows", len(got), len(want)), nil
		}
		w := want[i]
		if !pl.t.virtual {
			lo, hi := pl.t.tol.widen(scaleDur(w.lo, pl.t.scale), scaleDur(w.hi, pl.t.scale))
			if d < lo || d > hi {
				return verdict(false, "the delay after failure %d was %v: %s the file's %s, scaled by %v (checked within %v)",
					i+1, round(d), direction(d, lo), w, pl.t.scale, window(lo, hi)), nil
			}
			continue
		}
		if d < w.lo || d >= w.hi {
			return verdict(false, "the delay after failure %d was %v: %s the file's %s", i+1, d, direction(d, w.lo), w), nil
		}
	}
	if len(got) < len(want) {
		if ended(pl.t.Entries()) <= len(got) {
			return verdict(false, "%d retries, want %d: only %d failures so far, none to retry after", len(got), len(want), ended(pl.t.Entries())), nil
		}
		return verdict(false, "%d retries, want %d: no dial yet after failure %d", len(got), len(want), len(got)+1), nil
	}
	return "ok", nil
}

// ended counts the attempts whose end the server saw: the failures a
// retry may follow.
func ended(es []transcript.Entry) int {
	seen := map[int]bool{}
	for _, e := range es {
		switch e.Kind {
		case transcript.KindRefuse, transcript.KindClose, transcript.KindReset:
			seen[e.Attempt] = true
		}
	}
	return len(seen)
}

// direction says which way a wait missed its window: a wait that fails is
// either too short (a redial at once) or too long (a cap too high, a
// retry that never came), and the two are different bugs.
func direction(d, lo time.Duration) string {
	if d < lo {
		return "shorter than"
	}
	return "longer than"
}

// RetryDelays measures, from the server's side, each wait between the end
// of one attempt and the dial of the next: what "check delays" reads. A
// dial that comes before the server has seen the previous attempt end (a
// client that redials at once, its close and its next dial racing to the
// server) waited 0.
func RetryDelays(es []transcript.Entry) []time.Duration {
	ends := map[int]time.Duration{}
	dialed := map[int]bool{}
	early := map[int]int{} // attempt → the index of the 0 its successor's dial waited
	var delays []time.Duration
	for _, e := range es {
		switch e.Kind {
		case transcript.KindRefuse, transcript.KindClose, transcript.KindReset:
			ends[e.Attempt] = e.At
		case transcript.KindDial:
			dialed[e.Attempt] = true
			if end, ok := ends[e.Attempt-1]; ok {
				delays = append(delays, e.At-end)
			} else if dialed[e.Attempt-1] {
				early[e.Attempt-1] = len(delays)
				delays = append(delays, -1)
			}
		}
	}
	// A dial whose predecessor never ended as the server saw it (a
	// stalled handshake given up) has no wait to measure.
	var out []time.Duration
	for i, d := range delays {
		if d >= 0 {
			out = append(out, d)
			continue
		}
		for a, j := range early {
			if j == i {
				if _, ended := ends[a]; ended {
					out = append(out, 0)
				}
			}
		}
	}
	return out
}

// checkState: the state the client last reported.
func checkState(pl *player, args []string) (string, error) {
	if len(args) != 1 {
		return "", fmt.Errorf("check state takes one state name")
	}
	got := lastState(pl.t.Events())
	return verdict(got == args[0], "the client is %s, want %s", got, args[0]), nil
}

// checkSent: the server received exactly these ids, in this order.
func checkSent(pl *player, args []string) (string, error) {
	typ := pl.sendType()
	var got []string
	for _, e := range entriesOf(pl.t.Entries(), transcript.KindRecv) {
		if e.Msg != nil && e.Msg.Type == typ {
			got = append(got, sentID(*e.Msg))
		}
	}
	if len(args) == 1 && args[0] == "none" {
		args = nil
	}
	return verdict(slices.Equal(got, args), "the server received %v, want %v", got, args), nil
}

// checkDelivered: the client delivered posted events n=lo..hi, each once,
// in order.
func checkDelivered(pl *player, args []string) (string, error) {
	if len(args) != 1 {
		return "", fmt.Errorf("check delivered takes a range like 1-6")
	}
	lo, hi, err := numberRange(args[0])
	if err != nil {
		return "", err
	}
	var got, want []int
	for _, e := range pl.t.Events() {
		if e.Kind == EventMessage && e.Type == "posted" {
			if n, ok := payloadN(e.Payload); ok {
				got = append(got, n)
			}
		}
	}
	for n := lo; n <= hi; n++ {
		want = append(want, n)
	}
	return verdict(slices.Equal(got, want), "the client delivered %v, want %v", got, want), nil
}

func checkCount(what string, count func(*player) int) func(*player, []string) (string, error) {
	return func(pl *player, args []string) (string, error) {
		if len(args) != 1 {
			return "", fmt.Errorf("want one number")
		}
		n, err := strconv.Atoi(args[0])
		if err != nil {
			return "", fmt.Errorf("%q is not a number", args[0])
		}
		got := count(pl)
		return verdict(got == n, "%s: %d, want %d", what, got, n), nil
	}
}

// openNow replays the server's record of the client's connections: each
// is open from its dial until it closes, is refused or reset, or, stalled
// in its handshake, is given up by the client. It counts those still open.
// (How many were open at once the server can say only with a bound on the
// race between a client's close frame and its next dial: "open max N
// within D", in file_checks_behave.go.)
func openNow(es []transcript.Entry) int {
	open := map[int]bool{}
	for _, e := range es {
		switch {
		case e.Kind == transcript.KindDial:
			open[e.Attempt] = true
		case e.Kind == transcript.KindClose, e.Kind == transcript.KindRefuse, e.Kind == transcript.KindReset,
			e.Kind == transcript.KindNote && e.Note == stallGivenUp:
			delete(open, e.Attempt)
		}
	}
	return len(open)
}

// stallGivenUp is the server's note when the client abandons a stalled
// handshake.
const stallGivenUp = "stalled handshake: client gave up"

// checkCloses: "check closes code=4001 1": how many closes had that code,
// where the profile reports it (in the frame, or on the next connect).
func checkCloses(pl *player, args []string) (string, error) {
	if len(args) != 2 {
		return "", fmt.Errorf("want code=N and a count")
	}
	code, err := codeSel(map[string]string{"code": strings.TrimPrefix(args[0], "code=")}, 0)
	if err != nil {
		return "", err
	}
	return checkCount(fmt.Sprintf("closes with %d", code), func(pl *player) int {
		return closesCounted(pl.t.p, pl.t.Entries(), code)
	})(pl, args[1:])
}

// checkReported: "check reported 4001 1": how many times the client
// reported an error close's code where the profile says it does: in its
// close frame, on the next connect URL, or both. A code put where the
// profile does not report it (4001 in the frame of a client whose
// profile sends it only as disconnect_err_code) fails the check.
func checkReported(pl *player, args []string) (string, error) {
	if len(args) != 2 {
		return "", fmt.Errorf("want a code and a count, like: check reported 4001 1")
	}
	code, err := codeSel(map[string]string{"code": args[0]}, 0)
	if err != nil {
		return "", err
	}
	want, err := strconv.Atoi(args[1])
	if err != nil {
		return "", fmt.Errorf("%q is not a count", args[1])
	}
	p, es := pl.t.p, pl.t.Entries()
	frames, queries := 0, 0
	for _, e := range es {
		switch {
		case e.Kind == transcript.KindClose && e.By == profile.Client && e.Code == code:
			frames++
		case e.Kind == transcript.KindDial && e.ReportedCode == code:
			queries++
		}
	}
	switch {
	case !p.Close.InFrame() && frames > 0:
		return verdict(false, "the client put %d in its close frame %d times; profile %s reports it only on the next connect (%s=)",
			code, frames, p.Name, p.Close.Query), nil
	case !p.Close.InQuery() && queries > 0:
		return verdict(false, "the client reported %d on a connect URL; profile %s reports it only in the close frame", code, p.Name), nil
	}
	got, where := frames, "in its close frame"
	if p.Close.InQuery() {
		got, where = queries, "on the next connect ("+p.Close.Query+"=)"
		if p.Close.InFrame() {
			got, where = min(frames, queries), "in its close frame and on the next connect"
		}
	}
	return verdict(got == want, "the client reported %d %s %d times, want %d", code, where, got, want), nil
}

// closesCounted counts the closes with code: in the frame, or, where the
// profile reports the code on the next connect, a client close with no
// code whose next dial reports it.
func closesCounted(p *profile.Profile, es []transcript.Entry, code profile.StatusCode) int {
	reported := map[int]profile.StatusCode{} // attempt → the code its dial reports
	for _, e := range es {
		if e.Kind == transcript.KindDial {
			reported[e.Attempt] = e.ReportedCode
		}
	}
	n := 0
	for _, e := range es {
		switch {
		case e.Kind != transcript.KindClose:
		case e.Code == code:
			n++
		case p.Close.InQuery() && e.By == profile.Client && e.Code == profile.StatusNoStatus && reported[e.Attempt+1] == code:
			n++
		}
	}
	return n
}
