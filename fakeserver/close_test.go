package fakeserver_test

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/onsi/gomega"
	"github.com/onsi/gomega/gleak"
	"github.com/wschaos/wschaos/chaos"
	"github.com/wschaos/wschaos/fakeserver"
	"github.com/wschaos/wschaos/profile"
	"github.com/wschaos/wschaos/transcript"
	"github.com/wschaos/wschaos/vclock"
)

func TestCloseEndsEverythingAndLeavesNoGoroutine(t *testing.T) {
	g := gomega.NewWithT(t)
	before := gleak.Goroutines()

	p := profile.QueueProfile()
	s := fakeserver.NewUnstartedServer(p)
	s.Clock = vclock.New()
	s.Faults = []chaos.Fault{
		chaos.OnAttempt(1, chaos.Type("pong", chaos.Delay(time.Minute))),
		chaos.OnAttempt(2, chaos.BlackHoleAfter(0)),
		chaos.OnAttempt(3, chaos.Stall(-1)),
	}
	s.Start()

	normal := dial(t, s.URL)
	send(t, normal, p, ping(p, 1))
	waitLine(t, s, "delayed server frame #1")
	hole := dial(t, s.URL)
	waitLine(t, s, "#2 fault black-hole-after 0s attempts=2: black hole")
	stalled := make(chan error, 1)
	go func() {
		_, _, err := websocket.DefaultDialer.DialContext(context.Background(), s.URL, nil)
		stalled <- err
	}()
	waitLine(t, s, "#3 stall")

	s.Close()
	// A goroutine may still be returning from its last call, but none may
	// be blocked: Close waited for every one to finish its work.
	for _, gr := range gleak.Goroutines() {
		if strings.Contains(gr.Backtrace, "wschaos/fakeserver.") && gr.State != "running" && gr.State != "runnable" {
			t.Errorf("server goroutine blocked (%s) after Close:\n%s", gr.State, gr.Backtrace)
		}
	}
	if code := closeCode(readClose(t, normal)); code != 1001 {
		t.Errorf("open connection closed with %d, want 1001", code)
	}
	if err := readClose(t, hole); err == nil {
		t.Error("black-holed connection still open after Close")
	}
	if err := <-stalled; err == nil {
		t.Error("stalled dial succeeded")
	}
	for _, want := range []string{
		`#1 note delayed server frame #1 (event pong) never delivered: connection ended`,
		`#1 close 1001 "server closed" by server`,
		`#2 close 1006 by server: server closed`,
	} {
		if !strings.Contains(s.Transcript().String(), want) {
			t.Errorf("transcript lacks %q:\n%s", want, s.Transcript())
		}
	}
	s.Close() // idempotent
	normal.Close()
	hole.Close()
	g.Eventually(gleak.Goroutines).WithTimeout(patience).ShouldNot(gleak.HaveLeaked(before))
}

// script runs the same exchange against a fresh server and returns its
// transcript.
func script(t *testing.T, seed uint64) string {
	p := profile.MattermostProfile()
	clock := vclock.New()
	s := fakeserver.NewUnstartedServer(p)
	s.Clock = clock
	s.Seed = seed
	s.Faults = []chaos.Fault{
		chaos.OnAttempt(1, chaos.Refuse(503)),
		chaos.Probability(0.5, chaos.Dir(profile.Server, chaos.Duplicate())),
		chaos.Type("posted", chaos.Jitter(10*time.Second)),
		chaos.SeqGap(2),
	}
	s.Start()
	defer s.Close()

	if _, _, err := websocket.DefaultDialer.DialContext(ctx(t), s.URL, nil); !errors.Is(err, websocket.ErrBadHandshake) {
		t.Fatalf("attempt 1: %v, want refused", err)
	}
	ws := dial(t, resumeURL(t, s, "", 0))
	for i := range 3 {
		send(t, ws, p, ping(p, int64(i+1)))
		waitCount(t, s, "recv", i+1)
		s.Emit("typing", map[string]int{"n": i})
	}
	for range 4 {
		s.Emit("posted", nil)
	}
	for sent := 0; sent < len(lines(s, "delayed")); sent++ {
		advance(t, clock)
		waitCount(t, s, `send {"event":"posted"`, sent+1)
	}
	ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(1000, "bye"), time.Now().Add(patience))
	waitLine(t, s, `close 1000 "bye" by client`)
	return s.Transcript().String()
}

func TestSameSeedSameScriptSameTranscript(t *testing.T) {
	first, second := script(t, 42), script(t, 42)
	if first != second {
		t.Fatalf("transcripts differ:\n%s\n---\n%s", first, second)
	}
	for _, want := range []string{"duplicate dir=server prob=0.5", "jitter 10s type=posted: delayed", "seq-gap 2: dropped"} {
		if !strings.Contains(first, want) {
			t.Errorf("the script never exercised %q:\n%s", want, first)
		}
	}
	if other := script(t, 7); other == first {
		t.Errorf("seed 7 gave the same transcript as seed 42: the seed is not used")
	}
}

func TestStartMisusePanics(t *testing.T) {
	mustPanic := func(want string, f func()) {
		t.Helper()
		defer func() {
			r := recover()
			if r == nil || !strings.Contains(r.(string), want) {
				t.Errorf("panic %v, want one mentioning %q", r, want)
			}
		}()
		f()
	}
	s, _ := newServer(t, profile.QueueProfile())
	mustPanic("Start called twice", s.Start)
	mustPanic("nil Profile", fakeserver.NewUnstartedServer(nil).Start)
	bad := fakeserver.NewUnstartedServer(profile.QueueProfile())
	bad.Faults = []chaos.Fault{nameOnly{}}
	mustPanic("neither a handshake, connection nor frame fault", bad.Start)
	bad.Close()
	closed := fakeserver.NewUnstartedServer(profile.QueueProfile())
	closed.Close()
	mustPanic("Start after Close", closed.Start)
}

type nameOnly struct{}

func (nameOnly) String() string { return "name only" }

func TestTranscriptWaitFailsClearly(t *testing.T) {
	s, _ := newServer(t, profile.QueueProfile())
	dial(t, s.URL)
	waitLine(t, s, "open")
	c, cancel := context.WithTimeout(context.Background(), quiet)
	defer cancel()
	err := s.Transcript().Wait(c, func([]transcript.Entry) bool { return false })
	if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "transcript never matched after 2 entries") ||
		!strings.Contains(err.Error(), "#1 open") {
		t.Errorf("Wait error = %v", err)
	}
	if n := s.Transcript().Len(); n != 2 || len(s.Transcript().Entries()) != 2 {
		t.Errorf("Len = %d", n)
	}
}

func TestLoggerGetsEveryTranscriptLine(t *testing.T) {
	var buf strings.Builder
	var mu sync.Mutex
	s := fakeserver.NewUnstartedServer(profile.QueueProfile())
	s.Clock = vclock.New()
	s.Addr = "127.0.0.1:0"
	s.Logger = slog.New(slog.NewTextHandler(lockedWriter{&mu, &buf}, &slog.HandlerOptions{Level: slog.LevelDebug}))
	s.Faults = []chaos.Fault{chaos.Refuse(503)}
	s.Start()
	websocket.DefaultDialer.DialContext(ctx(t), s.URL, nil)
	waitLine(t, s, "refuse 503")
	s.Close()
	mu.Lock()
	defer mu.Unlock()
	if !strings.Contains(buf.String(), `msg="+0s        #1 refuse 503 (refuse 503)"`) {
		t.Errorf("log:\n%s", buf.String())
	}
}

type lockedWriter struct {
	mu *sync.Mutex
	w  *strings.Builder
}

func (l lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// A client that sends its close frame and drops the socket at once, with
// the server's frames still unread, resets the connection: the server's
// next write can fail before its reader has seen the close frame still in
// the buffer. The transcript must still say the client closed with 1000,
// not that it vanished. Each round races the pong against the reset, so
// the round count makes the losing order (the write first) all but
// certain to occur.
func TestCloseFrameThenDropIsRecordedAsTheClientsClose(t *testing.T) {
	p := profile.MattermostProfile()
	s, _ := newServer(t, p)
	const rounds = 60
	for i := 1; i <= rounds; i++ {
		ws := dial(t, s.URL) // the hello stays unread: closing now resets
		send(t, ws, p, ping(p, 1))
		ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(1000, "bye"), time.Now().Add(time.Second))
		ws.NetConn().Close()
		waitCount(t, s, "close ", i)
	}
	if bad := lines(s, "close 1006"); len(bad) > 0 {
		t.Errorf("%d of %d clean closes recorded as the client vanishing:\n%s", len(bad), rounds, strings.Join(bad, "\n"))
	}
	if good := lines(s, `close 1000 "bye" by client`); len(good) != rounds {
		t.Errorf("%d of %d closes recorded as 1000 by the client", len(good), rounds)
	}
}
