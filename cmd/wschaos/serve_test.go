package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/wschaos/wschaos/backoff"
	"github.com/wschaos/wschaos/client"
	"github.com/wschaos/wschaos/profile"
)

// syncBuffer is an io.Writer the test can read while serve writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// serveClient runs serve with args, points a queue-profile client with
// backoff b at it, and returns serve's output once want appears in it.
func serveClient(t *testing.T, b backoff.Policy, want string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	out := &syncBuffer{}
	done := make(chan error, 1)
	go func() {
		// A wide tolerance: the reference client's 1 s wait must never be
		// judged wrong on a loaded machine; the wrong client is 2 s off.
		base := []string{"--addr", "127.0.0.1:0", "--emit", "0", "--profile", "queue", "--tolerance", "500ms"}
		done <- serve(ctx, append(base, args...), out, &syncBuffer{})
	}()

	url := waitLine(t, ctx, out, "wschaos serve: ws://")
	url = strings.Fields(strings.TrimPrefix(url, "wschaos serve: "))[0]
	p := profile.QueueProfile()
	p.Backoff = b
	c := client.New(url, &client.Options{Profile: p})
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	waitLine(t, ctx, out, want)
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("serve: %v", err)
	}
	return out.String()
}

func waitLine(t *testing.T, ctx context.Context, out *syncBuffer, part string) string {
	t.Helper()
	for {
		for _, l := range strings.Split(out.String(), "\n") {
			if strings.Contains(l, part) {
				return l
			}
		}
		select {
		case <-ctx.Done():
			t.Fatalf("no line with %q in:\n%s", part, out)
		case <-time.After(5 * time.Millisecond): // real time: serve judges real clients
		}
	}
}

func TestServeJudgesEachReconnectAgainstTheProfile(t *testing.T) {
	queue := profile.QueueProfile().Backoff
	out := serveClient(t, queue, "↳ reconnect #2", "--fault", "refuse 503 attempts=1")
	if !strings.Contains(out, "#1 refuse 503 (on attempts 1: refuse 503)") ||
		!strings.Contains(out, "↳ reconnect #2 after 1") || !strings.Contains(out, "(failure 1): ok, within [500ms, 1.5s]") {
		t.Fatalf("serve output:\n%s", out)
	}
	if !strings.Contains(out, "reconnect waits: 1 within the profile, 0 wrong") {
		t.Fatalf("summary missing:\n%s", out)
	}
}

func TestServeCatchesAClientWithTheWrongBackoff(t *testing.T) {
	wrong := backoff.Steps{Delays: []time.Duration{3 * time.Second}} // 3 s where the profile waits 1 s
	out := serveClient(t, wrong, "↳ reconnect #2", "--fault", "refuse 503 attempts=1")
	if !strings.Contains(out, "(failure 1): WRONG: the profile waits [500ms, 1.5s]") ||
		!strings.Contains(out, "0 within the profile, 1 wrong") {
		t.Fatalf("serve output:\n%s", out)
	}
}

func TestServeRejectsBadFlags(t *testing.T) {
	for _, tc := range []struct{ args, want string }{
		{"--profile discord", `--profile: unknown profile "discord"`},
		{"--profile quee", `(did you mean "queue"?)`},
		{"--profile no-such.yaml", "--profile: cannot read profile"},
		{"--fault explode", `--fault "explode"`},
		{"--addr 127.0.0.1:notaport", "cannot start"},
		{"extra", "unexpected arguments"},
		{"--keep -1", "--keep -1: want 0 (all) or more"},
	} {
		err := serve(context.Background(), strings.Fields(tc.args), &syncBuffer{}, &syncBuffer{})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("serve %s: %v, want an error containing %q", tc.args, err, tc.want)
		}
	}
}

// serveBanner starts serve with args and returns its output once it has
// said what it speaks.
func serveBanner(t *testing.T, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	out := &syncBuffer{}
	done := make(chan error, 1)
	go func() {
		done <- serve(ctx, append([]string{"--addr", "127.0.0.1:0", "--emit", "0", "--calm"}, args...), out, &syncBuffer{})
	}()
	waitLine(t, ctx, out, "judging reconnect waits")
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("serve: %v", err)
	}
	return out.String()
}

// The banner says which profile serve plays and what its messages look
// like, so a user can tell at once whether the client speaks it.
func TestServeBannerSaysWhatItSpeaks(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{nil, `wschaos serve: profile queue: {"type","payload"} messages` + "\n"},
		{[]string{"--profile", "mattermost"}, `wschaos serve: profile mattermost: {"event","data","seq"} events, {"action","seq","data"} requests, {"status","seq_reply"} replies` + "\n"},
		{[]string{"--profile", "phoenix"}, `wschaos serve: profile phoenix: [null, seq, topic, type, payload] arrays, "phx_reply" replies` + "\n"},
	} {
		out := serveBanner(t, tc.args...)
		if !strings.Contains(out, tc.want) {
			t.Errorf("serve %q: no line %q in:\n%s", tc.args, tc.want, out)
		}
		name := strings.TrimSuffix(strings.Fields(tc.want)[3], ":")
		if !strings.Contains(out, "(profile "+name+", seed 1)\n") {
			t.Errorf("serve %q: the start line names another profile:\n%s", tc.args, out)
		}
	}
}

// serve plays a profile file as it plays a shipped profile.
func TestServePlaysAProfileFile(t *testing.T) {
	f := filepath.Join(t.TempDir(), "mine.yaml")
	src, _ := profile.ShippedSource("queue")
	os.WriteFile(f, bytes.Replace(src, []byte("name: queue"), []byte("name: mine"), 1), 0o600)
	out := serveBanner(t, "--profile", f)
	if !strings.Contains(out, `wschaos serve: profile mine: {"type","payload"} messages`) {
		t.Errorf("serve --profile %s:\n%s", f, out)
	}
}

// gatedWriter holds the first write that contains at until open is
// closed: a terminal that stops reading for a while.
type gatedWriter struct {
	syncBuffer
	at   string
	once sync.Once
	open chan struct{}
}

func (g *gatedWriter) Write(p []byte) (int, error) {
	if strings.Contains(string(p), g.at) {
		g.once.Do(func() { <-g.open })
	}
	return g.syncBuffer.Write(p)
}

// TestServeSaysWhatASlowOutputLost: when the timeline's output stalls
// past --keep, serve lets entries go, as documented, but says so on
// stderr while it happens and counts them in its summary line.
func TestServeSaysWhatASlowOutputLost(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	out := &gatedWriter{at: " dial ", open: make(chan struct{})}
	stderr := &syncBuffer{}
	done := make(chan error, 1)
	go func() {
		done <- serve(ctx, []string{"--addr", "127.0.0.1:0", "--emit", "0", "--calm", "--profile", "queue", "--keep", "1"}, out, stderr)
	}()
	url := waitLine(t, ctx, &out.syncBuffer, "wschaos serve: ws://")
	url = strings.Fields(strings.TrimPrefix(url, "wschaos serve: "))[0]
	ws, _, err := websocket.DefaultDialer.DialContext(ctx, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	const n = 3000 // with the printer stalled at the dial, more than two chunks past --keep
	for i := range n {
		if err := ws.WriteMessage(websocket.TextMessage, fmt.Appendf(nil, `{"type":"m","payload":%d}`, i)); err != nil {
			t.Fatal(err)
		}
	}
	// The server answers the close once it has read, and recorded, every
	// frame before it.
	ws.WriteMessage(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""))
	for {
		if _, _, err := ws.ReadMessage(); err != nil {
			break
		}
	}
	ws.Close()
	close(out.open)
	waitLine(t, ctx, &out.syncBuffer, " close 1000")
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("serve: %v", err)
	}
	m := regexp.MustCompile(`wschaos serve: (\d+) timeline entries not printed so far: the output fell more than --keep 1 behind\n`).FindStringSubmatch(stderr.String())
	if m == nil {
		t.Fatalf("stderr does not say entries were lost:\n%s", stderr)
	}
	want := fmt.Sprintf("; %s entries not printed (the output fell behind --keep 1)\n", m[1])
	if !strings.Contains(out.String(), want) {
		t.Errorf("the summary line does not end with %q:\n%s", want, out.String()[max(0, len(out.String())-500):])
	}
	if lost, _ := strconv.Atoi(m[1]); lost < 1024 {
		t.Errorf("%d entries not printed; want at least a chunk, 1,024, of the %d frames", lost, n)
	}
}

// TestServeDropReportAtMostOnceASecond: drops are told at once, then at
// most once a second, and the end tells whatever was not told yet.
func TestServeDropReportAtMostOnceASecond(t *testing.T) {
	var now time.Time
	out := &syncBuffer{}
	d := &dropReport{w: out, keep: 10, now: func() time.Time { return now }}
	d.add(5)                        // told at once
	now = now.Add(time.Second / 2)  // too soon
	d.add(7)                        // counted, not told
	now = now.Add(time.Second / 2)  // a second on
	d.add(1)                        // told, with the total
	now = now.Add(time.Second / 10) // too soon again
	d.add(2)
	d.end()
	d.end() // nothing new to tell
	got := strings.Count(out.String(), "\n")
	for _, n := range []string{"5", "13", "15"} {
		if !strings.Contains(out.String(), "wschaos serve: "+n+" timeline entries not printed so far") {
			t.Errorf("no report of %s in:\n%s", n, out)
		}
	}
	if got != 3 {
		t.Errorf("%d reports, want 3:\n%s", got, out)
	}
	if d.summary() != "; 15 entries not printed (the output fell behind --keep 10)" {
		t.Errorf("summary %q", d.summary())
	}
}
