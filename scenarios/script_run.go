package scenarios

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/wschaos/wschaos/chaos"
	"github.com/wschaos/wschaos/client"
	"github.com/wschaos/wschaos/fakeserver"
	"github.com/wschaos/wschaos/internal/filecodec"
	"github.com/wschaos/wschaos/profile"
)

const (
	// scriptWait bounds how long a command waits for its expected output;
	// the reference client produces it in milliseconds.
	scriptWait = 10 * time.Second
	// quietFor is how long output must stay unchanged before -rewrite
	// takes it as a command's whole output.
	quietFor = 300 * time.Millisecond
	// pollEvery is how often a waiting command looks again.
	pollEvery = time.Millisecond
	// holdFor is how long a matched output must stay as it is: a line that
	// comes after the expected ones is a difference too (a twin's late
	// replay, say), not something for the next command to absorb.
	holdFor = 30 * time.Millisecond
)

// verbs are the commands a script may use, each one small handler. A
// handler acts; the runner then collects what the client and the server did
// as the command's output.
var verbs = map[string]func(r *scriptRun, c command) error{
	"fault":     (*scriptRun).fault,
	"start":     (*scriptRun).start,
	"send":      (*scriptRun).send,
	"emit":      (*scriptRun).emit,
	"cut":       (*scriptRun).cut,
	"step":      (*scriptRun).step,
	"reconnect": func(r *scriptRun, _ command) error { r.world().cl.Reconnect(); return nil },
	"close":     func(r *scriptRun, _ command) error { return r.world().cl.Close() },
	"check":     (*scriptRun).check,
}

func knownVerbs() string {
	var vs []string
	for v := range verbs {
		vs = append(vs, v)
	}
	return strings.Join(sortedStrings(vs), ", ")
}

func sortedStrings(xs []string) []string { slices.Sort(xs); return xs }

// buildProfile returns a script's profile with its options applied: a
// shipped profile by name, or a profile file at a path relative to dir,
// the scenario file's directory, so a scenario and its profile move
// together.
func buildProfile(dir, name string, options []string) (*profile.Profile, error) {
	p, err := scriptProfile(dir, name)
	if err != nil {
		return nil, err
	}
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

// scriptProfile resolves "# profile: NAME|PATH" from the directory dir.
func scriptProfile(dir, name string) (*profile.Profile, error) {
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

// scriptRun plays one script against one client: the reference, or a twin.
type scriptRun struct {
	s       *script
	ctx     context.Context
	opts    []worldOption
	rewrite bool
	wait    time.Duration

	faults []chaos.Fault
	w      *world
	// Output already attributed to earlier commands.
	serverSeen, clientSeen int
	// idle: the last wait ended because the world was idle for good.
	idle bool
}

// play runs every command and compares its output with the script's. It
// returns the outputs seen, and an error naming the bug and the first
// command whose output differs.
func (r *scriptRun) play() ([][]string, error) {
	var got [][]string
	for _, c := range r.s.cmds {
		if err := verbs[c.verb](r, c); err != nil {
			return got, r.fail(c, fmt.Sprintf("%s: %v", c.verb, err), nil)
		}
		out, ok := r.settle(c)
		got = append(got, out)
		if !ok {
			what := "its output differs"
			if r.idle {
				what += " " + idleNote
			}
			return got, r.fail(c, what, out)
		}
	}
	return got, nil
}

func (r *scriptRun) fail(c command, what string, got []string) error {
	msg := fmt.Sprintf("%s:%d: the scenario checks: %s\n  `%s`: %s", r.s.path, c.line, r.s.header.bug, c, what)
	if got != nil {
		msg += "\n" + diff(c.want, got)
	}
	return fmt.Errorf("%s\n  seed %d (from the file); the file's server and client replay it exactly", msg, r.s.header.seed)
}

// world builds the world on first use: faults must come before it.
func (r *scriptRun) world() *world {
	if r.w == nil {
		h := r.s.header
		p, _ := buildProfile(r.s.dir(), h.profile, h.options) // checked at parse time
		opts := []worldOption{withSeed(h.seed), withFaults(r.faults...)}
		if h.jitter == "none" {
			opts = append(opts, withRand(rand.New(lowSource{})))
		}
		r.w = newWorld(p, append(opts, r.opts...)...)
	}
	return r.w
}

// settle waits for the command's output: until it equals the expected
// output, or, rewriting, until it has been quiet a while. ok is false when
// the expected output never came: by the wait's bound, or once the world
// is idle for good with other output (r.idle).
func (r *scriptRun) settle(c command) (out []string, ok bool) {
	if r.w == nil { // nothing has run yet
		return nil, len(c.want) == 0
	}
	deadline := time.Now().Add(r.wait)
	last, lastChange := r.observe(), time.Now()
	idle := r.w.idleFor()
	for {
		out = last
		switch {
		case !r.rewrite && slices.Equal(out, c.want) && time.Since(lastChange) >= holdFor:
			r.commit()
			return out, true
		case r.rewrite && time.Since(lastChange) >= quietFor:
			r.commit()
			return out, true
		case time.Now().After(deadline) || r.ctx.Err() != nil:
			return out, false
		case !r.rewrite && !slices.Equal(out, c.want) && idle.Idle(r.w.progress()+strings.Join(out, "\n")):
			r.idle = true
			return out, false
		}
		time.Sleep(pollEvery) // real time: waiting for an effect, not for virtual time
		if now := r.observe(); !slices.Equal(now, last) {
			last, lastChange = now, time.Now()
		}
	}
}

// observe renders what happened since the last command: server entries
// and client events merged by virtual time, the server's first at a tie.
// Within one side the order is the order things happened.
func (r *scriptRun) observe() []string {
	type line struct {
		at      time.Duration
		side    int // 0 server, 1 client
		attempt int
		text    string
	}
	var lines []line
	for _, e := range r.w.srv.Transcript().Since(r.serverSeen) {
		lines = append(lines, line{e.At, 0, e.Attempt, e.String()})
	}
	for _, e := range r.w.timeline.snapshot()[r.clientSeen:] {
		side := 1
		if e.action {
			side = -1
		}
		lines = append(lines, line{e.at, side, 0, e.String()})
	}
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

// commit marks everything observed so far as the current command's.
func (r *scriptRun) commit() {
	r.serverSeen = r.w.srv.Transcript().Len()
	r.clientSeen = len(r.w.timeline.snapshot())
}

func (r *scriptRun) fault(c command) error {
	if r.w != nil {
		return fmt.Errorf("faults go before the first action: the server is already running")
	}
	f, err := parseFault(c.args)
	if err != nil {
		return err
	}
	r.faults = append(r.faults, f)
	return nil
}

func (r *scriptRun) start(command) error { return r.world().cl.Start() }

// send sends one request per id: "send m1 m2 [type=T]".
func (r *scriptRun) send(c command) error {
	w := r.world()
	typ := w.p.SendType
	if typ == "" {
		typ = "user_typing"
	}
	var ids []string
	onConnect := false
	for _, a := range c.args {
		switch v, ok := strings.CutPrefix(a, "type="); {
		case ok:
			typ = v
		case a == "when=connected":
			onConnect = true
		default:
			ids = append(ids, a)
		}
	}
	if len(ids) == 0 {
		return fmt.Errorf("name at least one message id")
	}
	sendAll := func(action bool) {
		for _, id := range ids {
			before := w.cl.Queued()
			err := w.cl.Send(r.ctx, typ, map[string]string{"id": id})
			what := "sent"
			switch {
			case err != nil:
				what = err.Error()
			case w.cl.Queued() > before:
				what = "queued"
			}
			w.timeline.add(clientEvent{w.now(), fmt.Sprintf("send %s: %s", id, what), action})
		}
	}
	if !onConnect {
		sendAll(true)
		return nil
	}
	// As an application would: in its handler for the next "connected".
	var once sync.Once
	var unsubscribe func()
	unsubscribe = w.cl.OnState(func(ch client.StateChange) {
		if ch.To == client.StateConnected {
			once.Do(func() { sendAll(false); unsubscribe() })
		}
	})
	return nil
}

// emit pushes server events numbered by "n": "emit 1-3 [type=posted]".
func (r *scriptRun) emit(c command) error {
	w := r.world()
	typ, span := "posted", ""
	for _, a := range c.args {
		if v, ok := strings.CutPrefix(a, "type="); ok {
			typ = v
		} else {
			span = a
		}
	}
	lo, hi, err := numberRange(span)
	if err != nil {
		return err
	}
	for n := lo; n <= hi; n++ {
		w.srv.Emit(typ, map[string]int{"n": n}) // a failed emit is in the transcript
	}
	return nil
}

func numberRange(v string) (int, int, error) {
	a, b, isRange := strings.Cut(v, "-")
	lo, err1 := strconv.Atoi(a)
	hi, err2 := lo, error(nil)
	if isRange {
		hi, err2 = strconv.Atoi(b)
	}
	if err1 != nil || err2 != nil || hi < lo {
		return 0, 0, fmt.Errorf("%q: want a number or a range like 1-5", v)
	}
	return lo, hi, nil
}

// cut cuts every open connection at once: "cut fin|rst|black-hole|code=N".
func (r *scriptRun) cut(c command) error {
	if len(c.args) != 1 {
		return fmt.Errorf("want one of fin, rst, black-hole, code=N")
	}
	var k chaos.Cut
	switch a := c.args[0]; {
	case a == "fin":
		k.Kind = chaos.FIN
	case a == "rst":
		k.Kind = chaos.RST
	case a == "black-hole":
		k.Kind = chaos.BlackHole
	default:
		code, err := codeSel(map[string]string{"code": strings.TrimPrefix(a, "code=")}, 0)
		if err != nil {
			return err
		}
		k = chaos.Cut{Kind: chaos.CloseFrame, Code: code}
	}
	r.world().srv.CutAll(k)
	return nil
}

// step moves the clock to the next pending timer, once the client has
// re-armed its own (a client that is closed or gave up has none).
func (r *scriptRun) step(c command) error {
	w := r.world()
	if len(c.args) != 0 {
		return fmt.Errorf("step takes no arguments: write one step per command, so each step's effects are stated")
	}
	deadline := time.Now().Add(r.wait)
	idle := w.idleFor()
	for w.clock.Pending("client") == 0 && time.Now().Before(deadline) {
		switch w.cl.State() {
		case client.StateGaveUp, client.StateDisconnected:
			deadline = time.Now()
		}
		if idle.Idle(w.progress()) {
			break // the client will arm nothing: step to what is pending
		}
		time.Sleep(pollEvery)
	}
	if _, ok := w.clock.AdvanceToNext(); !ok {
		w.note("idle: no timer pending, nothing will ever happen")
	}
	return nil
}

// A check evaluates one named behaviour over the whole run so far and
// prints "ok: ..." or "FAIL: ...".
func (r *scriptRun) check(c command) error {
	if len(c.args) == 0 {
		return fmt.Errorf("check what? (known: %s)", strings.Join(sortedStrings(checkNames()), ", "))
	}
	chk, ok := checks[c.args[0]]
	if !ok {
		return fmt.Errorf("unknown check %q (known: %s)", c.args[0], strings.Join(sortedStrings(checkNames()), ", "))
	}
	w := r.world()
	verdict, err := chk(w, c.args[1:])
	if err != nil {
		return err
	}
	w.note("check " + strings.Join(c.args, " ") + ": " + verdict)
	if strings.HasPrefix(verdict, "FAIL") {
		// A failed check fails the run, whatever the file expects, and
		// -rewrite never writes it into the file as if it were expected.
		return fmt.Errorf("check %s: %s", strings.Join(c.args, " "), verdict)
	}
	return nil
}

var checks = map[string]func(w *world, args []string) (string, error){
	"delays":    checkDelays,
	"state":     checkState,
	"sent":      checkSent,
	"delivered": checkDelivered,
	"resyncs":   checkCount("resyncs", func(w *world) int { return int(w.resyncs.Load()) }),
	"dials":     checkCount("dials", func(w *world) int { return len(w.entries(fakeserver.KindDial)) }),
	"sockets":   checkCount("most sockets open at once", func(w *world) int { return int(w.sockets.max.Load()) }),
	"closes":    checkCloses,
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

// checkDelays: "check delays 3s..5s x7 192s..194s 300s..302s x2" or exact
// "1s 2s 4s": every measured retry delay in order, and no more.
func checkDelays(w *world, args []string) (string, error) {
	var want []window
	for _, a := range args {
		if n, ok := strings.CutPrefix(a, "x"); ok {
			k, err := strconv.Atoi(n)
			if err != nil || k < 1 || len(want) == 0 {
				return "", fmt.Errorf("%q: a repeat follows a window, like 3s..5s x7", a)
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
			return "", fmt.Errorf("%q: want a delay like 1s or a window like 3s..5s", a)
		}
		want = append(want, window{l, h})
	}
	got := retryDelays(w.srv.Transcript().Entries())
	for i, d := range got {
		if i >= len(want) {
			return verdict(false, "%d retries, want %d", len(got), len(want)), nil
		}
		if d < want[i].lo || d >= want[i].hi {
			return verdict(false, "the delay after failure %d was %v, want %s", i+1, d, want[i]), nil
		}
	}
	return verdict(len(got) == len(want), "%d retries, want %d", len(got), len(want)), nil
}

func (w window) String() string {
	if w.hi == w.lo+1 {
		return w.lo.String()
	}
	return fmt.Sprintf("[%v, %v)", w.lo, w.hi)
}

func checkState(w *world, args []string) (string, error) {
	if len(args) != 1 {
		return "", fmt.Errorf("check state takes one state name")
	}
	got := w.cl.State().String()
	return verdict(got == args[0], "the client is %s, want %s", got, args[0]), nil
}

// checkSent: the server received exactly these ids, in this order.
func checkSent(w *world, args []string) (string, error) {
	typ := w.p.SendType
	if typ == "" {
		typ = "user_typing"
	}
	got := w.sentIDs(typ)
	if len(args) == 1 && args[0] == "none" {
		args = nil
	}
	return verdict(slices.Equal(got, args), "the server received %v, want %v", got, args), nil
}

// checkDelivered: the client delivered posted events n=lo..hi, each once,
// in order.
func checkDelivered(w *world, args []string) (string, error) {
	if len(args) != 1 {
		return "", fmt.Errorf("check delivered takes a range like 1-6")
	}
	lo, hi, err := numberRange(args[0])
	if err != nil {
		return "", err
	}
	got := w.posted()
	return verdict(slices.Equal(got, seq(lo, hi)), "the client delivered %v, want %v", got, seq(lo, hi)), nil
}

func checkCount(what string, count func(*world) int) func(*world, []string) (string, error) {
	return func(w *world, args []string) (string, error) {
		if len(args) != 1 {
			return "", fmt.Errorf("want one number")
		}
		n, err := strconv.Atoi(args[0])
		if err != nil {
			return "", fmt.Errorf("%q is not a number", args[0])
		}
		got := count(w)
		return verdict(got == n, "%s: %d, want %d", what, got, n), nil
	}
}

// checkCloses: "check closes code=4001 1": how many closes had that code.
func checkCloses(w *world, args []string) (string, error) {
	if len(args) != 2 {
		return "", fmt.Errorf("want code=N and a count")
	}
	code, err := codeSel(map[string]string{"code": strings.TrimPrefix(args[0], "code=")}, 0)
	if err != nil {
		return "", err
	}
	return checkCount(fmt.Sprintf("closes with %d", code), func(w *world) int {
		return closesCounted(w.p, w.srv.Transcript().Entries(), code)
	})(w, args[1:])
}
