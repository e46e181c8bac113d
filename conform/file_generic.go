package conform

import (
	"cmp"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/url"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/wschaos/wschaos/backoff"
	"github.com/wschaos/wschaos/profile"
	"github.com/wschaos/wschaos/transcript"
)

// A file without "# profile:" is written for every profile: what it
// expects must hold whatever profile the run gives. Its timeline (when a
// retry comes, what a dial's URL holds) is the profile's, so its output
// holds only its own lines (await and check verdicts, send results, the
// idle line), without their time, and it moves time with "await", which
// steps until something happens instead of to a timer a file would have
// to count. Its checks take "profile" as their expectation where the
// expectation is the profile's: "check delays profile".

func init() {
	verbs["await"] = (*player).await
	checks["delays"] = orProfile(checks["delays"], checkDelaysProfile)
	checks["close-code"] = checkCloseCode
	checks["heartbeat"] = checkHeartbeat
	checks["handshake"] = checkHandshake
	checks["pongs"] = checkPongs
	checks["dead-link"] = checkDeadLink
	checks["stall"] = checkStall
	checks["gives-up"] = checkGivesUp
	checks["uptime-reset"] = checkUptimeReset
	checks["sent"] = fillQueue(checks["sent"])
	checks["refused"] = checkRefused
	checks["resumed"] = checkResumed
	checks["reported"] = gapCode(checks["reported"])
	awaitKinds["delivered"] = func(pl *player, _ string) int {
		return count(pl.t.Events(), func(e Event) bool { return e.Kind == EventMessage && e.Type == eventType })
	}
	awaitKinds["sent"] = func(pl *player, _ string) int {
		typ := pl.sendType()
		return len(matching(pl.t.Entries(), func(e transcript.Entry) bool {
			return e.Kind == transcript.KindRecv && e.Msg != nil && e.Msg.Type == typ
		}))
	}
}

// generic reports whether the file runs under whatever profile it is
// given, its output free of the profile's timeline.
func (s *File) generic() bool { return s.header.profile == "" }

// orProfile is a check that reads "profile" as its expectation with
// byProfile, and anything else with explicit.
func orProfile(explicit, byProfile func(*player, []string) (string, error)) func(*player, []string) (string, error) {
	return func(pl *player, args []string) (string, error) {
		if len(args) == 1 && args[0] == "profile" {
			return byProfile(pl, nil)
		}
		return explicit(pl, args)
	}
}

// handshakeSettle is how long after the open a fault that must find the
// client connected waits, on a profile with a handshake: the reply goes out
// as soon as the request is read, so a few milliseconds on the real clock,
// none in virtual time.
const handshakeSettle = 100 * time.Millisecond

// connectedAfter is when, after the open, the client is connected: at once,
// or, where the profile has a handshake, once its reply is out. A black
// hole or a close at the open itself would catch the handshake, and a
// client never connected cannot show what a file checks.
func connectedAfter(p *profile.Profile) time.Duration {
	if p.Connect.Handshake != nil {
		return handshakeSettle
	}
	return 0
}

// profileWords puts the profile's values in a fault's words: code=fatal is
// the first close code the profile calls fatal, type=handshake-reply the
// type of the server's reply to the handshake, connected when after the
// open the client is connected (connectedAfter), pong-lag how late the
// server answers pings so that a heartbeat's timeout rule shows (60 % of
// the timeout; none where the profile has no timeout rule, and then the
// fault is left out). p is the profile as the run plays it, scaled: the
// words are put in after the file's own durations are scaled. With p nil (parse time,
// no profile yet) a placeholder stands in, to check the rest.
func profileWords(args []string, t *T) []string {
	var p *profile.Profile
	grown := 1
	if t != nil {
		p, grown = t.p, resetRefusals(t)
	}
	out := append([]string(nil), args...)
	for i, a := range out {
		if a == "type=handshake-reply" && p != nil && p.Connect.Handshake != nil {
			out[i] = "type=" + p.Connect.Handshake.ReplyType
		}
		if a == "pong-lag" {
			out[i] = "1s"
			if p != nil {
				out[i] = pongLag(p).String()
			}
		}
		if a == "code=fatal" {
			code := profile.StatusCode(4400)
			if p != nil && len(p.Close.Fatal) > 0 {
				code = p.Close.Fatal[0].Lo
			}
			out[i] = "code=" + strconv.Itoa(int(code))
		}
		if a == "connected" {
			out[i] = "0s"
			if p != nil {
				out[i] = connectedAfter(p).String()
			}
		}
		if a == "uptime" {
			out[i] = "5s"
			if p != nil {
				first, _ := p.Backoff.Window(1, 0)
				out[i] = (p.ResetAfter + first.Max).String() // up long enough, with room to spare
			}
		}
		switch a {
		case "attempts=1-grown":
			out[i] = fmt.Sprintf("attempts=1-%d", grown)
		case "attempts=grown+1":
			out[i] = fmt.Sprintf("attempts=%d", grown+1)
		case "attempts=1-filled":
			out[i] = "attempts=1-1"
			if t != nil {
				out[i] = fmt.Sprintf("attempts=1-%d", fillRefusals(t))
			}
		case "attempts=1-queued":
			out[i] = "attempts=1-1"
			if t != nil {
				out[i] = fmt.Sprintf("attempts=1-%d", queueRefusals(t))
			}
		}
	}
	return out
}

// fillPerSend and fillSlack size the time "send fill=queue" may take on
// the real clock: one adapter round trip per message of the profile's
// queue bound (a fraction of a millisecond each when the machine is
// quiet, ten times that under load), and a burst of load on top, as long
// as the late margin's floor.
const (
	fillPerSend = 2 * time.Millisecond
	fillSlack   = 500 * time.Millisecond
)

// fillBudget is how long, on the real clock, a file that fills the queue
// while the client is refused needs it to stay refused after the first
// refusal: the await's settling, then one send per message of the bound
// and one more, then the slack.
func fillBudget(p *profile.Profile) time.Duration {
	return stateGrace + time.Duration(p.Queue.Limit+1)*fillPerSend + fillSlack
}

// fillRefusals is how many attempts "attempts=1-filled" refuses: the
// fewest whose shortest waits, from the first refusal to the dial that
// opens, add up to fillBudget, so that the client is still offline when
// the application's fill and its one send more are done. The fill takes
// real time (a round trip per message), while the waits shrink with the
// scale: a count of refusals fixed in the file (three, 350 ms at --scale
// 0.05) let the retry open the connection before the last sends were made
// under load, and a send the full queue had to refuse went out instead.
// It stops one short of the profile's giving up, so the client still opens.
func fillRefusals(t *T) int {
	p := t.p
	budget := fillBudget(p)
	var sum time.Duration
	for n := 1; n < maxResetRefusals; n++ {
		w, ok := p.Backoff.Window(n, 0)
		if !ok {
			return max(1, n-1)
		}
		if sum += w.Min; sum >= budget {
			return n
		}
	}
	return maxResetRefusals
}

// awaitKinds are what "await" may wait for, each counted over the whole
// run so far: the server's record, or the client's word.
var awaitKinds = map[string]func(pl *player, arg string) int{
	"dial":   serverCount(transcript.KindDial),
	"open":   serverCount(transcript.KindOpen),
	"refuse": serverCount(transcript.KindRefuse),
	"close":  serverCount(transcript.KindClose),
	// ping: the client's heartbeat, whether the server saw it or a fault
	// swallowed it.
	"ping": func(pl *player, _ string) int {
		return len(matching(pl.t.Entries(), isPing(pl.t.p)))
	},
	// pong: the client's answers to the server's pings.
	"pong": func(pl *player, _ string) int {
		p := pl.t.p
		return len(matching(pl.t.Entries(), func(e transcript.Entry) bool {
			return e.Kind == transcript.KindRecv && e.Msg != nil && p.Heartbeat.Mode == profile.HeartbeatServer && e.Msg.Type == p.Heartbeat.PongType
		}))
	},
	"state": func(pl *player, s string) int { return count(pl.t.Events(), isState(s)) },
}

func serverCount(k transcript.Kind) func(*player, string) int {
	return func(pl *player, _ string) int { return len(entriesOf(pl.t.Entries(), k)) }
}

func matching(es []transcript.Entry, keep func(transcript.Entry) bool) []transcript.Entry {
	var out []transcript.Entry
	for _, e := range es {
		if keep(e) {
			out = append(out, e)
		}
	}
	return out
}

var clientStates = []string{StateConnecting, StateConnected, StateReconnecting, StateGaveUp, StateDisconnected, StateError}

// parseAwait reads "await KIND [N]" or "await state S [N]": the kind, its
// argument (the state), and the count, 1 by default.
func parseAwait(args []string) (kind, arg string, n int, err error) {
	if len(args) == 0 {
		return "", "", 0, fmt.Errorf("await what? (known: %s)", awaitKnown())
	}
	kind, rest := args[0], args[1:]
	if _, ok := awaitKinds[kind]; !ok {
		return "", "", 0, fmt.Errorf("await %q: unknown (known: %s)", kind, awaitKnown())
	}
	if kind == "state" {
		if len(rest) == 0 || !containsStr(clientStates, rest[0]) {
			return "", "", 0, fmt.Errorf("await state: name a state (%s)", strings.Join(clientStates, ", "))
		}
		arg, rest = rest[0], rest[1:]
	}
	n = 1
	switch {
	case len(rest) > 1:
		return "", "", 0, fmt.Errorf("await %s: want at most a count after it", kind)
	case len(rest) == 1 && rest[0] == "queue":
		n = 0 // the profile's queue bound, known when the file runs
	case len(rest) == 1:
		if n, err = strconv.Atoi(rest[0]); err != nil || n < 1 {
			return "", "", 0, fmt.Errorf("await %s: %q is not a count", kind, rest[0])
		}
	}
	return kind, arg, n, nil
}

func awaitKnown() string {
	var ks []string
	for k := range awaitKinds {
		ks = append(ks, k)
	}
	return strings.Join(sortedStrings(ks), ", ")
}

func containsStr(xs []string, x string) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}

// await moves time on until the run holds N of a kind: in virtual time it
// steps from timer to timer (the client's or a fault's), each once the
// world is idle, for at most awaitSpan of the profile's time for each one
// awaited; on the real clock it waits that span, scaled and widened. Its line says ok, or what
// came instead; a wait that ends short fails the scenario, since what the
// file does next would not mean what it says.
func (pl *player) await(c fileCmd) error {
	what := strings.Join(c.args, " ")
	fail := func(v string) error {
		v = "FAIL: " + v
		pl.note("await " + what + ": " + v)
		pl.t.Fatalf("%s", pl.failure(c, v))
		return nil
	}
	if what == "retries profile" || what == "retries cap" {
		var why string
		if what == "retries cap" {
			var err error
			if why, err = pl.awaitCap(); err != nil {
				return err
			}
		} else {
			why = pl.awaitRetries()
		}
		if why != "" {
			return fail(why)
		}
		pl.note("await " + what + ": ok")
		return nil
	}
	kind, arg, n, err := parseAwait(c.args)
	if err != nil {
		return err
	}
	if n == 0 {
		n = max(pl.t.p.Queue.Limit, 1)
	}
	if got, why := pl.awaitCount(func() int { return awaitKinds[kind](pl, arg) }, n, true); got < n {
		if kind == "sent" {
			why += fmt.Sprintf("; the server received %v", receivedIDs(pl))
		}
		return fail(fmt.Sprintf("%d of %d seen: %s", got, n, why))
	}
	pl.note("await " + what + ": ok")
	return nil
}

// awaitCount waits until have() reaches n, each one allowed the
// profile's span (awaitSpan) from the one before: in virtual time by
// stepping, on the real clock by waiting it, scaled and widened. With
// settle, what follows at that instant is waited for too. It returns how
// many came, and why the wait ended short.
func (pl *player) awaitCount(have func() int, n int, settle bool) (int, string) {
	t := pl.t
	span := t.awaitSpan()
	if t.virtual {
		return pl.awaitVirtual(have, n, span, settle)
	}
	_, hi := t.tol.widen(span, span)
	deadline, seen := time.Now().Add(hi+slack), have()
	for t.ctx.Err() == nil {
		w := t.watch()
		now := have()
		if now > seen { // each one may take the whole span
			deadline, seen = time.Now().Add(hi+slack), now
		}
		if now >= n || !time.Now().Before(deadline) {
			break
		}
		t.awaitChange(t.ctx, w, time.Until(deadline))
	}
	got := have()
	if got < n {
		return got, fmt.Sprintf("waited longer than the profile allows (its longest wait here, %v, checked up to %v): still none more", round(span), round(hi+slack))
	}
	if settle {
		quietReal(t.ctx, stateGrace) // what follows at once (a flush on open) is the await's too
	}
	return got, ""
}

// awaitRetries follows a client refused again and again through its
// schedule: where the profile gives up, until the client says it gave up
// after the profile's last attempt; where it never does, through
// backoffWatch failures and the dial after them. It says what went
// wrong, "" if nothing did.
func (pl *player) awaitRetries() string {
	t, p := pl.t, pl.t.p
	refused := func() int { return len(entriesOf(t.Entries(), transcript.KindRefuse)) }
	last := giveUpAt(p)
	watch := last
	if last == 0 {
		watch = backoffWatch(t)
	}
	for n := 1; n <= watch; n++ {
		if got, why := pl.awaitCount(refused, n, false); got < n {
			if t.gaveUp() {
				return fmt.Sprintf("the client gave up after %d failures; the profile retries after failure %d and %s", got, got, givesUpWhen(p))
			}
			return fmt.Sprintf("attempt %d: %s%s", n, why, profileWaits(p, n-1))
		}
	}
	if last == 0 {
		dials := func() int { return len(entriesOf(t.Entries(), transcript.KindDial)) }
		if got, why := pl.awaitCount(dials, watch+1, true); got <= watch {
			if t.gaveUp() {
				return fmt.Sprintf("the client gave up after %d failures; the profile never gives up", watch)
			}
			return fmt.Sprintf("attempt %d: %s%s", watch+1, why, profileWaits(p, watch))
		}
		return ""
	}
	if got, why := pl.awaitCount(func() int { return count(t.Events(), isState(StateGaveUp)) }, 1, true); got < 1 {
		return fmt.Sprintf("giving up after %d failures: the client still had not reported it: %s; the profile %s", last, why, givesUpWhen(p))
	}
	return ""
}

// profileWaits says what the profile waits after failure n, for a wait
// that did not end: "" before the first attempt.
func profileWaits(p *profile.Profile, n int) string {
	w, ok := p.Backoff.Window(n, 0)
	if n < 1 || !ok {
		return ""
	}
	return fmt.Sprintf("; the profile waits %v after failure %d", window(w.Min, w.Max), n)
}

// giveUpAt is the attempt after whose failure the profile gives up, 0 if
// it never does.
func giveUpAt(p *profile.Profile) int {
	for n := 1; n <= maxBackoffFailures*4; n++ {
		if _, ok := p.Backoff.Window(n, 0); !ok {
			return n
		}
	}
	return 0
}

// awaitVirtual steps the virtual clock until have() reaches n, or the
// world has nothing pending, or span has passed.
func (pl *player) awaitVirtual(have func() int, n int, span time.Duration, settle bool) (int, string) {
	t := pl.t
	start, seen := t.vclock.Now(), have()
	for {
		ctx, cancel := t.waitFor(patience)
		for ctx.Err() == nil {
			w := t.watch()
			if have() >= n {
				break
			}
			t.awaitChange(ctx, w, patience)
		}
		cancel()
		got := have()
		if got >= n {
			if settle {
				// What follows at this instant (a flush on open, a send's
				// verdict) is the await's too: wait for the world to be idle.
				ctx, cancel := t.waitFor(patience)
				<-ctx.Done()
				cancel()
			}
			return got, ""
		}
		if got > seen { // each one may take the whole span
			start, seen = t.vclock.Now(), got
		}
		next, ok := t.vclock.Next()
		switch {
		case !ok:
			return have(), "the client and the server are idle, no timer pending: nothing more will happen"
		case next.Sub(start) > span:
			return have(), fmt.Sprintf("waited longer than the profile allows (its longest wait here, %v): still none more", span)
		}
		t.vclock.AdvanceToNext()
	}
}

// awaitSpan bounds an await in the profile's time: a handshake's connect
// timeout, then the longest retry wait the failures so far allow, then
// the time the heartbeat takes to find a dead link, and the uptime after
// which the failure count resets. Any of them may stand between a file's
// commands.
func (t *T) awaitSpan() time.Duration {
	p := t.p
	retry := time.Duration(0)
	dials := len(entriesOf(t.Entries(), transcript.KindDial))
	for n := 1; n <= dials+1; n++ {
		if w, ok := p.Backoff.Window(n, 0); ok {
			retry = max(retry, w.Max)
		}
	}
	d := p.Connect.Timeout + retry + p.ResetAfter
	if p.Heartbeat.Dead != "" {
		notice, _ := deadWithin(p)
		d += notice
	}
	return d + p.Heartbeat.Interval
}

// validateAwait checks an await's words before anything runs.
func validateAwait(args []string) error {
	if w := strings.Join(args, " "); w == "retries profile" || w == "retries cap" {
		return nil
	}
	_, _, _, err := parseAwait(args)
	return err
}

// checkDelaysProfile: "check delays profile": every retry wait so far
// inside the profile's window for its failure count (the lower bound
// included), no retry after the profile gives up or after a fatal code,
// and jitter where the profile spreads its waits.
func checkDelaysProfile(pl *player, _ []string) (string, error) {
	ws := pl.t.judge(endsBeforeRedial(pl.t.Entries()), false)
	for _, w := range ws {
		if !w.OK {
			return verdict(false, "%s", w.describe()), nil
		}
	}
	if why := cmp.Or(jitterMissing(pl.t.p, ws), spreadMissing(pl.t, ws)); why != "" {
		return verdict(false, "%s", why), nil
	}
	return "ok", nil
}

// endsBeforeRedial puts the end of each attempt (its close, refusal or
// reset) that the server saw only after the next attempt's dial at that
// dial's instant, before it: a wait of 0. A client that redials at once
// after closing races its own close frame to the server, and the dial
// can win; read in the order the server saw them, the retry would have no
// wait to judge, and a redial at once would pass.
func endsBeforeRedial(es []transcript.Entry) []transcript.Entry {
	dialAt := map[int]int{} // attempt → its dial's index in out
	out := make([]transcript.Entry, 0, len(es))
	for _, e := range es {
		switch e.Kind {
		case transcript.KindClose, transcript.KindRefuse, transcript.KindReset:
			if i, ok := dialAt[e.Attempt+1]; ok {
				e.At = out[i].At
				out = slices.Insert(out, i, e)
				for a, j := range dialAt {
					if j >= i {
						dialAt[a] = j + 1
					}
				}
				continue
			}
		case transcript.KindDial:
			dialAt[e.Attempt] = len(out)
		}
		out = append(out, e)
	}
	return out
}

// checkCloseCode: "check close-code profile": the last connection was
// closed by the client, with the profile's close code in its frame (1000,
// or a frame with no code).
func checkCloseCode(pl *player, args []string) (string, error) {
	if len(args) != 1 || args[0] != "profile" {
		return "", fmt.Errorf("check close-code takes: profile")
	}
	want := pl.t.p.Close.Code
	cs := entriesOf(pl.t.Entries(), transcript.KindClose)
	if len(cs) == 0 {
		return verdict(false, "no connection closed; want a close frame with %s from the client", codeName(want)), nil
	}
	c := cs[len(cs)-1]
	return verdict(c.By == profile.Client && c.Code == want,
		"the close ended the socket with %s by the %s; want a close frame with %s from the client",
		codeName(c.Code), c.By, codeName(want)), nil
}

// checkHeartbeat: "check heartbeat profile": the client's pings so far
// came at the profile's pace: the first at once on open where the profile
// pings on open, else an interval after it, and each next one an interval
// after the one before (after its answer, under the timeout rule).
func checkHeartbeat(pl *player, args []string) (string, error) {
	if len(args) != 1 || args[0] != "profile" {
		return "", fmt.Errorf("check heartbeat takes: profile")
	}
	t, p := pl.t, pl.t.p
	opens := entriesOf(t.Entries(), transcript.KindOpen)
	pings := matching(t.Entries(), isPing(p))
	if len(opens) == 0 {
		return verdict(false, "no connection opened"), nil
	}
	if len(pings) == 0 {
		return verdict(false, "the client sent no %s; the profile pings every %v", p.Heartbeat.PingType, p.Heartbeat.Interval), nil
	}
	open := opens[0].At
	_, late := t.tol.widen(0, 0)
	if p.Heartbeat.OnOpen {
		if d := pings[0].At - open; d > late {
			return verdict(false, "the first ping came %v after the open; the profile pings on open", round(d)), nil
		}
	} else if lo, hi := t.tol.widen(p.Heartbeat.Interval, p.Heartbeat.Interval); pings[0].At-open < lo || pings[0].At-open > hi {
		return verdict(false, "the first ping came %v after the open; the profile pings every %v (checked within %v)",
			round(pings[0].At-open), p.Heartbeat.Interval, window(lo, hi)), nil
	}
	for i := 1; i < len(pings); i++ {
		gap := pings[i].At - pings[i-1].At
		want := p.Heartbeat.Interval
		if p.Heartbeat.Dead == profile.DeadTimeout {
			// Under the timeout rule the next ping goes an interval after
			// the answer.
			if ans, ok := answerTo(t.Entries(), p, pings[i-1]); ok {
				want += ans.At - pings[i-1].At
			}
		}
		if lo, hi := t.tol.widen(want, want); gap < lo || gap > hi {
			return verdict(false, "ping %d came %v after the previous one; the profile pings every %v%s (checked within %v)",
				i+1, round(gap), p.Heartbeat.Interval, afterAnswer(p), window(lo, hi)), nil
		}
	}
	return "ok", nil
}

// answerTo is the server's answer to ping, the first pong sent after it.
func answerTo(es []transcript.Entry, p *profile.Profile, ping transcript.Entry) (transcript.Entry, bool) {
	for _, e := range es {
		if e.Kind == transcript.KindSend && e.At >= ping.At && isPong(p)(e) && e.Attempt == ping.Attempt {
			return e, true
		}
	}
	return transcript.Entry{}, false
}

func afterAnswer(p *profile.Profile) string {
	if p.Heartbeat.Dead == profile.DeadTimeout {
		return " after each answer"
	}
	return ""
}

// jitterWaits is the fewest waits with room for jitter that the jitter
// check needs: a client with jitter puts them all in the lowest tenth of
// their windows once in 10^jitterWaits.
const jitterWaits = 5

// jitterMissing says why waits ws show a client without jitter ("" if
// they do not): they all sit at the bottom of windows the profile spreads
// them over. Where the base is drawn once per client the waits move
// together, so one client says nothing of it; those profiles are not
// judged here.
func jitterMissing(p *profile.Profile, ws []Wait) string {
	if !reflect.DeepEqual(backoff.ForClient(p.Backoff, rand.New(rand.NewPCG(1, 2))), p.Backoff) {
		return ""
	}
	seen, low := 0, 0
	for _, w := range ws {
		if w.Note != "" || w.Max-w.Min < w.Max/10 {
			continue
		}
		seen++
		if w.Waited-w.Min < (w.Max-w.Min)/10 {
			low++
		}
	}
	if seen >= jitterWaits && low == seen {
		return fmt.Sprintf("no jitter: the profile spreads each wait over its window, yet all %d waits sat in the lowest tenth of their windows (by chance, once in 10^%d)", seen, seen)
	}
	return ""
}

// Profiles are the profiles a file is proven under: its own, or, for a
// file written for every profile, each shipped profile it applies to.
func (s *File) Profiles() []*profile.Profile {
	if own := s.Profile(); own != nil {
		return []*profile.Profile{own}
	}
	var out []*profile.Profile
	for _, name := range profile.Names() {
		if p := profile.ByName(name); s.notFor(p) == "" {
			out = append(out, p)
		}
	}
	return out
}

// A Proof is a twin a file must fail on, under a profile.
type Proof struct {
	Twin    Twin
	Name    string
	Profile *profile.Profile
}

// Proofs are the twins the file names, each under the profiles it is
// proven under: "# twin: NAME" under every one, "NAME@PROFILE" (for a
// file written for every profile) under that one, where the twin's bug
// shows.
func (s *File) Proofs() []Proof {
	var out []Proof
	for _, t := range s.header.twins {
		name, under, scoped := strings.Cut(t, "@")
		tw := twins[name] // checked at parse time
		for _, p := range s.Profiles() {
			if !scoped || p.Name == under {
				out = append(out, Proof{Twin: tw, Name: name, Profile: p})
			}
		}
	}
	return out
}

// checkHandshake: "check handshake profile": on every connection the
// client's first message was the profile's handshake, and the client
// said connected only once the server's reply had gone out (the k-th
// connected after the k-th reply).
func checkHandshake(pl *player, args []string) (string, error) {
	if len(args) != 1 || args[0] != "profile" {
		return "", fmt.Errorf("check handshake takes: profile")
	}
	t, p := pl.t, pl.t.p
	h := p.Connect.Handshake
	if h == nil {
		return verdict(false, "profile %s has no handshake", p.Name), nil
	}
	es := t.Entries()
	first := map[int]bool{}
	var replies []transcript.Entry
	for _, e := range es {
		switch {
		case e.Kind == transcript.KindSend && e.Msg != nil && e.Msg.Type == h.ReplyType:
			replies = append(replies, e)
		case e.Kind == transcript.KindRecv && e.Msg != nil && !first[e.Attempt] && clientMessage(p)(e):
			first[e.Attempt] = true
			if e.Msg.Type != h.Type {
				return verdict(false, "the client's first message on connection %d was %q; the profile's handshake sends %q first",
					e.Attempt, e.Msg.Type, h.Type), nil
			}
		}
	}
	early, _ := t.tol.widen(0, 0)
	k := 0
	for _, e := range t.Events() {
		if !isState(StateConnected)(e) {
			continue
		}
		if k >= len(replies) || e.At < replies[k].At+early {
			return verdict(false, "the client said connected before the server's %s: it did not wait for the handshake", h.ReplyType), nil
		}
		k++
	}
	return "ok", nil
}

// checkPongs: "check pongs profile": every ping the server sent was
// answered by the client's pong on the same connection, at once (within
// the tolerance's late margin on the real clock).
func checkPongs(pl *player, args []string) (string, error) {
	if len(args) != 1 || args[0] != "profile" {
		return "", fmt.Errorf("check pongs takes: profile")
	}
	t, hb := pl.t, pl.t.p.Heartbeat
	if hb.Mode != profile.HeartbeatServer {
		return verdict(false, "profile %s's server sends no pings", pl.t.p.Name), nil
	}
	es := t.Entries()
	_, late := t.tol.widen(0, 0)
	used := map[int]bool{}
	i := 0
	for _, ping := range es {
		if ping.Kind != transcript.KindSend || ping.Msg == nil || ping.Msg.Type != hb.PingType {
			continue
		}
		i++
		answered := false
		for j, e := range es {
			if !used[j] && e.Kind == transcript.KindRecv && e.Attempt == ping.Attempt && e.Msg != nil && e.Msg.Type == hb.PongType && e.At >= ping.At {
				used[j] = true
				if d := e.At - ping.At; d > late {
					return verdict(false, "the %s to ping %d came %v after it; the profile answers at once", hb.PongType, i, round(d)), nil
				}
				answered = true
				break
			}
		}
		if !answered {
			return verdict(false, "the client's %s to ping %d never came; the profile answers every server ping at once", hb.PongType, i), nil
		}
	}
	if i == 0 {
		return verdict(false, "the server sent no %s", hb.PingType), nil
	}
	return "ok", nil
}

// leftOut reports whether a fault's words, the profile's put in, leave
// nothing to do: a pong-lag of none.
func leftOut(args []string) bool {
	return len(args) == 2 && args[0] == "delay-pongs" && args[1] == "0s"
}

// checkDeadLink: "check dead-link profile": the first connection went
// dark (nothing flows, no close) and the client noticed it by the
// profile's dead rule: it closed it with the heartbeat's close code where
// the profile reports one, and dialed again within the time the rule
// takes to notice plus the first retry wait.
func checkDeadLink(pl *player, args []string) (string, error) {
	if len(args) != 1 || args[0] != "profile" {
		return "", fmt.Errorf("check dead-link takes: profile")
	}
	t, p := pl.t, pl.t.p
	if p.Heartbeat.Dead == "" {
		return verdict(false, "profile %s has no dead rule", p.Name), nil
	}
	es := t.Entries()
	opens, dials := entriesOf(es, transcript.KindOpen), entriesOf(es, transcript.KindDial)
	if len(opens) == 0 || len(dials) < 2 {
		return verdict(false, "the client never reconnected after the link went dark (%d dials)", len(dials)), nil
	}
	if ok, saw := closedWith(p, es, 1, p.Heartbeat.CloseCode); !ok {
		return verdict(false, "the dead link was not closed with %d (%s): %s", p.Heartbeat.CloseCode, reportedWhere(p), saw), nil
	}
	first, _ := p.Backoff.Window(1, 0)
	notice, rule := deadWithin(p)
	bound := connectedAfter(p) + notice + first.Max
	if _, hi := t.tol.widen(0, bound); dials[1].At-opens[0].At > hi {
		return verdict(false, "the client reconnected %v after the link went dark; the profile notices within %v (%s) and waits %v: %v at most",
			round(dials[1].At-opens[0].At), round(notice), rule, first.Max, round(bound)), nil
	}
	return "ok", nil
}

// closedWith reports whether the client ended attempt n with an error
// close of code, where the profile reports it: in the close frame (the
// server read it, or a fault swallowed it), or on the next connect's
// query; else it says what it saw instead. It reads what has come, and
// waits for nothing.
func closedWith(p *profile.Profile, es []transcript.Entry, n int, code profile.StatusCode) (bool, string) {
	c, ok := closeOf(es, n)
	if sent, sentOK := clientCloseFrame(es, n); sentOK {
		c, ok = sent, true // the frame a black hole swallowed says what the client sent
	}
	if p.Close.InFrame() && (!ok || c.By != profile.Client || c.Code != code) {
		return false, describeClose(c, ok)
	}
	if !p.Close.InFrame() && ok && c.By == profile.Client && c.Code == code {
		return false, fmt.Sprintf("it put %d in the close frame, where the profile's error close carries no code", code)
	}
	if p.Close.InQuery() {
		dials := entriesOf(es, transcript.KindDial)
		if len(dials) <= n {
			return false, "no connect followed to report it"
		}
		if got := dials[n].ReportedCode; got != code {
			return false, fmt.Sprintf("the next connect reported %s=%d", p.Close.Query, got)
		}
	}
	return true, ""
}

// checkStall: "check stall profile": after each handshake that stalled,
// the client gave up at its connect timeout and dialed again after its
// first retry wait: the next dial came within the timeout plus that wait
// of the stalled one's.
func checkStall(pl *player, args []string) (string, error) {
	if len(args) != 1 || args[0] != "profile" {
		return "", fmt.Errorf("check stall takes: profile")
	}
	t, p := pl.t, pl.t.p
	to := p.Connect.Timeout
	if to == 0 {
		return verdict(false, "profile %s has no connect timeout", p.Name), nil
	}
	es := t.Entries()
	dialAt := map[int]time.Duration{}
	for _, e := range es {
		if e.Kind == transcript.KindDial {
			dialAt[e.Attempt] = e.At
		}
	}
	stalls := 0
	for _, e := range es {
		if e.Kind != transcript.KindStall {
			continue
		}
		stalls++
		next, ok := dialAt[e.Attempt+1]
		if !ok {
			return verdict(false, "the client never dialed again after the handshake of attempt %d stalled: no connect timeout ends it; the profile gives up after %v", e.Attempt, to), nil
		}
		w, _ := p.Backoff.Window(failuresBefore(es, e.Attempt), 0)
		lo, hi := t.tol.widen(to+w.Min, to+w.Max)
		if gap := next - dialAt[e.Attempt]; gap < lo || gap > hi {
			return verdict(false, "the retry came %v after the stalled attempt %d began; the profile gives up after %v and waits %v: %v",
				round(gap), e.Attempt, to, window(w.Min, w.Max), window(lo, hi)), nil
		}
	}
	if stalls == 0 {
		return verdict(false, "no handshake stalled"), nil
	}
	return "ok", nil
}

// failuresBefore counts the failures in a row that attempt n ends: those
// since the last open, n's own included.
func failuresBefore(es []transcript.Entry, n int) int {
	opened := 0
	for _, e := range es {
		if e.Kind == transcript.KindOpen && e.Attempt < n {
			opened = max(opened, e.Attempt)
		}
	}
	return n - opened
}

// checkGivesUp: "check gives-up profile": where the profile gives up, the
// client said so after the profile's last attempt and dialed no more;
// where it never does, the client has not given up.
func checkGivesUp(pl *player, args []string) (string, error) {
	if len(args) != 1 || args[0] != "profile" {
		return "", fmt.Errorf("check gives-up takes: profile")
	}
	t, p := pl.t, pl.t.p
	dials := len(entriesOf(t.Entries(), transcript.KindDial))
	last := giveUpAt(p)
	switch {
	case last == 0 && t.gaveUp():
		return verdict(false, "the client gave up after %d attempts; the profile never gives up", dials), nil
	case last == 0:
		return "ok", nil
	case !t.gaveUp():
		return verdict(false, "the client has not given up after %d attempts; the profile %s", dials, givesUpWhen(p)), nil
	case dials != last:
		return verdict(false, "the client gave up after %d attempts; the profile %s", dials, givesUpWhen(p)), nil
	}
	return "ok", nil
}

// checkUptimeReset: "check uptime-reset profile": where the profile resets
// the failure count only after some uptime, a connection that closed at
// once did not reset it, and one up long enough did. The refusals before
// the first open set the count growing; the waits after the first and
// the second connection are compared with the first wait by their
// ratios: where the base is drawn once per client the windows overlap,
// but the ratio of two waits of one client is the schedule's own.
func checkUptimeReset(pl *player, args []string) (string, error) {
	if len(args) != 1 || args[0] != "profile" {
		return "", fmt.Errorf("check uptime-reset takes: profile")
	}
	t, p := pl.t, pl.t.p
	opens := entriesOf(t.Entries(), transcript.KindOpen)
	ws := t.judge(t.Entries(), false)
	if len(opens) < 2 {
		return verdict(false, "the client opened %d connections; the file needs two", len(opens)), nil
	}
	k := opens[0].Attempt - 1 // the refusals before the short connection
	if len(ws) < k+2 || k < 1 {
		return verdict(false, "%d waits seen; the file needs %d", len(ws), k+2), nil
	}
	w1, short, long := ws[0].Waited, ws[k].Waited, ws[k+1].Waited
	lo1, _ := p.Backoff.Window(1, 0)
	loK, _ := p.Backoff.Window(k+1, 0)
	if lo1.Min <= 0 || w1 <= 0 {
		return "ok", nil
	}
	grown := float64(loK.Min) / float64(lo1.Min)
	if grown < 1.2 {
		return "ok", nil // the schedule hardly grows: the windows alone judge it
	}
	// Halfway between the two schedules, in this client's own waits (a
	// base drawn per client is judged the same); on the real clock the
	// margins widen it, as lateness adds to a wait whatever its length.
	mid := (1 + grown) / 2
	lo, hi := t.tol.widen(time.Duration(mid*float64(w1)), time.Duration(mid*float64(w1)))
	if r := float64(short) / float64(w1); short < lo {
		return verdict(false, "the wait after a connection that closed at once was %v, %.2f× the first (%v); the profile resets the count only after %v up, so it waits %.2f× the first",
			round(short), r, round(w1), p.ResetAfter, grown), nil
	}
	if r := float64(long) / float64(w1); long > hi {
		return verdict(false, "the wait after a connection that stayed up %v was %v, %.2f× the first (%v); the count had reset, so it waits the first wait again",
			p.ResetAfter, round(long), r, round(w1)), nil
	}
	return "ok", nil
}

// clientMessage matches a message from the client that is not an answer
// to the server's ping.
func clientMessage(p *profile.Profile) func(transcript.Entry) bool {
	return func(e transcript.Entry) bool {
		return e.Msg != nil && !(p.Heartbeat.Mode == profile.HeartbeatServer && e.Msg.Type == p.Heartbeat.PongType)
	}
}

// profileType reads an emit's type=T: "server-error" is the profile's
// error message type, any other word itself.
func (pl *player) profileType(v string) string {
	if v == "server-error" && pl.t.p.ErrorType != "" {
		return pl.t.p.ErrorType
	}
	return v
}

// fillIDs are the ids "send fill=queue" sends: q1 to qN, N the profile's
// queue bound.
func fillIDs(p *profile.Profile) []string {
	var ids []string
	for i := 1; i <= p.Queue.Limit; i++ {
		ids = append(ids, fmt.Sprintf("q%d", i))
	}
	return ids
}

// sendFill fills the offline queue: one send per id of fillIDs, each of
// which the client must take. Its one line says ok, or which was refused:
// the count is the profile's, so it is not in the line.
func (pl *player) sendFill(typ string) {
	if pl.t.p.Queue.Limit == 0 {
		pl.note("send fill=queue: profile " + pl.t.p.Name + "'s queue has no bound")
		return
	}
	for _, id := range fillIDs(pl.t.p) {
		err := pl.t.Send(typ, map[string]string{"id": id})
		pl.noteSend(id, err)
		if err != nil {
			pl.note(fmt.Sprintf("send fill=queue: %s refused: %v", id, err))
			return
		}
	}
	pl.note("send fill=queue: ok")
}

// noteSend keeps whether the client refused the send of id.
func (pl *player) noteSend(id string, err error) {
	pl.mu.Lock()
	defer pl.mu.Unlock()
	if pl.refused == nil {
		pl.refused = map[string]bool{}
	}
	pl.refused[id] = err != nil
}

// fillQueue lets "check sent" name fill=queue among its ids: the ids
// "send fill=queue" sent.
func fillQueue(sent func(*player, []string) (string, error)) func(*player, []string) (string, error) {
	return func(pl *player, args []string) (string, error) {
		var out []string
		for _, a := range args {
			if a == "fill=queue" {
				out = append(out, fillIDs(pl.t.p)...)
			} else {
				out = append(out, a)
			}
		}
		v, err := sent(pl, out)
		if pl.f.generic() && strings.HasPrefix(v, "FAIL") && len(v) > 300 {
			v = v[:300] + "…" // a full queue's ids are many
		}
		return v, err
	}
}

// checkRefused: "check refused ID...": the client refused the send of
// each id, as a full queue must: with an error to the caller, not by
// dropping it later.
func checkRefused(pl *player, args []string) (string, error) {
	if len(args) == 0 {
		return "", fmt.Errorf("check refused takes the ids of sends")
	}
	pl.mu.Lock()
	defer pl.mu.Unlock()
	for _, id := range args {
		refused, sent := pl.refused[id]
		switch {
		case !sent:
			return "", fmt.Errorf("no send of %s came before", id)
		case !refused:
			return verdict(false, "the send of %s was accepted; a full queue must refuse it, not drop it later", id), nil
		}
	}
	return "ok", nil
}

// sentID is the id a "send" put in a message: its data's "id", or, where
// the profile's codec carries plain text frames (reconnecting-websocket),
// the "id" of the JSON the frame's text holds.
func sentID(m profile.Message) string {
	if id := m.Field("id"); id != "" {
		return id
	}
	var frame string
	if json.Unmarshal(m.Data, &frame) == nil {
		return profile.Message{Data: json.RawMessage(frame)}.Field("id")
	}
	return ""
}

// receivedIDs are the ids of the messages of the send type the server
// received, in order.
func receivedIDs(pl *player) []string {
	typ := pl.sendType()
	var ids []string
	for _, e := range entriesOf(pl.t.Entries(), transcript.KindRecv) {
		if e.Msg != nil && e.Msg.Type == typ {
			ids = append(ids, sentID(*e.Msg))
		}
	}
	return ids
}

// gapCode lets "check reported" name the profile's sequence-gap close
// code as gap: "check reported gap 1".
func gapCode(reported func(*player, []string) (string, error)) func(*player, []string) (string, error) {
	return func(pl *player, args []string) (string, error) {
		if len(args) != 2 || args[0] != "gap" {
			return reported(pl, args)
		}
		r := pl.t.p.Resume
		if r == nil {
			return verdict(false, "profile %s does not resume sessions: it has no gap code", pl.t.p.Name), nil
		}
		code := strconv.Itoa(int(r.GapCloseCode))
		v, err := reported(pl, []string{code, args[1]})
		if strings.HasPrefix(v, "FAIL: ") {
			v = fmt.Sprintf("FAIL: the gap did not make the client close with %s: %s", code, strings.TrimPrefix(v, "FAIL: "))
		}
		return v, err
	}
}

// checkResumed: "check resumed profile": every reconnect asked to resume
// the session: the connection id of the server's first hello, and the
// sequence number of the next event it expects, one past the events it
// had delivered (numbered from 1) before the instant it dialed (a replay
// comes at that instant).
func checkResumed(pl *player, args []string) (string, error) {
	if len(args) != 1 || args[0] != "profile" {
		return "", fmt.Errorf("check resumed takes: profile")
	}
	t, p := pl.t, pl.t.p
	r := p.Resume
	if r == nil {
		return verdict(false, "profile %s does not resume sessions", p.Name), nil
	}
	es := t.Entries()
	id := ""
	for _, e := range es {
		if e.Kind == transcript.KindSend && e.Msg != nil && e.Msg.Type == r.HelloType {
			id = e.Msg.Field(r.IDField)
			break
		}
	}
	dials := entriesOf(es, transcript.KindDial)
	if len(dials) < 2 {
		return verdict(false, "the client did not reconnect"), nil
	}
	for _, d := range dials[1:] {
		u, err := url.Parse(d.URL)
		if err != nil {
			return verdict(false, "dial %d: bad URL %q", d.Attempt, d.URL), nil
		}
		q, err := p.ParseConnectQuery(u.Query())
		if err != nil {
			return verdict(false, "dial %d: %v", d.Attempt, err), nil
		}
		seen := count(t.Events(), func(e Event) bool { return e.Kind == EventMessage && e.Type == eventType && e.At < d.At })
		if want := int64(seen + 1); q.ConnectionID != id || q.Seq != want {
			return verdict(false, "reconnect %d asked for %s=%q %s=%d; want %q and %d, the next event it expects",
				d.Attempt, r.IDParam, q.ConnectionID, r.SeqParam, q.Seq, id, want), nil
		}
	}
	return "ok", nil
}
