package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/wschaos/wschaos/backoff"
	"github.com/wschaos/wschaos/client"
	"github.com/wschaos/wschaos/profile"
	"github.com/wschaos/wschaos/transcript"
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
	out, err := serveClientErr(t, b, want, args...)
	if err != nil {
		t.Fatalf("serve: %v\n%s", err, out)
	}
	return out
}

// serveClientErr is serveClient returning serve's error, its exit.
func serveClientErr(t *testing.T, b backoff.Policy, want string, args ...string) (string, error) {
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
	err := <-done
	return out.String(), err
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
	if !strings.Contains(out, "#1 refuse 503 (refuse 503 attempts=1)") ||
		!strings.Contains(out, "↳ reconnect #2 after 1") || !strings.Contains(out, "(failure 1): ok, within [500ms, 1.5s]") {
		t.Fatalf("serve output:\n%s", out)
	}
	if !strings.Contains(out, "reconnect waits: 1 within the profile, 0 wrong") {
		t.Fatalf("summary missing:\n%s", out)
	}
}

func TestServeCatchesAClientWithTheWrongBackoff(t *testing.T) {
	wrong := backoff.Steps{Delays: []time.Duration{3 * time.Second}} // 3 s where the profile waits 1 s
	out, err := serveClientErr(t, wrong, "↳ reconnect #2", "--fault", "refuse 503 attempts=1")
	if !strings.Contains(out, "(failure 1): WRONG: the profile waits [500ms, 1.5s]") ||
		!strings.Contains(out, "0 within the profile, 1 wrong") {
		t.Fatalf("serve output:\n%s", out)
	}
	// A wrong wait fails the run by default, so serve can gate CI.
	if exitCode(err) != exitFailed || !strings.Contains(err.Error(), "1 reconnect wait was outside the profile") {
		t.Errorf("serve: %v (exit %d), want exit 1", err, exitCode(err))
	}
	// --fail-on-wrong=false: the timeline says WRONG, the exit is 0.
	if _, err := serveClientErr(t, wrong, "↳ reconnect #2", "--fault", "refuse 503 attempts=1", "--fail-on-wrong=false"); err != nil {
		t.Errorf("--fail-on-wrong=false: %v, want exit 0", err)
	}
}

func TestServeRejectsBadFlags(t *testing.T) {
	for _, tc := range []struct{ args, want string }{
		{"--profile discord", `--profile: unknown profile "discord"`},
		{"--profile quee", `(did you mean "queue"?)`},
		{"--profile no-such.yaml", "--profile: cannot read profile"},
		{"--fault explode", `--fault "explode"`},
		{"--addr 127.0.0.1:notaport", "serve: --addr 127.0.0.1:notaport: want host:port, e.g. --addr 127.0.0.1:8080"},
		{"--tolerance 150", "serve: --tolerance 150: want a duration with its unit, e.g. 150ms"},
		{"extra", "unexpected arguments"},
		{"--keep -1", "--keep -1: want 0 (all) or more"},
	} {
		err := serve(context.Background(), strings.Fields(tc.args), &syncBuffer{}, &syncBuffer{})
		if err == nil || !strings.Contains(err.Error(), tc.want) || exitCode(err) != exitUsage {
			t.Errorf("serve %s: %v (exit %d), want exit 2 and an error containing %q", tc.args, err, exitCode(err), tc.want)
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

// A port already taken is not a bad command line: serve says which
// address, which flag, and exits 4.
func TestServeSaysWhichAddressItCannotListenOn(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	addr := ln.Addr().String()
	err = serve(context.Background(), []string{"--addr", addr, "--calm"}, &syncBuffer{}, &syncBuffer{})
	want := "serve: cannot listen on " + addr + ", the server's address (--addr): bind: address already in use; " +
		"another program (another wschaos?) holds it; stop it, or give another, e.g. --addr 127.0.0.1:0"
	if exitCode(err) != exitListen || err.Error() != want {
		t.Errorf("serve --addr %s: exit %d, %v\nwant exit 4, %s", addr, exitCode(err), err, want)
	}
}

// serveRun starts serve with args and returns its output, a function that
// waits for a line, and one that stops serve and returns its error.
func serveRun(t *testing.T, args ...string) (url string, out *syncBuffer, wait func(string) string, stop func() error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	t.Cleanup(cancel)
	out = &syncBuffer{}
	stderr := &syncBuffer{}
	done := make(chan error, 1)
	go func() {
		done <- serve(ctx, append([]string{"--addr", "127.0.0.1:0", "--emit", "0", "--tolerance", "500ms"}, args...), out, stderr)
	}()
	wait = func(part string) string { return waitLine(t, ctx, out, part) }
	banner := out // --json: the banner is on stderr
	if slices.Contains(args, "--json") {
		banner = stderr
	}
	first := waitLine(t, ctx, banner, "wschaos serve: ws://")
	url = strings.Fields(strings.TrimPrefix(first, "wschaos serve: "))[0]
	return url, out, wait, func() error { cancel(); return <-done }
}

// Two clients at once, each with its own ?client=: one is refused and
// retries after 1 s while the other connects in between. Each is judged
// on its own schedule; one judge for both took the second client's first
// dial for the first's reconnect, a few milliseconds after its failure.
func TestServeJudgesTwoClientsEachOnItsOwnSchedule(t *testing.T) {
	url, out, wait, stop := serveRun(t, "--fault", "refuse 503 attempts=1")
	a := client.New(url+"?client=a", &client.Options{Profile: profile.QueueProfile()})
	if err := a.Start(); err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	wait("#1 refuse 503")
	b := client.New(url+"?client=b", &client.Options{Profile: profile.QueueProfile()})
	if err := b.Start(); err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	wait("a: reconnect #3")
	if err := stop(); err != nil {
		t.Fatalf("serve: %v\n%s", err, out)
	}
	if !strings.Contains(out.String(), "a: reconnect #3 after 1") || !strings.Contains(out.String(), "(failure 1): ok") ||
		strings.Contains(out.String(), "WRONG") || strings.Contains(out.String(), "WARNING") {
		t.Errorf("serve output:\n%s", out)
	}
}

// Two connections at once with nothing to tell them apart: serve warns at
// the first overlap.
func TestServeWarnsWhenItCannotTellClientsApart(t *testing.T) {
	url, out, wait, stop := serveRun(t, "--calm")
	for range 2 {
		ws, _, err := websocket.DefaultDialer.Dial(url, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer ws.Close()
	}
	line := wait("WARNING: attempt #2 began while #1 is still up")
	if !strings.Contains(line, "?client=NAME") {
		t.Errorf("warning %q does not say how to tell clients apart", line)
	}
	if err := stop(); err != nil {
		t.Fatalf("serve: %v\n%s", err, out)
	}
}

// --json: every line of stdout is one JSON object; the verdict and the
// summary carry numbers, times in milliseconds since the first dial.
func TestServeJSONLines(t *testing.T) {
	url, out, wait, stop := serveRun(t, "--json", "--fault", "refuse 503 attempts=1")
	c := client.New(url, &client.Options{Profile: profile.QueueProfile()})
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	wait(`"event":"verdict"`)
	if err := stop(); err != nil {
		t.Fatalf("serve: %v\n%s", err, out)
	}
	events := map[string][]map[string]any{}
	for _, l := range strings.Split(strings.TrimSpace(out.String()), "\n") {
		if !strings.HasPrefix(l, `{"event":"`) {
			t.Errorf("line %q does not say first what it is", l)
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("not a JSON line: %q: %v", l, err)
		}
		events[m["event"].(string)] = append(events[m["event"].(string)], m)
	}
	if len(events["start"]) != 1 || events["start"][0]["profile"] != "queue" || events["start"][0]["tolerance_ms"] != 500.0 {
		t.Errorf("start: %v", events["start"])
	}
	if e := events["entry"]; len(e) < 3 || e[0]["kind"] != "dial" || e[0]["at_ms"] != 0.0 || e[1]["kind"] != "refuse" {
		t.Errorf("entries: %v", e)
	}
	v := events["verdict"]
	if len(v) != 1 || v[0]["verdict"] != "ok" || v[0]["min_ms"] != 500.0 || v[0]["max_ms"] != 1500.0 || v[0]["attempt"] != 2.0 {
		t.Errorf("verdict: %v", v)
	}
	if w := v[0]["waited_ms"].(float64); w < 900 || w > 1500 {
		t.Errorf("waited_ms %v", w)
	}
	s := events["summary"]
	if len(s) != 1 || s[0]["ok"] != 1.0 || s[0]["wrong"] != 0.0 || s[0]["attempts"] != 2.0 {
		t.Errorf("summary: %v", s)
	}
}

// --transcript writes every timeline entry to the file, with times since
// the first dial, rounded to the millisecond.
func TestServeTranscriptFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "t.txt")
	url, out, wait, stop := serveRun(t, "--transcript", path, "--fault", "refuse 503 attempts=1")
	c := client.New(url, &client.Options{Profile: profile.QueueProfile()})
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	wait("↳ reconnect #2")
	c.Close()
	wait("#2 close ")
	if err := stop(); err != nil {
		t.Fatalf("serve: %v\n%s", err, out)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(lines) < 4 || !strings.HasPrefix(lines[0], "+0s        #1 dial /ws") || !strings.Contains(lines[1], "#1 refuse 503") ||
		!strings.Contains(string(b), "#2 close ") {
		t.Fatalf("transcript:\n%s", b)
	}
	for _, l := range lines {
		at, err := time.ParseDuration(strings.TrimPrefix(strings.Fields(l)[0], "+"))
		if err != nil || at != at.Round(time.Millisecond) {
			t.Errorf("line %q: time not in whole milliseconds", l)
		}
		if !strings.Contains(out.String(), l) {
			t.Errorf("line %q is not in the timeline", l)
		}
	}
}

// The live timeline counts from the first dial, not from when serve
// started: a client that comes two minutes later starts at +0s.
func TestServeTimelineStartsAtTheFirstDial(t *testing.T) {
	url, out, wait, stop := serveRun(t, "--calm")
	time.Sleep(300 * time.Millisecond) // real time: the server has been up a while when the client comes
	ws, _, err := websocket.DefaultDialer.Dial(url, nil)
	if err != nil {
		t.Fatal(err)
	}
	ws.Close()
	line := wait(" dial /ws")
	stop()
	if !strings.HasPrefix(line, "+0s ") {
		t.Errorf("first dial at %q, want +0s\n%s", line, out)
	}
}

// Two clients with nothing to tell them apart: the second's first dial,
// just after the first was refused, is judged a reconnect far too soon.
// Once their attempts overlap serve warns, and that verdict, now in
// doubt, does not fail the run.
func TestServeDoesNotFailOnAVerdictTheOverlapPutInDoubt(t *testing.T) {
	url, out, wait, stop := serveRun(t, "--fault", "refuse 503 attempts=1")
	a := client.New(url, &client.Options{Profile: profile.QueueProfile()})
	if err := a.Start(); err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	wait("#1 refuse 503")
	b := client.New(url, &client.Options{Profile: profile.QueueProfile()})
	if err := b.Start(); err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	wait("WARNING: attempt #3 began while #2 is still up")
	if err := stop(); err != nil {
		t.Errorf("serve: %v, want exit 0", err)
	}
	if !strings.Contains(out.String(), "reconnect #2 after") || !strings.Contains(out.String(), "WARNING: 1 of the 1 wrong waits came before serve saw several clients at once") {
		t.Errorf("serve output:\n%s", out)
	}
}

// Entries are stamped by the goroutines that record them, so one can
// arrive after another stamped a millisecond later: the timeline shows
// times since the first entry, rounded, never running backwards.
func TestClockFaceCountsFromTheFirstDialAndNeverRunsBackwards(t *testing.T) {
	var c clockFace
	var got []string
	for _, at := range []time.Duration{118*time.Second + 3400*time.Microsecond, 118*time.Second + 5*time.Millisecond, 118*time.Second + 4*time.Millisecond, 120 * time.Second} {
		got = append(got, c.show(transcript.Entry{At: at}).At.String())
	}
	if want := []string{"0s", "2ms", "2ms", "1.997s"}; !slices.Equal(got, want) {
		t.Errorf("shown %q, want %q", got, want)
	}
}
