package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/wschaos/wschaos/chaos"
	"github.com/wschaos/wschaos/chaos/spec"
	"github.com/wschaos/wschaos/fakeserver"
	"github.com/wschaos/wschaos/internal/filecodec"
	"github.com/wschaos/wschaos/profile"
	"github.com/wschaos/wschaos/proxy"
	"github.com/wschaos/wschaos/timeline"
	"github.com/wschaos/wschaos/transcript"
)

// defaultSchedule is what serve does to a client that connects without
// --fault: one of each common failure, in the order a client meets them,
// then a healthy server. Each line is a fault in the scenario files' words.
var defaultSchedule = []string{
	"close-after 20s code=1001 attempts=1", // a server restart after 20 s
	"refuse 503 attempts=2",                // the restarted server is not ready
	"accept-then-close attempts=3",         // upgrades, then falls over
	"black-hole-after 10s attempts=4",      // a half-open link: the heartbeat must notice
}

const (
	// defaultTolerance widens every backoff window when judging a real
	// client on the real clock: timers fire late and loopback dials take
	// time. Documented in the README; --tolerance changes it.
	defaultTolerance = 150 * time.Millisecond
	// defaultEmit is how often serve pushes an event to every connection,
	// so a client has something to receive and resume.
	defaultEmit = 10 * time.Second
	// displayPrecision rounds real-clock times for reading; the judge
	// works on the exact ones.
	displayPrecision = time.Millisecond
	// defaultKeep bounds the transcript a serve or proxy that runs for
	// days holds: each entry is printed (serve) or can be written
	// (proxy --transcript) as it comes, so memory need not keep them all.
	defaultKeep = 10000
)

const serveUsage = `usage: wschaos serve [flags]

Runs the fake server on loopback, plays a profile and a chaos schedule, and
prints a live timeline: every attempt, frame, fault and close, times since
the first dial, and after each reconnect the wait before it and whether the
profile allows it. Point a client at the printed URL. Ctrl-C stops it and
prints a summary.

Exit codes: 0 every reconnect wait was within the profile, 1 a wait was
WRONG (the default, so serve can gate CI; --fail-on-wrong=false exits 0
whatever the waits), 2 bad command line, 4 cannot listen on --addr.

Several clients at once are judged each on its own schedule: told apart by
the profile's connection id where it has one, else by a "client" query
parameter (ws://127.0.0.1:8080/ws?client=tab-2). With neither, the first
time two attempts are up at once serve warns that it cannot tell them
apart, and judges no more waits; a WRONG said before then is in doubt (it
may be one client's first dial taken for another's reconnect) and does not
fail the run.

--json writes one JSON object per line on stdout instead of the timeline:
{"event":"start"}, then "entry", "verdict", "warning" and "lost" objects
as they happen, and a "summary" at the end; times are in milliseconds.
--transcript FILE writes every timeline entry to FILE as it is recorded,
and never lets one go before it is written.

The timeline is a live display: when the output falls behind by more than
--keep entries, the oldest unprinted ones are let go rather than slow the
server down. serve then says so on stderr (at most once a second), marks
the gap in the timeline, and its summary counts the entries not printed.
Give --keep 0 to print every entry, whatever the memory it takes.

Without --fault it plays the default schedule: attempt 1 is closed with 1001
after 20 s, attempt 2 is refused with 503, attempt 3 is accepted then closed,
attempt 4 goes half-open after 10 s, and later attempts are left alone.

`

func runServe(args []string, stdout, stderr io.Writer) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return serve(ctx, args, stdout, stderr)
}

// serve runs until ctx ends; it is runServe with its output and its end
// given, for tests.
func serve(ctx context.Context, args []string, out, stderr io.Writer) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.Usage = func() { fmt.Fprint(fs.Output(), serveUsage); fs.PrintDefaults() }
	prof := fs.String("profile", defaultProfile, profileFlag("protocol profile to play"))
	addr := fs.String("addr", "127.0.0.1:8080", "address to listen on (port 0 picks a free one)")
	seed := fs.Uint64("seed", 1, "seed of the faults' random choices; the same seed replays them")
	emit := fs.Duration("emit", defaultEmit, "push an event to every connection this often (0: never)")
	tol := fs.Duration("tolerance", defaultTolerance, "how far outside the profile's window a wait may fall on the real clock, e.g. 150ms")
	calm := fs.Bool("calm", false, "inject no faults at all")
	keep := fs.Int("keep", defaultKeep, "transcript entries held in memory; older ones are let go once printed (0: all)")
	failOnWrong := fs.Bool("fail-on-wrong", true, "exit 1 if any reconnect wait was wrong; false: exit 0 whatever the waits")
	asJSON := fs.Bool("json", false, "write one JSON object per line on stdout instead of the timeline")
	transcript := fs.String("transcript", "", "file to write every timeline entry to, as it is recorded; the server waits for it rather than lose one")
	var faults []string
	fs.Func("fault", `a fault, in the scenario files' words, e.g. "refuse 503 attempts=1-3" (repeatable; replaces the default schedule)`,
		func(v string) error { faults = append(faults, v); return nil })
	if err := parseFlags(fs, args, out); err != nil {
		return usageErr(err)
	}
	if fs.NArg() > 0 {
		return usageErr(fmt.Errorf("serve: unexpected arguments %q", fs.Args()))
	}
	p, err := loadProfile(*prof)
	if err != nil {
		return usageErr(fmt.Errorf("serve: %w", err))
	}
	switch {
	case *calm:
		faults = nil
	case len(faults) == 0:
		faults = defaultSchedule
	}
	built, err := buildFaults(faults)
	if err != nil {
		return usageErr(err)
	}

	if *keep < 0 {
		return usageErr(fmt.Errorf("serve: --keep %d: want 0 (all) or more", *keep))
	}
	if err := checkAddr("serve", "addr", *addr); err != nil {
		return err
	}
	srv := fakeserver.NewUnstartedServer(p)
	srv.Addr, srv.Seed, srv.Faults = *addr, *seed, built
	srv.Transcript().Keep(*keep)
	var tf *serveTranscript
	if *transcript != "" {
		f, err := os.Create(*transcript)
		if err != nil {
			return usageErr(fmt.Errorf("serve: --transcript: %w", err))
		}
		// Pinned before the first connection: no entry is let go before
		// it is written.
		tf = &serveTranscript{f: f, w: bufio.NewWriter(f), stderr: stderr, pin: srv.Transcript().Pin()}
		defer tf.pin.Release()
	}
	if err := start(srv); err != nil {
		if tf != nil {
			tf.f.Close()
		}
		return err
	}
	defer srv.Close()

	o := &serveOut{w: &lockedWriter{w: out}, json: *asJSON, stderr: stderr}
	o.start(srv.URL, p, *seed, built, *tol)
	if proxy.BeyondLoopback(*addr) {
		o.warn(fmt.Sprintf("--addr %s is reachable from other hosts: anyone on the network can connect and is shown the faults", *addr))
	}

	judge := timeline.NewClients(p)
	judge.Tolerance = *tol
	var sum summary
	drops := &dropReport{w: stderr, keep: *keep, now: time.Now}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		follow(ctx, srv.Transcript(), judge, o, &sum, drops)
	}()
	if *emit > 0 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			pushEvents(ctx, srv, p, *emit)
		}()
	}
	writing, stopWriting := context.WithCancel(context.Background())
	wrote := make(chan struct{})
	if tf != nil {
		go func() {
			defer close(wrote)
			tf.run(writing)
		}()
	}
	<-ctx.Done()
	wg.Wait()
	if tf != nil {
		srv.Close() // records the connections' ends before the file closes
		stopWriting()
		<-wrote
		tf.write(tf.pin.Take())
	}
	stopWriting()
	bad, doubt := sum.wrong(), judge.InDoubt()
	if doubt > 0 {
		o.warn(fmt.Sprintf("%d of the %d wrong waits came before serve saw several clients at once: each may be one client's first dial taken for another's reconnect, so they do not fail the run", doubt, bad))
		bad -= doubt
	}
	o.summary(&sum, drops)
	drops.end()
	if tf != nil {
		if err := tf.close(*transcript); err != nil {
			return err
		}
	}
	if bad > 0 && *failOnWrong {
		return &exitError{code: exitFailed, err: fmt.Errorf("serve: %d reconnect wait%s outside the profile (--fail-on-wrong=false to exit 0 anyway)", bad, plural(bad))}
	}
	return nil
}

func plural(n int) string {
	if n == 1 {
		return " was"
	}
	return "s were"
}

// buildFaults reads each fault with the shared vocabulary.
func buildFaults(lines []string) ([]chaos.Fault, error) {
	b := spec.Default()
	var out []chaos.Fault
	for _, line := range lines {
		words := strings.Fields(line)
		if len(words) == 0 {
			return nil, fmt.Errorf("serve: --fault %q: empty", line)
		}
		f, err := b.Line(words)
		if err != nil {
			hint := ""
			if name, _, _ := spec.Words(words); name != "" && b.Makers[name] == nil {
				hint = filecodec.DidYouMean(name, b.Names())
			}
			return nil, fmt.Errorf("serve: --fault %q%s: %w", line, hint, err)
		}
		out = append(out, f)
	}
	return out, nil
}

// start starts srv, turning Start's panic (it is httptest-shaped) into an
// error a command can report: a listen failure with exitListen, naming
// --addr.
func start(srv *fakeserver.Server) (err error) {
	defer func() {
		if r := recover(); r != nil {
			if msg := fmt.Sprint(r); strings.Contains(msg, "failed to listen on") {
				err = listenError("serve", "addr", srv.Addr, "the server's address", msg)
				return
			}
			err = fmt.Errorf("serve: cannot start: %v", r)
		}
	}()
	srv.Start()
	return nil
}

// follow prints each transcript entry as it arrives, with the judge's
// verdict after every reconnect, and what arrived before ctx ended; drops
// counts the entries let go before they were printed.
func follow(ctx context.Context, tr *transcript.Transcript, judge *timeline.Clients, o *serveOut, sum *summary, drops *dropReport) {
	seen := 0
	var face clockFace
	for {
		last := tr.WaitBeyond(ctx, seen) != nil
		es, lost := tr.Tail(seen)
		if lost > 0 {
			o.lost(lost)
			seen += lost
			drops.add(lost)
		}
		for _, e := range es {
			seen++
			if idleEmit(e) {
				continue
			}
			sum.see(e)
			o.entry(face.show(e))
			v, ok, warning := judge.See(e)
			if warning != "" {
				o.warn(warning)
			}
			if ok {
				sum.judge(v)
				o.verdict(v)
			}
		}
		if last {
			return
		}
	}
}

// idleEmit reports whether e notes an event pushed while no client was
// there: noise in a timeline.
func idleEmit(e transcript.Entry) bool {
	return e.Kind == transcript.KindNote && strings.HasPrefix(e.Note, "emit ")
}

// clockFace shows entries' times as a reader follows them: since the
// first entry shown (the first dial: the time before a client came is
// nobody's), rounded to displayPrecision, and never earlier than the line
// above. Entries are recorded by several goroutines, each stamping its
// own time, so arrival order can run a millisecond behind the stamps; the
// judge works on the exact ones.
type clockFace struct {
	base, last time.Duration
	started    bool
}

func (c *clockFace) show(e transcript.Entry) transcript.Entry {
	if !c.started {
		c.base, c.started = e.At, true
	}
	e.At = max((e.At - c.base).Round(displayPrecision), c.last)
	c.last = e.At
	return e
}

// dropReport counts the timeline entries let go before they were printed
// and says so on stderr as it happens, at most once a second, so a slow
// terminal is never mistaken for a quiet client.
type dropReport struct {
	w     io.Writer
	keep  int
	now   func() time.Time
	total int       // entries let go in all
	said  int       // of which stderr has been told
	last  time.Time // when stderr was last told
}

// add counts n more entries let go, and tells stderr unless it was told
// less than a second ago.
func (d *dropReport) add(n int) {
	d.total += n
	if now := d.now(); d.said == 0 || now.Sub(d.last) >= time.Second {
		d.tell()
		d.last = now
	}
}

func (d *dropReport) tell() {
	fmt.Fprintf(d.w, "wschaos serve: %d timeline entries not printed so far: the output fell more than --keep %d behind\n", d.total, d.keep)
	d.said = d.total
}

// end tells stderr the final count, if it has not been told.
func (d *dropReport) end() {
	if d.total > d.said {
		d.tell()
	}
}

// summary is what the summary line adds about dropped entries: nothing if
// none were.
func (d *dropReport) summary() string {
	if d.total == 0 {
		return ""
	}
	return fmt.Sprintf("; %d entries not printed (the output fell behind --keep %d)", d.total, d.keep)
}

// pushEvents emits a numbered event to every connection every interval.
func pushEvents(ctx context.Context, srv *fakeserver.Server, p *profile.Profile, every time.Duration) {
	typ := "posted"
	if p.Resume == nil {
		typ = "panel.updated"
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for n := 1; ; n++ {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			srv.Emit(typ, map[string]int{"n": n}) // with no client the server notes it
		}
	}
}

// summary counts what the timeline showed.
type summary struct {
	mu                                 sync.Mutex
	attempts, opens, ok, bad, unjudged int
}

func (s *summary) see(e transcript.Entry) {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch e.Kind {
	case transcript.KindDial:
		s.attempts++
	case transcript.KindOpen:
		s.opens++
	}
}

func (s *summary) judge(v timeline.Verdict) {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case v.Unjudged != "":
		s.unjudged++
	case v.Wrong():
		s.bad++
	default:
		s.ok++
	}
}

// wrong is how many waits were judged outside the profile.
func (s *summary) wrong() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.bad
}

func (s *summary) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return fmt.Sprintf("%d attempts, %d opened; reconnect waits: %d within the profile, %d wrong, %d not judged",
		s.attempts, s.opens, s.ok, s.bad, s.unjudged)
}

// lockedWriter serialises lines from the follower and the main goroutine.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}
