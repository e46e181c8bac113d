package conform

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/wschaos/wschaos/chaos"
	"github.com/wschaos/wschaos/internal/filecodec"
	"github.com/wschaos/wschaos/profile"
	"github.com/wschaos/wschaos/transcript"
)

const (
	// quietFor is how long output must stay unchanged before -rewrite
	// takes it as a command's whole output.
	quietFor = 300 * time.Millisecond
	// holdFor is how long a matched output must stay as it is: a line that
	// comes after the expected ones is a difference too (a twin's late
	// replay, say), not something for the next command to absorb.
	holdFor = 30 * time.Millisecond
)

// verbs are the commands a file may use, each one small handler. A handler
// acts; the player then collects what the client and the server did as the
// command's output.
var verbs = map[string]func(pl *player, c fileCmd) error{
	"fault":     func(*player, fileCmd) error { return nil }, // read before the server starts
	"start":     func(pl *player, _ fileCmd) error { pl.t.Connect(); return nil },
	"send":      (*player).send,
	"emit":      (*player).emit,
	"cut":       (*player).cut,
	"step":      (*player).step,
	"reconnect": (*player).reconnect,
	"close":     func(pl *player, _ fileCmd) error { pl.t.Close(); return nil },
	"check":     (*player).check,
}

func knownVerbs() string {
	var vs []string
	for v := range verbs {
		vs = append(vs, v)
	}
	return strings.Join(sortedStrings(vs), ", ")
}

func sortedStrings(xs []string) []string { slices.Sort(xs); return xs }

// buildProfile returns a file's profile with its options applied: a
// shipped profile by name, or a profile file at a path relative to dir,
// the scenario file's directory, so a scenario and its profile move
// together.
func buildProfile(dir, name string, options []string) (*profile.Profile, error) {
	p, err := fileProfile(dir, name)
	if err != nil {
		return nil, err
	}
	return applyOptions(p, options)
}

// applyOptions applies "# profile:" options (limit=N, frames) to a copy
// of p.
func applyOptions(p *profile.Profile, options []string) (*profile.Profile, error) {
	if len(options) == 0 {
		return p, nil
	}
	p = p.Clone()
	for _, o := range options {
		k, v, _ := strings.Cut(o, "=")
		switch k {
		case "limit":
			n, err := strconv.Atoi(v)
			if err != nil || n < 0 {
				return nil, fmt.Errorf("profile option limit=%q: want a queue bound", v)
			}
			p.Queue.Limit = n
		case "frames":
			p.Heartbeat.Mode = profile.HeartbeatFrames
		default:
			return nil, fmt.Errorf("unknown profile option %q (known: limit=N, frames)", o)
		}
	}
	return p, nil
}

// fileProfile resolves "# profile: NAME|PATH" from the directory dir.
func fileProfile(dir, name string) (*profile.Profile, error) {
	if p := profile.ByName(name); p != nil {
		return p, nil
	}
	if filepath.IsAbs(name) {
		return nil, fmt.Errorf("profile %q: want a shipped profile's name, or a path relative to the scenario file", name)
	}
	file := filepath.Join(dir, name)
	fi, err := os.Stat(file)
	switch {
	case err != nil && !strings.ContainsAny(name, "/\\."):
		// A word, not a path: most likely a misspelt shipped profile.
		return nil, fmt.Errorf("profile %q is not one of %s, nor a file in %s%s", name,
			strings.Join(profile.Names(), ", "), dir, filecodec.DidYouMean(name, profile.Names()))
	case err != nil:
		return nil, fmt.Errorf("profile %q: no such file in %s", name, dir)
	case !fi.Mode().IsRegular():
		// A directory or a device (/dev/zero) is never a profile; reading
		// one could block.
		return nil, fmt.Errorf("profile %q: %s is not a regular file", name, file)
	}
	return profile.Load(file)
}

// Name is the file's name without its extension: the scenario's name in
// reports, and what --only and --expect-fail take.
func (s *File) Name() string { return strings.TrimSuffix(filepath.Base(s.path), filepath.Ext(s.path)) }

// Path is where the file was read from.
func (s *File) Path() string { return s.path }

// Bug is the behaviour the file checks, from its "# bug:" line.
func (s *File) Bug() string { return s.header.bug }

// Twins are the twins the file names: clients it must fail.
func (s *File) Twins() []string { return slices.Clone(s.header.twins) }

// Profile is the profile the file was written for, options applied; nil
// when it names none and takes the run's.
func (s *File) Profile() *profile.Profile {
	if s.header.profile == "" {
		return nil
	}
	p, _ := buildProfile(s.dir(), s.header.profile, s.header.options) // checked at parse time
	return p
}

// Scenario is the file as a scenario: the same driver plays it on every
// subject. In virtual time every wait is exact, and with Config.Exact the
// output of each command must equal the file's; on the real clock the
// profile is scaled and the check lines are the verdict.
func (s *File) Scenario() Scenario {
	return Scenario{
		Name:    s.Name(),
		Checks:  s.header.bug,
		file:    s,
		Profile: s.Profile(),
		Applies: func(p *profile.Profile) bool { return s.notFor(p) == "" },
		Why:     s.notFor,
		Faults: func(t *T) []chaos.Fault {
			var fs []chaos.Fault
			for _, c := range s.cmds {
				if c.verb == "fault" {
					words := profileWords(scaleWords(c.args, t.scale), t)
					if leftOut(words) {
						continue
					}
					f, err := parseFault(words)
					if err != nil { // checked at parse time, unscaled
						t.Errorf("%s:%d: %v", s.path, c.line, err)
						continue
					}
					fs = append(fs, f)
				}
			}
			return fs
		},
		Run: func(t *T) {
			if !t.virtual && s.header.virtualOnly {
				t.Skipf("its timing holds only on a virtual clock (# clock: virtual)")
			}
			if !t.virtual && !s.hasOutput() {
				t.Fatalf("%s gives no expected output: on the real clock a command waits for what the file says it brings, "+
					"so with none every check runs at once. Fill the outputs in from the reference client: wschaos run %s --reference --rewrite",
					s.path, s.path)
			}
			(&player{f: s, t: t}).play()
		},
	}
}

// hasOutput reports whether any command of the file has expected output.
func (s *File) hasOutput() bool {
	return slices.ContainsFunc(s.cmds, func(c fileCmd) bool { return len(c.want) > 0 })
}

// notFor says why the file does not apply to p, "" if it does: a file
// written for another profile's wire format, or one whose requirements p
// lacks.
func (s *File) notFor(p *profile.Profile) string {
	if own := s.Profile(); own != nil && p.Name != own.Name {
		return fmt.Sprintf("written for profile %s; this run's is %s", own.Name, p.Name)
	}
	if slices.Contains(s.header.options, "frames") && p.Heartbeat.Mode != profile.HeartbeatFrames {
		return fmt.Sprintf("written for WebSocket ping frames; profile %s's heartbeat is %s", p.Name, p.Heartbeat.Mode)
	}
	for _, r := range s.header.requires {
		if why := requirements[r](p); why != "" {
			return fmt.Sprintf("requires %s: %s", r, why)
		}
	}
	return ""
}

// requirements are what "# requires:" may name, each saying why a profile
// lacks it ("" when it has it).
var requirements = map[string]func(p *profile.Profile) string{
	"queue": func(p *profile.Profile) string {
		return unless(p.Queue.Enabled, "profile %s has no offline queue", p.Name)
	},
	"queue-limit": func(p *profile.Profile) string {
		return unless(p.Queue.Enabled && p.Queue.Limit > 0, "profile %s's queue has no bound", p.Name)
	},
	"resume": func(p *profile.Profile) string {
		return unless(p.Resume != nil, "profile %s does not resume sessions", p.Name)
	},
	"heartbeat": func(p *profile.Profile) string {
		return unless(p.Heartbeat.Mode == profile.HeartbeatClient || p.Heartbeat.Mode == profile.HeartbeatFrames,
			"profile %s's client sends no heartbeat", p.Name)
	},
	"retry-limit": func(p *profile.Profile) string {
		_, retries := p.Backoff.Window(1000, 0)
		return unless(!retries, "profile %s never gives up", p.Name)
	},
	// backoff-cap: the waits reach a declared maximum and hold it for two
	// waits before the client may give up (backoffCap).
	"backoff-cap": func(p *profile.Profile) string {
		_, _, why := backoffCap(p)
		return why
	},
	"connect-timeout": func(p *profile.Profile) string {
		return unless(p.Connect.Timeout > 0, "profile %s has no connect timeout", p.Name)
	},
	"close-code": func(p *profile.Profile) string {
		return unless(p.Close.Code != profile.StatusNoStatus, "profile %s's close sends no code", p.Name)
	},
	// Rules only some profiles have, for the files written for every profile.
	"handshake": func(p *profile.Profile) string {
		return unless(p.Connect.Handshake != nil, "profile %s has no handshake message", p.Name)
	},
	"server-ping": func(p *profile.Profile) string {
		return unless(p.Heartbeat.Mode == profile.HeartbeatServer, "profile %s's server sends no pings", p.Name)
	},
	"client-pings": func(p *profile.Profile) string {
		return unless(p.Heartbeat.Mode == profile.HeartbeatClient, "profile %s's client sends no ping messages", p.Name)
	},
	"dead-rule": func(p *profile.Profile) string {
		return unless(p.Heartbeat.Dead != "", "profile %s has no rule for a dead link", p.Name)
	},
	"reset-on-open": func(p *profile.Profile) string {
		return unless(p.ResetAfter == 0, "profile %s resets its failure count only after %v up", p.Name, p.ResetAfter)
	},
	"reset-after-uptime": func(p *profile.Profile) string {
		return unless(p.ResetAfter > 0, "profile %s resets its failure count on every open", p.Name)
	},
	"error-type": func(p *profile.Profile) string {
		return unless(p.ErrorType != "", "profile %s has no server error message", p.Name)
	},
	"fatal-code": func(p *profile.Profile) string {
		return unless(len(p.Close.Fatal) > 0, "profile %s has no fatal close code", p.Name)
	},
	// The code of the first close since the last open, carried to the next
	// connect URL (close.report query or both, the parameter close.query):
	// mattermost's disconnect_err_code.
	"code-on-connect": func(p *profile.Profile) string {
		return unless(p.Close.InQuery() && p.Close.Query != "",
			"profile %s reports a close's code only in the close frame, not on the next connect URL", p.Name)
	},
}

func unless(ok bool, format string, args ...any) string {
	if ok {
		return ""
	}
	return fmt.Sprintf(format, args...)
}

func requirementNames() []string {
	var names []string
	for n := range requirements {
		names = append(names, n)
	}
	return sortedStrings(names)
}

// scaleWords scales the durations among a fault's words for the real
// clock: "black-hole-after 45s" at 0.1 is "black-hole-after 4.5s".
func scaleWords(args []string, scale float64) []string {
	if scale == 1 || scale == 0 {
		return args
	}
	sc := func(v string) string {
		if lo, hi, ok := strings.Cut(v, ".."); ok {
			return sc1(lo, scale) + ".." + sc1(hi, scale)
		}
		return sc1(v, scale)
	}
	out := slices.Clone(args)
	for i, a := range out {
		if i == 0 {
			continue // the fault's name
		}
		if k, v, ok := strings.Cut(a, "="); ok {
			out[i] = k + "=" + sc(v)
		} else {
			out[i] = sc(a)
		}
	}
	return out
}

func sc1(v string, scale float64) string {
	d, err := time.ParseDuration(v)
	if err != nil || strings.Trim(v, "0123456789.") == "" {
		return v // not a duration: a number, a code, a word
	}
	return scaleDur(d, scale).String()
}

// player plays one file on one T.
type player struct {
	f *File
	t *T

	mu      sync.Mutex
	actions []clientLine // the player's own lines: verdicts, notes
	// Output already attributed to earlier commands.
	serverSeen, clientSeen, actionSeen int
	// prevAt is the last instant the file's expected output reached.
	prevAt time.Duration
	// want counts the kinds of line the file expects so far (real time);
	// now holds the kinds the current command brings.
	want map[string]int
	now  map[string]bool
	// refused holds the ids whose send the client refused.
	refused map[string]bool
}

// clientLine is one line of the client's side of the output.
type clientLine struct {
	at   time.Duration
	text string
}

// note adds a line of the player's own at the clock's now.
func (pl *player) note(text string) {
	pl.mu.Lock()
	pl.actions = append(pl.actions, clientLine{pl.t.clock.Since(pl.t.t0), text})
	pl.mu.Unlock()
	pl.t.poke()
}

// play runs every command; in exact mode each command's output must equal
// the file's, and the first that differs ends the play.
func (pl *player) play() {
	pl.want = map[string]int{}
	for _, c := range pl.f.cmds {
		pl.t.mu.Lock()
		pl.t.steps = append(pl.t.steps, Step{Line: c.line, Command: c.String(), Want: c.want})
		pl.t.mu.Unlock()
		if err := verbs[c.verb](pl, c); err != nil {
			pl.t.Fatalf("%s", pl.failure(c, fmt.Sprintf("%s: %v", c.verb, err)))
		}
		out, ok := pl.settle(c)
		pl.t.mu.Lock()
		pl.t.steps[len(pl.t.steps)-1].Got = out
		pl.t.mu.Unlock()
		if !ok {
			pl.t.Fatalf("%s\n%s", pl.failure(c, "its output differs"+pl.why()), diff(c.want, out))
		}
	}
}

func (pl *player) why() string {
	if pl.t.idleSeen {
		return " (" + errIdle.Error() + ")"
	}
	return ""
}

// failure names the file, the line, the behaviour and the command.
func (pl *player) failure(c fileCmd, what string) string {
	return fmt.Sprintf("%s:%d: the scenario checks: %s\n  `%s`: %s", pl.f.path, c.line, pl.f.header.bug, c, what)
}

// settle waits for the command's output and returns it. In virtual time:
// until it equals the file's, or else until the world is idle (ok false
// then in exact mode only); rewriting, until it has been quiet a while. On
// the real clock: until what the command brings has come, bounded by the
// scaled time it takes in the file and the tolerance.
func (pl *player) settle(c fileCmd) (out []string, ok bool) {
	t := pl.t
	defer pl.commit()
	switch {
	case t.virtual && !t.rewrite:
		// Until the output is the file's, held a moment: then the world
		// is where the file says; else until the world is idle (or the
		// bound), which in exact mode is a failure and otherwise only
		// means the client went its own way, for the checks to judge.
		ctx, cancel := t.waitFor(patience)
		defer cancel()
		var last []string
		var lastChange time.Time
		for {
			w := t.watch()
			if now := pl.observe(); lastChange.IsZero() || !slices.Equal(now, last) {
				last, lastChange = now, time.Now()
			}
			held := time.Since(lastChange)
			if slices.Equal(last, c.want) && held >= holdFor {
				return last, true
			}
			if ctx.Err() != nil {
				t.idleSeen = context.Cause(ctx) == errIdle
				return last, !t.exact
			}
			d := patience
			if slices.Equal(last, c.want) {
				d = holdFor - held
			}
			t.awaitChange(ctx, w, d)
		}
	case t.virtual:
		// Rewriting: whatever comes, once it has been still a while.
		last, lastChange := pl.observe(), time.Now()
		ctx, cancel := t.waitFor(patience)
		defer cancel()
		for ctx.Err() == nil && time.Since(lastChange) < quietFor {
			w := t.watch()
			if now := pl.observe(); !slices.Equal(now, last) {
				last, lastChange = now, time.Now()
				continue
			}
			t.awaitChange(ctx, w, quietFor-time.Since(lastChange))
		}
		return pl.observe(), true
	}
	// The real clock: wait for what the file's output brings, counted by
	// kind, within the scaled time it spans and the tolerance.
	at := pl.prevAt
	pl.now = map[string]bool{}
	for _, l := range c.want {
		if k, when, ok := lineKind(l); ok {
			pl.want[k]++
			pl.now[k] = true
			at = max(at, when)
		} else if when, ok := lineAt(l); ok {
			at = max(at, when)
		}
	}
	span := scaleDur(at-pl.prevAt, t.scale)
	pl.prevAt = at
	_, hi := t.tol.widen(span, span)
	if expectsIdle(c.want) {
		// Nothing may follow: watch for as long as a retry or a ping of
		// a client that did not stop would take to show.
		quietReal(t.ctx, t.quietSpan())
		return pl.observe(), true
	}
	// Bounded from now by the command's own span, and from the start by
	// the time the file gives its output: a command whose lines are none
	// of the kinds waited for (a fault's notes) returns at once, and the
	// next must not be held to its own span alone, or the file falls
	// behind the client it plays against.
	bound := hi
	if _, abs := t.tol.widen(scaleDur(at, t.scale), scaleDur(at, t.scale)); abs-t.clock.Since(t.t0) > bound {
		bound = abs - t.clock.Since(t.t0)
	}
	ctx, cancel := context.WithTimeout(t.ctx, bound+slack)
	defer cancel()
	for {
		w := t.watch()
		if ctx.Err() != nil || pl.reached(false) {
			break
		}
		t.awaitChange(ctx, w, bound+slack)
	}
	// The client's states get a short grace on top: clients announce them
	// at different moments (one says "reconnecting" as its wait begins,
	// another only as it dials again), and waiting for the late ones would
	// spend the very wait a file acts in ("send while away").
	grace, cancelGrace := context.WithTimeout(ctx, stateGrace)
	defer cancelGrace()
	for {
		w := t.watch()
		if grace.Err() != nil || pl.reached(true) {
			break
		}
		t.awaitChange(grace, w, stateGrace)
	}
	return pl.observe(), true
}

// stateGrace is how long a command on the real clock waits for the
// client's states once the server has seen what the command brings.
const stateGrace = 100 * time.Millisecond

// quietSpan is how long the real clock must stay quiet to show that a
// client has stopped: the longest wait its retry could take after the
// failures so far, or its connect timeout, widened by the tolerance. (A
// stopped client has no socket to ping on: only a dial can show.)
func (t *T) quietSpan() time.Duration {
	p := t.p
	d := p.Connect.Timeout
	dials := len(entriesOf(t.Entries(), transcript.KindDial))
	for n := 1; n <= dials+1; n++ {
		if w, ok := p.Backoff.Window(n, 0); ok {
			d = max(d, w.Max)
		}
	}
	_, hi := t.tol.widen(d, d)
	return hi
}

// reached reports whether what the command brings has come: of each kind
// of line its output holds, as many as the file holds so far. A kind the
// command does not bring is not waited for: a client that never sends
// what an earlier command expected (a ping on open) must not make every
// later command wait out its bound, past the moment the file acts in.
// With states false, the client's states are left out.
func (pl *player) reached(states bool) bool {
	got := map[string]int{}
	for _, l := range pl.observeAll() {
		if k, _, ok := lineKind(l); ok {
			got[k]++
		}
	}
	for k, n := range pl.want {
		if pl.now[k] && got[k] < n && (states || !isStateKind(k)) {
			return false
		}
	}
	return true
}

// isStateKind reports whether a line kind is one of the client's states.
func isStateKind(k string) bool {
	switch k {
	case StateConnected, StateReconnecting, StateGaveUp, StateDisconnected, "resync":
		return true
	}
	return false
}

var (
	lineRE = regexp.MustCompile(`^\+(\S+)\s+(?:#\d+ (dial|open|refuse|close|recv|reset|stall|note stalled handshake: client gave up)\b|client (connected|reconnecting|gave-up|disconnected|resync)$|client (got \S+))`)
	atRE   = regexp.MustCompile(`^\+(\S+)\s`)
)

// lineKind reads what an output line counts as on the real clock, and
// when the file has it: the server's record of attempts and of what the
// client sent, the client's states, and the events it delivered (a reply
// to a request is not counted: an adapter need not report one).
func lineKind(l string) (kind string, at time.Duration, ok bool) {
	m := lineRE.FindStringSubmatch(l)
	if m == nil || m[4] == "got reply" {
		return "", 0, false
	}
	at, err := time.ParseDuration(m[1])
	if err != nil {
		return "", 0, false
	}
	return m[2] + m[3] + m[4], at, true
}

func lineAt(l string) (time.Duration, bool) {
	m := atRE.FindStringSubmatch(l)
	if m == nil {
		return 0, false
	}
	at, err := time.ParseDuration(m[1])
	return at, err == nil
}

func expectsIdle(want []string) bool {
	return slices.ContainsFunc(want, func(l string) bool { return strings.HasSuffix(l, idleLine) })
}

const idleLine = "idle: no timer pending, nothing will ever happen"

// observe renders what happened since the last command.
func (pl *player) observe() []string { return pl.render(pl.serverSeen, pl.clientSeen, pl.actionSeen) }

// observeAll renders everything that happened.
func (pl *player) observeAll() []string { return pl.render(0, 0, 0) }

// render merges server entries and client lines by time, the player's own
// lines first at a tie, then the server's. Within one side the order is
// the order things happened.
func (pl *player) render(server, client, actions int) []string {
	type line struct {
		at      time.Duration
		side    int // -1 the player's, 0 server, 1 client
		attempt int
		text    string
	}
	var lines []line
	if pl.f.generic() {
		// The timeline is the profile's: a file for every profile shows
		// only its own lines, and not when they came.
		pl.mu.Lock()
		defer pl.mu.Unlock()
		var out []string
		for _, a := range pl.actions[actions:] {
			out = append(out, "client "+a.text)
		}
		return out
	}
	for _, e := range pl.t.srv.Transcript().Since(server) {
		lines = append(lines, line{e.At, 0, e.Attempt, e.String()})
	}
	for _, e := range pl.t.Events()[client:] {
		lines = append(lines, line{e.At, 1, 0, clientText(e)})
	}
	pl.mu.Lock()
	for _, a := range pl.actions[actions:] {
		lines = append(lines, line{a.at, -1, 0, fmt.Sprintf("%-10s client %s", "+"+a.at.String(), a.text)})
	}
	pl.mu.Unlock()
	sort.SliceStable(lines, func(i, j int) bool {
		a, b := lines[i], lines[j]
		if a.at != b.at {
			return a.at < b.at
		}
		if a.side != b.side {
			return a.side < b.side
		}
		return a.attempt < b.attempt
	})
	out := make([]string, len(lines))
	for i, l := range lines {
		out[i] = strings.TrimRight(l.text, " ")
	}
	return out
}

// clientText is one event of the client's as an output line.
func clientText(e Event) string {
	var s string
	switch e.Kind {
	case EventState:
		s = e.State
	case EventMessage:
		typ := e.Type
		if typ == "" {
			typ = "reply"
		}
		s = "got " + typ
		if len(e.Payload) > 0 && len(e.Payload) <= 60 {
			s += " " + string(e.Payload)
		}
	case EventResync:
		s = "resync"
	default:
		s = string(e.Kind) + ": " + e.Message
	}
	return fmt.Sprintf("%-10s client %s", "+"+e.At.String(), s)
}

// commit marks everything observed so far as the current command's.
func (pl *player) commit() {
	pl.serverSeen = pl.t.srv.Transcript().Len()
	pl.clientSeen = len(pl.t.Events())
	pl.mu.Lock()
	pl.actionSeen = len(pl.actions)
	pl.mu.Unlock()
}

// sendType is what "send" sends: the profile's, or user_typing.
func (pl *player) sendType() string {
	if typ := pl.t.p.SendType; typ != "" {
		return typ
	}
	return "user_typing"
}

// send sends one request per id: "send m1 m2 [type=T] [when=connected]".
func (pl *player) send(c fileCmd) error {
	typ := pl.sendType()
	var ids []string
	onConnect, fill := false, false
	for _, a := range c.args {
		switch v, ok := strings.CutPrefix(a, "type="); {
		case ok:
			typ = v
		case a == "when=connected":
			onConnect = true
		case a == "fill=queue":
			fill = true
		default:
			ids = append(ids, a)
		}
	}
	if fill {
		pl.sendFill(typ)
	}
	if len(ids) == 0 {
		if fill {
			return nil
		}
		return fmt.Errorf("name at least one message id")
	}
	verdict := func(id string, err error) {
		pl.noteSend(id, err)
		what := "ok"
		switch {
		case err != nil && pl.f.generic():
			what = "refused" // the error's words are the client's, and may name the profile's bound
		case err != nil:
			what = err.Error()
		}
		pl.note(fmt.Sprintf("send %s: %s", id, what))
	}
	if !onConnect {
		for _, id := range ids {
			verdict(id, pl.t.Send(typ, map[string]string{"id": id}))
		}
		return nil
	}
	// As an application would: in its handler for the next "connected".
	for _, id := range ids {
		ch := pl.t.SendOnConnected(patience, typ, map[string]string{"id": id})
		go func() { verdict(id, <-ch) }()
	}
	return nil
}

// emit pushes server events numbered by "n": "emit 1-3 [type=posted]".
func (pl *player) emit(c fileCmd) error {
	typ, span := "posted", ""
	for _, a := range c.args {
		if v, ok := strings.CutPrefix(a, "type="); ok {
			typ = pl.profileType(v)
		} else {
			span = a
		}
	}
	lo, hi, err := numberRange(span)
	if err != nil {
		return err
	}
	for n := lo; n <= hi; n++ {
		pl.t.srv.Emit(typ, map[string]int{"n": n}) // a failed emit is in the transcript
	}
	return nil
}

func numberRange(v string) (int, int, error) { return chaos.ParseRange(v) }

// cut cuts every open connection at once: "cut fin|rst|black-hole|code=N".
func (pl *player) cut(c fileCmd) error {
	k, err := parseCut(c.args)
	if err != nil {
		return err
	}
	pl.t.srv.CutAll(k)
	return nil
}

func parseCut(args []string) (chaos.Cut, error) {
	if len(args) != 1 {
		return chaos.Cut{}, fmt.Errorf("want one of fin, rst, black-hole, code=N")
	}
	if c, err := chaos.CutArg(args, 0, nil, chaos.Cut{}); err == nil {
		return c, nil
	}
	code, err := codeSel(map[string]string{"code": strings.TrimPrefix(args[0], "code=")}, 0)
	return chaos.Cut{Kind: chaos.CloseFrame, Code: code}, err
}

// Reconnecter is a subject whose application can ask it to drop its
// connection and open a new one at once (reconnecting-websocket's
// reconnect(), mattermost's WebSocketClient.reconnect()). Files that use
// "reconnect" are skipped for a subject without it, or one whose Reconnect
// returns ErrNotSupported.
type Reconnecter interface {
	Reconnect(ctx context.Context) error
}

// ErrNotSupported is a subject's answer to an optional command its client
// cannot do: the scenario that asks is skipped, not failed.
var ErrNotSupported = errors.New("not supported")

func (pl *player) reconnect(fileCmd) error {
	r, ok := pl.t.subj.(Reconnecter)
	if !ok {
		pl.t.Skipf("the client offers no reconnect: the file asks the application to reconnect")
	}
	err := pl.t.command("reconnect", func() error { return r.Reconnect(pl.t.ctx) })
	if errors.Is(err, ErrNotSupported) {
		pl.t.Skipf("the client offers no reconnect (%v): the file asks the application to reconnect", err)
	}
	return err
}

// step, in virtual time, moves the clock to the next pending timer once
// the client has re-armed its own (a client that is closed or gave up has
// none). On the real clock time moves on its own: settle waits for what
// the step brings.
func (pl *player) step(fileCmd) error {
	t := pl.t
	if !t.virtual {
		return nil
	}
	ctx, cancel := t.waitFor(patience)
	defer cancel()
	for t.vclock.Pending(owner) == 0 && ctx.Err() == nil && !pl.stopped() {
		quietReal(ctx, pollEvery)
	}
	if _, ok := t.vclock.AdvanceToNext(); !ok {
		pl.note(idleLine)
	}
	return nil
}

// stopped reports whether the client's last state arms nothing.
func (pl *player) stopped() bool {
	s := lastState(pl.t.Events())
	return s == StateGaveUp || s == StateDisconnected
}

func lastState(es []Event) string {
	for i := len(es) - 1; i >= 0; i-- {
		if es[i].Kind == EventState {
			return es[i].State
		}
	}
	return ""
}

// check evaluates one named behaviour over the whole run so far. Its
// verdict is a line of output, and a FAIL fails the scenario whatever the
// file expects: -rewrite never writes one into a file.
func (pl *player) check(c fileCmd) error {
	chk := checks[c.args[0]] // validated at parse time
	verdict, err := chk(pl, c.args[1:])
	if err != nil {
		return err
	}
	if !pl.t.virtual {
		// On the real clock what a check reads may still be on its way (a
		// state the client reports late, an event in flight): a failing
		// verdict is looked at again until the tolerance's late margin
		// has passed. A check that something does not happen is a quiet
		// step's, not this.
		_, late := pl.t.tol.widen(0, 0)
		deadline := time.Now().Add(late + stateGrace)
		for strings.HasPrefix(verdict, "FAIL") && time.Now().Before(deadline) && pl.t.ctx.Err() == nil {
			quietReal(pl.t.ctx, 10*pollEvery)
			if verdict, err = chk(pl, c.args[1:]); err != nil {
				return err
			}
		}
	}
	pl.note("check " + strings.Join(c.args, " ") + ": " + verdict)
	if strings.HasPrefix(verdict, "FAIL") {
		pl.t.Errorf("%s", pl.failure(c, verdict))
	}
	return nil
}

// payloadN reads the "n" of an emitted event's payload.
func payloadN(raw json.RawMessage) (int, bool) {
	var v struct {
		N *int `json:"n"`
	}
	if json.Unmarshal(raw, &v) != nil || v.N == nil {
		return 0, false
	}
	return *v.N, true
}

// entriesOf returns the transcript's entries of kind k.
func entriesOf(es []transcript.Entry, k transcript.Kind) []transcript.Entry {
	var out []transcript.Entry
	for _, e := range es {
		if e.Kind == k {
			out = append(out, e)
		}
	}
	return out
}

// scaleDur is d on a clock f times as fast as the profile's.
func scaleDur(d time.Duration, f float64) time.Duration {
	if f == 0 {
		return d
	}
	return time.Duration(float64(d) * f)
}
