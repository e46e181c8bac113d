package chaos_test

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/wschaos/wschaos/chaos"
	"github.com/wschaos/wschaos/profile"
)

// link is a connection as the server would hand it to faults, with the
// server's callbacks faked.
func link(attempt int) *chaos.Link {
	return &chaos.Link{Attempt: attempt, Profile: profile.MattermostProfile(), Rand: rand.New(rand.NewPCG(1, uint64(attempt)))}
}

// stream numbers frames per direction like the server does.
type stream struct{ in, out int }

func (s *stream) server(m profile.Message) chaos.Frame {
	s.out++
	data, _ := profile.MattermostJSON.Encode(m)
	return chaos.Frame{Dir: profile.Server, Index: s.out, Op: 1, Data: data, Msg: &m, Pong: m.Kind == profile.Reply}
}

func (s *stream) client(m profile.Message) chaos.Frame {
	s.in++
	return chaos.Frame{Dir: profile.Client, Index: s.in, Op: 1, Msg: &m}
}

func event(typ string, seq int64) profile.Message {
	return profile.Message{Kind: profile.Event, Type: typ, Seq: seq, HasSeq: true}
}

func pong(seq int64) profile.Message {
	return profile.Message{Kind: profile.Reply, Status: "OK", SeqReply: seq}
}

// run passes frames through f and describes what comes out:
// "e:1 e:2 reply:1 (+5s)".
func run(f chaos.Fault, l *chaos.Link, frames ...chaos.Frame) string {
	var out []string
	for _, fr := range frames {
		for _, o := range f.(chaos.FrameFault).Frame(l, fr) {
			out = append(out, name(o))
		}
	}
	return strings.Join(out, " ")
}

func name(f chaos.Frame) string {
	var s string
	switch {
	case f.Msg == nil:
		s = fmt.Sprintf("#%d", f.Index)
	case f.Msg.Kind == profile.Reply:
		s = fmt.Sprintf("reply:%d", f.Msg.SeqReply)
	case f.Dir == profile.Client:
		s = fmt.Sprintf("c:%s", f.Msg.Type)
	default:
		s = fmt.Sprintf("%s:%d", f.Msg.Type, f.Msg.Seq)
	}
	if f.Delay > 0 {
		s += fmt.Sprintf("(+%v)", f.Delay)
	}
	return s
}

func TestFaultsHaveTheRightCapabilities(t *testing.T) {
	type caps struct{ h, c, f bool }
	capsOf := func(x chaos.Fault) caps {
		_, h := x.(chaos.HandshakeFault)
		_, c := x.(chaos.ConnFault)
		_, f := x.(chaos.FrameFault)
		return caps{h, c, f}
	}
	for _, tc := range []struct {
		fault chaos.Fault
		want  caps
	}{
		{chaos.Refuse(503), caps{h: true}},
		{chaos.Stall(time.Second), caps{h: true}},
		{chaos.ResetHandshake(), caps{h: true}},
		{chaos.AcceptThenClose(chaos.Cut{Kind: chaos.FIN}), caps{c: true}},
		{chaos.BlackHoleAfter(time.Second), caps{c: true}},
		{chaos.NewSessionOnResume(), caps{c: true}},
		{chaos.Drop(), caps{f: true}},
		{chaos.SeqSwap(1), caps{f: true}},
		{chaos.OnAttempt(1, chaos.Refuse(503)), caps{h: true}},
		{chaos.During(0, time.Second, chaos.FINAfter(0)), caps{c: true}},
		{chaos.EveryNth(2, chaos.Probability(0.5, chaos.Drop())), caps{f: true}},
		{chaos.FirstN(1, all{}), caps{true, true, true}},
		{chaos.Dir(profile.Server, all{}), caps{true, true, true}},
		{chaos.OnAttempt(1, handshakeAndFrame{}), caps{h: true, f: true}},
	} {
		if got := capsOf(tc.fault); got != tc.want {
			t.Errorf("%v has capabilities %+v, want %+v", tc.fault, got, tc.want)
		}
	}
}

type all struct{}

func (all) String() string                                   { return "all" }
func (all) Handshake(*chaos.Attempt) *chaos.Refusal          { return &chaos.Refusal{Status: 500} }
func (all) Open(*chaos.Link) []chaos.Step                    { return []chaos.Step{{Cut: chaos.Cut{Kind: chaos.RST}}} }
func (all) Frame(_ *chaos.Link, f chaos.Frame) []chaos.Frame { return nil }

type handshakeAndFrame struct{}

func (handshakeAndFrame) String() string                          { return "hf" }
func (handshakeAndFrame) Handshake(*chaos.Attempt) *chaos.Refusal { return nil }
func (handshakeAndFrame) Frame(_ *chaos.Link, f chaos.Frame) []chaos.Frame {
	return []chaos.Frame{f}
}

func TestFrameSelectorsRejectOtherFaults(t *testing.T) {
	defer func() {
		if r := recover(); r == nil || !strings.Contains(fmt.Sprint(r), "Dir selects frames, but refuse 503 is not a frame fault") {
			t.Errorf("panic = %v", r)
		}
	}()
	chaos.Dir(profile.Server, chaos.Refuse(503))
}

func TestNames(t *testing.T) {
	for _, tc := range []struct {
		fault chaos.Fault
		want  string
	}{
		{chaos.RefuseRetryAfter(429, 5*time.Second), "refuse 429 retry-after=5s"},
		{chaos.Stall(-1), "stall forever"},
		{chaos.AcceptThenClose(chaos.Cut{Code: 4000, Reason: "x"}), `accept-then-close code=4000 reason=x`},
		{chaos.CloseAfter(time.Minute, 1001, ""), "close-after 1m0s code=1001"},
		{chaos.RSTAfter(time.Second), "rst-after 1s"},
		{chaos.BlackHoleAfter(time.Second), "black-hole-after 1s"},
		{chaos.InAttempts([]chaos.Span{{From: 1, To: 1}, {From: 3, To: 3}}, chaos.Drop()), "drop attempts=1,3"},
		{chaos.InAttempts([]chaos.Span{{From: 1, To: 1}, {From: 3, To: 4}, {From: 6, To: 1 << 40}}, chaos.Drop()), "drop attempts=1,3-4,6-1099511627776"},
		{chaos.FromAttempt(2, chaos.Jitter(time.Second)), "jitter 1s from=2"},
		{chaos.During(time.Second, 0, chaos.SwallowPongs()), "swallow-pongs during=1s.."},
		{chaos.During(time.Second, time.Minute, chaos.DelayPongs(time.Second)), "delay-pongs 1s during=1s..1m0s"},
		{chaos.EveryNth(2, chaos.Type("pong", chaos.Index(3, chaos.Duplicate()))), "duplicate index=3 type=pong every=2"},
		{chaos.EveryNth(11, chaos.Drop()), "drop every=11"},
		{chaos.FirstN(2, chaos.Match(func(chaos.Frame) bool { return true }, chaos.Reorder())), "reorder match=func first=2"},
		{chaos.Probability(0.25, chaos.SeqGap(3)), "seq-gap 3 prob=0.25"},
		{chaos.Dir(profile.Client, chaos.Delay(time.Second)), "delay 1s dir=client"},
		{chaos.NewHelloAfter(4), "new-hello-after 4"},
		{chaos.FloodBeforePongs(100), "flood-before-pongs 100"},
	} {
		if got := tc.fault.String(); got != tc.want {
			t.Errorf("String() = %q, want %q", got, tc.want)
		}
	}
}

func TestHandshakeFaults(t *testing.T) {
	a := &chaos.Attempt{N: 1}
	if r := chaos.Refuse(503).Handshake(a); r == nil || r.Status != 503 {
		t.Errorf("Refuse: %+v", r)
	}
	if r := chaos.RefuseRetryAfter(429, time.Second).Handshake(a); r.Status != 429 || r.RetryAfter != time.Second {
		t.Errorf("RefuseRetryAfter: %+v", r)
	}
	if r := chaos.Stall(-1).Handshake(a); r.Stall >= 0 || r.Status != 0 {
		t.Errorf("Stall(-1): %+v; want a stall forever that refuses nothing", r)
	}
	if r := chaos.Stall(0).Handshake(a); r != nil {
		t.Errorf("Stall(0): %+v, want nil", r)
	}
	if r := chaos.ResetHandshake().Handshake(a); !r.Reset {
		t.Errorf("ResetHandshake: %+v", r)
	}
}

func TestAttemptAndTimeSelectors(t *testing.T) {
	refusedOn := func(f chaos.Fault, n int, at time.Duration) bool {
		return f.(chaos.HandshakeFault).Handshake(&chaos.Attempt{N: n, At: at, Rand: rand.New(rand.NewPCG(0, uint64(n)))}) != nil
	}
	refuse := chaos.Refuse(503)
	for _, tc := range []struct {
		fault chaos.Fault
		want  string // attempt 1..6 at 10s each: R refused, . through
	}{
		{chaos.InAttempts([]chaos.Span{{From: 2, To: 2}, {From: 5, To: 5}}, refuse), ".R..R."},
		{chaos.InAttempts([]chaos.Span{{From: 1, To: 1}, {From: 4, To: 5}}, refuse), "R..RR."},
		{chaos.FromAttempt(4, refuse), "...RRR"},
		{chaos.FirstN(2, refuse), "RR...."},
		{chaos.EveryNth(3, refuse), "..R..R"},
		{chaos.During(20*time.Second, 40*time.Second, refuse), ".RR..."},
		{chaos.During(50*time.Second, 0, refuse), "....RR"},
		{chaos.Probability(0, refuse), "......"},
		{chaos.Probability(1, refuse), "RRRRRR"},
	} {
		var got strings.Builder
		for n := 1; n <= 6; n++ {
			if refusedOn(tc.fault, n, time.Duration(n)*10*time.Second) {
				got.WriteByte('R')
			} else {
				got.WriteByte('.')
			}
		}
		if got.String() != tc.want {
			t.Errorf("%v: %s, want %s", tc.fault, got.String(), tc.want)
		}
	}

	cut := chaos.OnAttempt(2, chaos.FINAfter(time.Second)).(chaos.ConnFault)
	if steps := cut.Open(link(1)); steps != nil {
		t.Errorf("attempt 1 got %v", steps)
	}
	if steps := cut.Open(link(2)); len(steps) != 1 || steps[0].After != time.Second || steps[0].Cut.Kind != chaos.FIN {
		t.Errorf("attempt 2 got %v", steps)
	}
}

func TestFrameFaults(t *testing.T) {
	var s stream
	frames := []chaos.Frame{
		s.server(event("hello", 0)), s.server(event("e", 1)), s.server(pong(7)),
		s.server(event("e", 2)), s.server(event("e", 3)),
	}
	for _, tc := range []struct {
		fault chaos.Fault
		want  string
	}{
		{chaos.Drop(), ""},
		{chaos.Index(2, chaos.Drop()), "hello:0 reply:7 e:2 e:3"},
		{chaos.Type("e", chaos.Delay(time.Second)), "hello:0 e:1(+1s) reply:7 e:2(+1s) e:3(+1s)"},
		{chaos.Match(func(f chaos.Frame) bool { return f.Pong }, chaos.Duplicate()), "hello:0 e:1 reply:7 reply:7 e:2 e:3"},
		{chaos.Reorder(), "e:1 hello:0 e:2 reply:7"}, // e:3 held for a frame that never comes
		{chaos.SwallowPongs(), "hello:0 e:1 e:2 e:3"},
		{chaos.DelayPongs(30 * time.Second), "hello:0 e:1 reply:7(+30s) e:2 e:3"},
		{chaos.SeqGap(2), "hello:0 e:1 reply:7 e:3"},
		{chaos.SeqDuplicate(0), "hello:0 hello:0 e:1 reply:7 e:2 e:3"},
		{chaos.SeqSwap(1), "hello:0 reply:7 e:2 e:1 e:3"},
		{chaos.Delay(time.Second), "hello:0(+1s) e:1(+1s) reply:7(+1s) e:2(+1s) e:3(+1s)"},
		{chaos.Dir(profile.Client, chaos.Drop()), "hello:0 e:1 reply:7 e:2 e:3"},
	} {
		if got := run(tc.fault, link(1), frames...); got != tc.want {
			t.Errorf("%v: %q, want %q", tc.fault, got, tc.want)
		}
	}
}

func TestDefaultDirections(t *testing.T) {
	var s stream
	req := s.client(profile.Message{Kind: profile.Request, Type: "ping", Seq: 2, HasSeq: true})
	req.Pong = true // even if a client frame were marked, pong faults are server-side
	for _, f := range []chaos.Fault{chaos.SwallowPongs(), chaos.SeqGap(2), chaos.SeqSwap(2), chaos.NewHelloAfter(2), chaos.FloodBeforePongs(2)} {
		if got := run(f, link(1), req); got != "c:ping" {
			t.Errorf("%v acted on a client frame: %q", f, got)
		}
	}
	for _, f := range []chaos.Fault{chaos.Drop(), chaos.Delay(time.Second), chaos.Duplicate()} {
		if got := run(f, link(1), req); got == "c:ping" {
			t.Errorf("%v left a client frame alone; it acts on both directions", f)
		}
	}
}

func TestCountingSelectorsCountTargetedFramesPerConnection(t *testing.T) {
	var s stream
	var frames []chaos.Frame
	for i := range 4 {
		frames = append(frames, s.server(event("e", int64(i+1))), s.server(pong(int64(i))))
	}
	every2nd := chaos.EveryNth(2, chaos.SwallowPongs())
	if got := run(every2nd, link(1), frames...); got != "e:1 reply:0 e:2 e:3 reply:2 e:4" {
		t.Errorf("every 2nd pong: %q", got)
	}
	first1 := chaos.FirstN(1, chaos.Type("e", chaos.Drop()))
	l := link(1)
	if got := run(first1, l, frames...); got != "reply:0 e:2 reply:1 e:3 reply:2 e:4 reply:3" {
		t.Errorf("first event dropped: %q", got)
	}
	// A new connection counts afresh; the same fault value serves both.
	if got := run(first1, link(2), frames[:3]...); got != "reply:0 e:2" {
		t.Errorf("second connection: %q", got)
	}
}

func TestGatesHandHeldFramesTheirRelease(t *testing.T) {
	var s stream
	frames := []chaos.Frame{s.server(event("e", 1)), s.server(event("e", 2)), s.server(event("e", 3)), s.server(event("e", 4))}
	if got := run(chaos.Index(2, chaos.Reorder()), link(1), frames...); got != "e:1 e:3 e:2 e:4" {
		t.Errorf("Index(2, Reorder()): %q; the held frame must go out after the next", got)
	}
	if got := run(chaos.FirstN(1, chaos.SeqSwap(1)), link(1), frames...); got != "e:2 e:1 e:3 e:4" {
		t.Errorf("FirstN(1, SeqSwap(1)): %q", got)
	}
}

func TestProbabilityAndJitterReplayWithTheSeed(t *testing.T) {
	var s stream
	var frames []chaos.Frame
	for i := range 20 {
		frames = append(frames, s.server(event("e", int64(i))))
	}
	f := chaos.Probability(0.5, chaos.Jitter(time.Second))
	a, b := run(f, link(1), frames...), run(f, link(1), frames...)
	if a != b {
		t.Errorf("same seed, different runs:\n%s\n%s", a, b)
	}
	if c := run(f, link(2), frames...); c == a {
		t.Errorf("another attempt's seed gave the same run: %s", c)
	}
	if n := strings.Count(a, "(+"); n == 0 || n == 20 {
		t.Errorf("p=0.5 jittered %d of 20 frames", n)
	}
	for _, o := range chaos.Jitter(time.Second).Frame(link(3), frames[0]) {
		if o.Delay < 0 || o.Delay >= time.Second {
			t.Errorf("jitter %v outside [0, 1s)", o.Delay)
		}
	}
}

func TestNewHelloAfterStartsOneSessionPerConnection(t *testing.T) {
	var s stream
	l := link(1)
	calls := 0
	l.NewSession = func() (chaos.Frame, bool) {
		calls++
		return s.server(event("hello", 0)), true
	}
	f := chaos.NewHelloAfter(1)
	if got := run(f, l, s.server(event("e", 1)), s.server(event("e", 2))); got != "e:1 hello:0 e:2" {
		t.Errorf("got %q", got)
	}
	run(f, l, s.server(event("e", 1)))
	if calls != 1 {
		t.Errorf("NewSession called %d times on one connection, want 1", calls)
	}
}

func TestNewSessionOnResumeAsksTheServer(t *testing.T) {
	l := link(2)
	called := false
	l.NewSession = func() (chaos.Frame, bool) { called = true; return chaos.Frame{}, true }
	if steps := chaos.NewSessionOnResume().Open(l); steps != nil || !called {
		t.Errorf("steps %v, called %v", steps, called)
	}
}

func TestFloodBeforePongsUsesServerEvents(t *testing.T) {
	var s stream
	l := link(1)
	next := int64(5)
	l.Event = func(typ string, data json.RawMessage) (chaos.Frame, error) {
		next++
		return s.server(event(typ, next)), nil
	}
	got := run(chaos.FloodBeforePongs(2), l, s.server(event("e", 5)), s.server(pong(1)))
	if got != "e:5 flood:6 flood:7 reply:1" {
		t.Errorf("got %q", got)
	}
}

func TestHoldingFaultsSayWhatTheyDo(t *testing.T) {
	var s stream
	l := link(1)
	var notes []string
	l.Note = func(what string) { notes = append(notes, what) }
	run(chaos.Reorder(), l, s.server(event("e", 1)), s.server(event("e", 2)))
	want := "held server frame #1 to swap with the next | sent server frame #1 after #2"
	if got := strings.Join(notes, " | "); got != want {
		t.Errorf("notes %q, want %q", got, want)
	}
}

// A span is held by its ends: a fault on attempts 1-1000000000 neither
// lists them nor fails to reach the last one.
func TestInAttemptsHoldsTheEndsOnly(t *testing.T) {
	build := func(to int) chaos.Fault { return chaos.InAttempts([]chaos.Span{{From: 2, To: to}}, chaos.Refuse(503)) }
	short := testing.AllocsPerRun(10, func() { build(1000) })
	long := testing.AllocsPerRun(10, func() { build(1_000_000) })
	// Spelled out, a thousand times more attempts would take about ten
	// more allocations (a slice doubling); one more is the race detector's
	// noise, seen under -race.
	if long > short+1 {
		t.Errorf("attempts 2-1000000 took %v allocations to build, 2-1000 took %v: the span is spelled out", long, short)
	}
	f := build(1_000_000_000).(chaos.HandshakeFault)
	for n, want := range map[int]bool{1: false, 2: true, 999_999_999: true, 1_000_000_000: true, 1_000_000_001: false} {
		if got := f.Handshake(&chaos.Attempt{N: n}) != nil; got != want {
			t.Errorf("attempt %d refused: %v, want %v", n, got, want)
		}
	}
}

// countFrames is a fault from outside the package with state of its own
// on each connection, as a user would write one.
type countFrames struct{ name string }

func (c *countFrames) String() string { return c.name }
func (c *countFrames) NewState() any  { return new(int) }
func (c *countFrames) Frame(l *chaos.Link, f chaos.Frame) []chaos.Frame {
	n := l.State(c).(*int)
	*n++
	f.Index = *n // shows the count
	return []chaos.Frame{f}
}

// Link.State hands each fault its own state, made by NewState once per
// connection: two faults on one link count apart, and a new link starts
// afresh.
func TestStatefulFaultsKeepStatePerConnection(t *testing.T) {
	a, b := &countFrames{"a"}, &countFrames{"b"}
	l1, l2 := link(1), link(2)
	var s stream
	for range 3 {
		a.Frame(l1, s.server(event("x", 1)))
	}
	if got := a.Frame(l1, s.server(event("x", 1)))[0].Index; got != 4 {
		t.Errorf("a on link 1: count %d, want 4", got)
	}
	if got := b.Frame(l1, s.server(event("x", 1)))[0].Index; got != 1 {
		t.Errorf("b on link 1: count %d, want 1 (its own state)", got)
	}
	if got := a.Frame(l2, s.server(event("x", 1)))[0].Index; got != 1 {
		t.Errorf("a on link 2: count %d, want 1 (a fresh state)", got)
	}
	// Two reorders on one link hold their frames apart.
	r1, r2 := chaos.Reorder(), chaos.Reorder()
	r1.Frame(l1, s.server(event("x", 1)))
	if out := r2.Frame(l1, s.server(event("x", 2))); len(out) != 0 {
		t.Errorf("the second reorder released the first one's frame: %v", out)
	}
}
