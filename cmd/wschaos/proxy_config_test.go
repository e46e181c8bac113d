package main

import (
	"context"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/wschaos/wschaos/internal/wstest"
)

// startProxyCmd runs `wschaos proxy args` until the returned stop is
// called; stop returns its error once it has ended.
func startProxyCmd(t *testing.T, args ...string) (out *syncBuffer, stop func() error, ctx context.Context) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	t.Cleanup(cancel)
	run, interrupt := context.WithCancel(ctx) // what runProxy's signal.NotifyContext does on SIGINT
	out = &syncBuffer{}
	done := make(chan error, 1)
	go func() { done <- proxyUntil(run, args, out) }()
	stopped := false
	t.Cleanup(func() {
		if !stopped {
			interrupt()
			<-done
		}
	})
	return out, func() error { stopped = true; interrupt(); return <-done }, ctx
}

// send sends one control request with a JSON body and returns the status
// and the body.
func send(t *testing.T, method, url, body string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(method, url, strings.NewReader(body))
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	hc := &http.Client{Timeout: 5 * time.Second}
	defer hc.CloseIdleConnections()
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// echoThrough dials url, sends msg and reads what comes back.
func echoThrough(t *testing.T, ctx context.Context, url, msg string) (*websocket.Conn, string) {
	t.Helper()
	ws, _, err := websocket.DefaultDialer.DialContext(ctx, url, nil)
	if err != nil {
		t.Fatalf("dial %s: %v", url, err)
	}
	t.Cleanup(func() { ws.Close() })
	if err := ws.WriteMessage(websocket.TextMessage, []byte(msg)); err != nil {
		t.Fatal(err)
	}
	ws.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, got, err := ws.ReadMessage()
	if err != nil {
		t.Fatalf("read through %s: %v", url, err)
	}
	return ws, string(got)
}

// One upstream per process, curl only, no summary on Ctrl-C: now --config
// starts named proxies beside the --upstream one, the control API reaches
// each, and an interrupt prints what each did and exits 0.
func TestProxyConfigStartsNamedProxiesAndSummarisesOnInterrupt(t *testing.T) {
	upstream := "ws" + strings.TrimPrefix(wstest.StartEcho(t, false).URL, "http") + "/ws"
	dir := t.TempDir()
	config := filepath.Join(dir, "proxies.yaml")
	os.WriteFile(config, []byte(`
- name: api
  upstream: `+upstream+`
  faults:
    - fault: duplicate
      select: {dir: server}
- name: off
  upstream: `+upstream+`
  enabled: false
`), 0o600)
	transcript := filepath.Join(dir, "transcript.txt")
	out, stop, ctx := startProxyCmd(t, "--config", config, "--upstream", upstream, "--control", "127.0.0.1:0", "--transcript", transcript)
	control := strings.TrimSpace(strings.SplitN(waitLine(t, ctx, out, "control API at "), "control API at ", 2)[1])
	apiURL := strings.Fields(strings.SplitN(waitLine(t, ctx, out, "wschaos proxy: api: ws://"), "api: ", 2)[1])[0]
	defURL := strings.Fields(strings.TrimPrefix(waitLine(t, ctx, out, "wschaos proxy: ws://"), "wschaos proxy: "))[0]
	waitLine(t, ctx, out, "wschaos proxy: off: disabled")

	ws, got := echoThrough(t, ctx, apiURL+"/ws", "hi")
	if got != "hi" {
		t.Fatalf("through api: %q", got)
	}
	if _, got := echoThrough(t, ctx, defURL+"/ws", "hey"); got != "hey" {
		t.Fatalf("through default: %q", got)
	}
	ws.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, dup, err := ws.ReadMessage(); err != nil || string(dup) != "hi" {
		t.Fatalf("api's duplicate: %q, %v", dup, err)
	}
	status, body := send(t, "GET", control+"/proxies", "")
	if status != 200 || !regexp.MustCompile(`"name":"api".*"name":"default".*"name":"off".*"enabled":false`).MatchString(body) {
		t.Errorf("GET /proxies = %d %s", status, body)
	}
	if status, body := send(t, "POST", control+"/proxies/api/cut", `{"kind":"code","code":4000}`); status != 200 || strings.TrimSpace(body) != `{"cut":1}` {
		t.Errorf("POST /proxies/api/cut = %d %s", status, body)
	}

	if err := stop(); err != nil {
		t.Fatalf("an interrupted proxy returned %v, want nil (exit 0)", err)
	}
	text := out.String()
	for _, want := range []string{
		"wschaos proxy: stopped; summary:",
		"  api: " + apiURL + " → " + upstream + "\n    1 attempt, 1 connection relayed\n    client → upstream: 1 frame (2 bytes), 1 delivered\n    upstream → client: 1 frame (2 bytes), 2 delivered\n    faults acted: cut ×1, duplicate dir=server ×1\n",
		"  default: " + defURL + " → " + upstream + "\n    1 attempt, 1 connection relayed\n",
		"  off: ",
		"    faults acted: none\n",
		"  transcript: " + transcript + "\n",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("the summary lacks %q:\n%s", want, text)
		}
	}
	b, _ := os.ReadFile(transcript)
	if !strings.Contains(string(b), "[api] ") || !strings.Contains(string(b), "\n+") {
		t.Errorf("the transcript does not hold both proxies' lines, api's marked:\n%s", b)
	}
}

// A proxy the control API makes is told as it starts, and one it
// removes is told and still in the summary, marked removed: what it
// relayed before it went is not lost.
func TestProxyMadeAndRemovedThroughTheAPIIsToldAndSummarised(t *testing.T) {
	upstream := "ws" + strings.TrimPrefix(wstest.StartEcho(t, false).URL, "http") + "/ws"
	out, stop, ctx := startProxyCmd(t, "--control", "127.0.0.1:0")
	control := strings.TrimSpace(strings.SplitN(waitLine(t, ctx, out, "control API at "), "control API at ", 2)[1])
	if status, body := send(t, "POST", control+"/proxies", `{"name":"late","upstream":"`+upstream+`","faults":[{"fault":"duplicate","select":{"dir":"server"}}]}`); status != 201 {
		t.Fatalf("POST /proxies = %d %s", status, body)
	}
	lateURL := strings.Fields(strings.SplitN(waitLine(t, ctx, out, "wschaos proxy: late: ws://"), "late: ", 2)[1])[0]
	waitLine(t, ctx, out, "wschaos proxy: late: fault 1: duplicate")
	ws, got := echoThrough(t, ctx, lateURL+"/ws", "hi")
	if got != "hi" {
		t.Fatalf("through late: %q", got)
	}
	ws.Close()
	if status, body := send(t, "DELETE", control+"/proxies/late", ""); status != 204 {
		t.Fatalf("DELETE /proxies/late = %d %s", status, body)
	}
	waitLine(t, ctx, out, "wschaos proxy: late: removed")
	if err := stop(); err != nil {
		t.Fatalf("an interrupted proxy returned %v, want nil (exit 0)", err)
	}
	want := "  late (removed): " + lateURL + " → " + upstream + "\n    1 attempt, 1 connection relayed\n    client → upstream: 1 frame (2 bytes), 1 delivered\n"
	if !strings.Contains(out.String(), want) {
		t.Errorf("the summary lacks %q:\n%s", want, out.String())
	}
}

func TestProxyConfigErrorsNameTheEntryAndField(t *testing.T) {
	dir := t.TempDir()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	taken := ln.Addr().String()
	write := func(text string) string {
		f := filepath.Join(t.TempDir(), "c.json")
		os.WriteFile(f, []byte(text), 0o600)
		return f
	}
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"--config", write(`[{"name":"a","upstream":"ws://127.0.0.1:1/"},{"name":"b","upstrem":"ws://x"}]`)}, exitUsage,
			`proxy [1] "b": upstrem: unknown key (did you mean "upstream"?)`},
		{[]string{"--config", write(`[{"name":"a","upstream":"ws://127.0.0.1:1/","listen":"` + taken + `"}]`)}, exitListen,
			`proxy [0] "a": listen: ` + taken + ` is taken`},
		{[]string{"--config", write(`[{"name":"a","upstream":"ws://127.0.0.1:1/","faults":[{"fault":"seq-gap","args":[1]}]}]`)}, exitUsage,
			`proxy [0] "a": faults[0].fault: seq-gap acts on server events by their sequence number`},
		{[]string{"--config", write(`{"name":"a"}`)}, exitUsage, "a config file is a list of proxies"},
		{[]string{"--config", filepath.Join(dir, "none.json")}, exitUsage, "proxy: --config: open "},
		{[]string{"--config", write(`[]`), "--faults", "f.json"}, exitUsage, "--faults configure the --upstream proxy, and there is none"},
		{[]string{"--config", write(`[{"name":"default","upstream":"ws://127.0.0.1:1/"}]`), "--upstream", "ws://127.0.0.1:1/"}, exitUsage,
			`names a proxy "default", the name of the --upstream proxy`},
	} {
		err := proxyUntil(context.Background(), tc.args, &syncBuffer{})
		if err == nil || exitCode(err) != tc.code || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("proxy %q: exit %d, %v\nwant exit %d and %q", tc.args, exitCode(err), err, tc.code, tc.want)
		}
	}
}

// proxy -v printed escaped slog records (time=… level=DEBUG msg="+1.2s
// #1 recv \"hi\""); now a line per transcript entry, as the transcript
// file reads, its time rounded to the millisecond.
func TestProxyVerbosePrintsReadableLines(t *testing.T) {
	upstream := "ws" + strings.TrimPrefix(wstest.StartEcho(t, false).URL, "http") + "/ws"
	out, stop, ctx := startProxyCmd(t, "--upstream", upstream, "-v")
	url := strings.Fields(strings.TrimPrefix(waitLine(t, ctx, out, "wschaos proxy: ws://"), "wschaos proxy: "))[0]
	echoThrough(t, ctx, url, `say "hi"`)
	waitLine(t, ctx, out, "#1 send")
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	text := out.String()
	for _, want := range []string{"#1 dial /ws\n", "#1 open\n", `#1 recv say "hi"` + "\n"} {
		if !strings.Contains(text, want) {
			t.Errorf("-v lacks %q:\n%s", want, text)
		}
	}
	if strings.Contains(text, "level=DEBUG") || strings.Contains(text, `\"`) {
		t.Errorf("-v printed slog records:\n%s", text)
	}
	for _, l := range strings.Split(text, "\n") {
		if strings.HasPrefix(l, "+") && regexp.MustCompile(`^\+\S*\.\d{4,}`).MatchString(l) {
			t.Errorf("a time finer than a millisecond: %s", l)
		}
	}
}
