package scenarios_test

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wschaos/wschaos/chaos"
	"github.com/wschaos/wschaos/client"
	"github.com/wschaos/wschaos/fakeserver"
	"github.com/wschaos/wschaos/profile"
	"github.com/wschaos/wschaos/transcript"
	"github.com/wschaos/wschaos/vclock"
)

// Determinism: the same seed gives the same transcript, every run. The
// scenario has randomness on both sides, all of it seeded: the client's
// backoff jitter, and a server that swallows each pong with probability
// one half (a draw per frame from its attempt's seeded rand). The first
// two attempts are refused; after that every lost pong makes the client
// close with 4000 at its next heartbeat and resume after a jittered wait.
const (
	// determinismSeed seeds both sides; any seed will do, this one has a
	// healthy mix of kept and swallowed pongs.
	determinismSeed = 20260101
	// determinismRuns is how many times the scenario is replayed.
	determinismRuns = 100
	// determinismSteps is how many clock steps each run takes: about a
	// quarter of an hour of virtual time, a dozen attempts.
	determinismSteps = 40
	// settleWait bounds the real time one step's effects may take; they
	// take milliseconds.
	settleWait = 10 * time.Second
)

func TestSameSeedSameTranscriptEveryRun(t *testing.T) {
	first := replay(t, determinismSeed)
	for _, want := range []string{
		"refuse 503", "swallow-pongs prob=0.5: dropped", "close 1005 by client", "(reports 4000)",
		"resumed", `send {"status":"OK"`, "client reconnecting",
	} {
		if !strings.Contains(first, want) {
			t.Fatalf("the scenario never exercised %q; the check would prove little:\n%s", want, first)
		}
	}
	for run := 2; run <= determinismRuns; run++ {
		if got := replay(t, determinismSeed); got != first {
			t.Fatalf("run %d of seed %d differs from run 1 (replay: go test ./scenarios -run %s):\n%s",
				run, determinismSeed, t.Name(), lineDiff(first, got))
		}
	}
	if other := replay(t, determinismSeed+1); other == first {
		t.Errorf("seed %d gave the same transcript as seed %d: the seed is not used", determinismSeed+1, determinismSeed)
	}
}

// replay runs the scenario once with seed and returns the server's
// transcript followed by the client's timeline.
func replay(t *testing.T, seed uint64) string {
	t.Helper()
	clock := vclock.New()
	srv := fakeserver.NewUnstartedServer(profile.MattermostProfile())
	srv.Clock, srv.Seed = clock.For("server"), seed
	srv.Faults = []chaos.Fault{
		chaos.InAttempts([]chaos.Span{{From: 1, To: 2}}, chaos.Refuse(503)),
		chaos.Probability(0.5, chaos.SwallowPongs()),
	}
	srv.Start()
	defer srv.Close()
	cl := client.New(srv.URL, &client.Options{
		Profile: profile.MattermostProfile(),
		Clock:   clock.For("client"),
		Rand:    rand.New(rand.NewPCG(seed, 1)),
	})
	ob := &observer{clock: clock}
	cl.OnState(ob.state)
	cl.Subscribe("", ob.message)
	if err := cl.Start(); err != nil {
		t.Fatal(err)
	}
	defer cl.Close()

	// Before the first step the client dials, as it does after every step
	// that finds it waiting to retry; after any other step (a heartbeat)
	// something new appears on one side or the other.
	want := tally{dials: 1}
	for step := 0; ; step++ {
		now := ob.settle(t, srv, step, want)
		if step == determinismSteps {
			break
		}
		want = tally{lines: now.lines + 1}
		if now.dials == now.ends {
			want.dials = now.dials + 1
		}
		if _, ok := clock.AdvanceToNext(); !ok {
			t.Fatalf("step %d: no timer pending", step)
		}
	}
	return srv.Transcript().String() + ob.timeline()
}

// observer keeps the client's side: what it announced and delivered,
// stamped with the virtual time.
type observer struct {
	clock *vclock.Clock

	mu                                sync.Mutex
	lines                             []string
	reconnecting, connected, messages int
}

func (o *observer) state(ch client.StateChange) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.add("client " + ch.To.String())
	switch {
	case ch.To == client.StateReconnecting && ch.Err != nil:
		o.reconnecting++
	case ch.To == client.StateConnected:
		o.connected++
	}
}

func (o *observer) message(m profile.Message) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.add("client got " + m.String())
	o.messages++
}

func (o *observer) add(line string) {
	o.lines = append(o.lines, fmt.Sprintf("%-10s %s", "+"+o.clock.Elapsed().String(), line))
}

func (o *observer) timeline() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return strings.Join(o.lines, "\n") + "\n"
}

// tally counts what both sides have done so far.
type tally struct {
	lines   int // transcript entries and client lines
	dials   int // attempts the server saw
	refuses int
	opens   int
	ends    int // attempts refused or closed
	sends   int // frames the server sent
	pings   int // pings it received
	answers int // pings it answered or swallowed
	pinged  int // opened attempts whose ping on open arrived
}

// count tallies the server's transcript.
func count(srv *fakeserver.Server) tally {
	var n tally
	pinged := map[int]bool{}
	es := srv.Transcript().Entries()
	n.lines = len(es)
	for _, e := range es {
		switch e.Kind {
		case transcript.KindDial:
			n.dials++
		case transcript.KindRefuse:
			n.refuses++
			n.ends++
		case transcript.KindOpen:
			n.opens++
		case transcript.KindClose:
			n.ends++
		case transcript.KindSend:
			n.sends++
			if e.Msg != nil && e.Msg.Kind == profile.Reply {
				n.answers++
			}
		case transcript.KindRecv:
			if e.Msg != nil && e.Msg.Type == "ping" {
				n.pings++
				pinged[e.Attempt] = true
			}
		case transcript.KindFault:
			if strings.Contains(e.Note, "dropped") {
				n.answers++
			}
		}
	}
	n.pinged = len(pinged)
	return n
}

// settle waits until what the last step set off has begun (as many lines
// and dials as want) and has all happened, so the next step finds both
// sides still: every attempt dialled refused or opened, every open with
// its ping, every ping answered or swallowed, every frame the server sent
// delivered, every open announced, every end of an attempt answered by the
// client's retry timer, and the client's one timer armed. It returns the
// tally it settled at.
func (o *observer) settle(t *testing.T, srv *fakeserver.Server, step int, want tally) tally {
	t.Helper()
	deadline := time.Now().Add(settleWait)
	for {
		n, why := o.unsettled(srv, want)
		if why == "" {
			return n
		}
		if time.Now().After(deadline) {
			t.Fatalf("step %d never settled: waiting for %s\n%s%s", step, why, srv.Transcript(), o.timeline())
		}
		time.Sleep(100 * time.Microsecond) // real time: waiting for other goroutines, not for the clock
	}
}

// unsettled tallies both sides and says what the run still waits for, ""
// if nothing.
func (o *observer) unsettled(srv *fakeserver.Server, want tally) (tally, string) {
	n := count(srv)
	o.mu.Lock()
	defer o.mu.Unlock()
	n.lines += len(o.lines)
	switch {
	case n.lines < want.lines:
		return n, "the step's effect"
	case n.dials < want.dials:
		return n, "the client's dial"
	case n.dials != n.refuses+n.opens:
		return n, "an attempt to be refused or opened"
	case n.pinged != n.opens:
		return n, "the ping the client sends on open"
	case n.pings != n.answers:
		return n, "a ping to be answered or swallowed"
	case o.messages != n.sends:
		return n, fmt.Sprintf("the client to deliver %d frames (it has %d)", n.sends, o.messages)
	case o.connected != n.opens:
		return n, "the client to announce an open"
	case o.reconnecting != n.ends:
		return n, "the client to arm its retry"
	case o.clock.Pending("client") != 1:
		return n, "the client to arm its timer"
	}
	return n, ""
}

// lineDiff shows where two transcripts part: the lines before as
// context, then each side's lines up to where they meet again.
func lineDiff(want, got string) string {
	a, b := strings.Split(want, "\n"), strings.Split(got, "\n")
	pre := 0
	for pre < len(a) && pre < len(b) && a[pre] == b[pre] {
		pre++
	}
	suf := 0
	for suf < len(a)-pre && suf < len(b)-pre && a[len(a)-1-suf] == b[len(b)-1-suf] {
		suf++
	}
	var out strings.Builder
	for _, l := range a[max(0, pre-3):pre] {
		out.WriteString("  " + l + "\n")
	}
	side := func(mark string, ls []string) {
		for i, l := range ls {
			if i == diffLines {
				fmt.Fprintf(&out, "%s … %d more lines\n", mark, len(ls)-i)
				return
			}
			out.WriteString(mark + " " + l + "\n")
		}
	}
	side("-", a[pre:len(a)-suf])
	side("+", b[pre:len(b)-suf])
	return out.String()
}

// diffLines is how many differing lines of each side lineDiff shows: the
// first difference is what matters, the rest usually follows from it.
const diffLines = 20
