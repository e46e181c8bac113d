package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"reflect"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/wschaos/wschaos/internal/wstest"
	"github.com/wschaos/wschaos/proxy"
)

// ctl runs `wschaos ctl args` and returns its stdout and error.
func ctl(t *testing.T, args ...string) (string, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	err := run(append([]string{"ctl"}, args...), &out, &errOut)
	if errOut.Len() > 0 {
		t.Errorf("ctl %q wrote on stderr: %q", args, errOut.String())
	}
	return out.String(), err
}

// mustCtl is ctl that must succeed.
func mustCtl(t *testing.T, args ...string) string {
	t.Helper()
	out, err := ctl(t, args...)
	if err != nil {
		t.Fatalf("ctl %q: %v", args, err)
	}
	return out
}

// ctl drives a real proxy's control API end to end, as a user would from a
// shell: the address and token from the environment, faults in the
// scenario files' words, tables and --json.
func TestCtlDrivesARealProxy(t *testing.T) {
	upstream := "ws" + strings.TrimPrefix(wstest.StartEcho(t, false).URL, "http") + "/ws"
	p := proxy.NewUnstartedServer(upstream)
	p.ControlAddr, p.ControlToken = "127.0.0.1:0", "s3cret"
	p.Start()
	t.Cleanup(p.Close)
	t.Setenv(controlAddrEnv, p.ControlURL+"/")
	t.Setenv(controlTokenEnv, "s3cret")

	for _, tc := range []struct {
		args []string
		want string
		spec proxy.FaultSpec
	}{
		{[]string{"swallow-pongs"}, "added fault 1 to proxy default: swallow-pongs\n", proxy.FaultSpec{Fault: "swallow-pongs"}},
		{[]string{"delay 200ms dir=client"}, "added fault 2 to proxy default: delay 200ms dir=client\n",
			proxy.FaultSpec{Fault: "delay", Args: []string{"200ms"}, Select: map[string]string{"dir": "client"}}},
		{[]string{"close-after 10s", "reason=going away", "attempts=2"}, "added fault 3 to proxy default: close-after 10s code=1001 reason=\"going away\" attempts=2\n",
			proxy.FaultSpec{Fault: "close-after", Args: []string{"10s"}, Select: map[string]string{"reason": "going away", "attempts": "2"}}},
	} {
		if out := mustCtl(t, append([]string{"faults", "add"}, tc.args...)...); out != tc.want {
			t.Errorf("faults add %q: %q, want %q", tc.args, out, tc.want)
		}
		list := p.ListFaults()
		if got := list[len(list)-1].Spec; got == nil || !reflect.DeepEqual(*got, tc.spec) {
			t.Errorf("faults add %q installed %+v, want %+v", tc.args, got, tc.spec)
		}
	}
	want := "ID  FAULT\n" +
		"1   swallow-pongs\n" +
		"2   delay 200ms dir=client\n" +
		"3   close-after 10s code=1001 reason=\"going away\" attempts=2\n"
	if out := mustCtl(t, "faults"); out != want {
		t.Errorf("faults:\n%s\nwant:\n%s", out, want)
	}
	var list proxy.FaultList
	if err := json.Unmarshal([]byte(mustCtl(t, "faults", "--json")), &list); err != nil || !reflect.DeepEqual(list.Faults, p.ListFaults()) {
		t.Errorf("faults --json: %+v, %v; want the API's list", list, err)
	}
	if out := mustCtl(t, "faults", "rm", "1"); out != "removed fault 1 from proxy default\n" {
		t.Errorf("faults rm: %q", out)
	}
	if _, err := ctl(t, "faults", "rm", "1"); exitCode(err) != exitFailed || !strings.Contains(err.Error(), "ctl faults rm: the proxy refused (HTTP 404): id: no fault with id 1") {
		t.Errorf("faults rm twice: exit %d, %v", exitCode(err), err)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	mustCtl(t, "faults", "clear")
	ws, _, err := websocket.DefaultDialer.DialContext(ctx, p.URL+"/ws", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	if err := ws.WriteMessage(websocket.TextMessage, []byte("hi")); err != nil {
		t.Fatal(err)
	}
	if _, _, err := ws.ReadMessage(); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(mustCtl(t, "status"), "\n")
	if len(lines) != 4 || lines[0] != "proxy default: 1 attempt, 1 open" ||
		!strings.HasPrefix(lines[1], "ATTEMPT  STATE  OPENED") ||
		!regexpMatch(`^1        open   \S+ +\S+ +1 frame +1 frame +/ws\S*$`, lines[2]) {
		t.Errorf("status:\n%s", strings.Join(lines, "\n"))
	}
	var st map[string]any
	if err := json.Unmarshal([]byte(mustCtl(t, "--json", "status")), &st); err != nil || st["open"] != 1.0 {
		t.Errorf("status --json: %v, %v", st, err)
	}
	if len(p.ListFaults()) != 0 {
		t.Errorf("faults clear left %+v", p.ListFaults())
	}

	u, _ := url.Parse(p.URL)
	_, err = ctl(t, "--control", u.Host, "status")
	if exitCode(err) != exitFailed || !strings.Contains(err.Error(), "ctl status: what answers at http://"+u.Host+" (from --control) is not a proxy's control API: HTTP 400: ") ||
		!strings.HasSuffix(err.Error(), "give the address of the proxy's --control, not its --listen") {
		t.Errorf("the proxy's client port as --control: exit %d, %v", exitCode(err), err)
	}

	_, err = ctl(t, "--token", "nope", "status")
	if exitCode(err) != exitFailed || !strings.Contains(err.Error(), "the proxy refused (HTTP 401): Authorization: want Authorization: Bearer TOKEN") ||
		!strings.Contains(err.Error(), "ctl sends --token, which defaults to $WSCHAOS_CONTROL_TOKEN") {
		t.Errorf("a wrong token: exit %d, %v", exitCode(err), err)
	}
}

// A control address where nothing listens says so, where the address came
// from, and how to start a proxy there.
func TestCtlSaysWhenNothingAnswers(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	t.Setenv(controlAddrEnv, addr)
	_, err = ctl(t, "status")
	want := "ctl status: no proxy answers at http://" + addr + " (the control address, from $WSCHAOS_CONTROL): connection refused; " +
		"start one with its control API there, e.g. wschaos proxy --upstream ws://127.0.0.1:8080/ws --control " + addr
	if exitCode(err) != exitFailed || err.Error() != want {
		t.Errorf("exit %d, %v\nwant exit 1 and %s", exitCode(err), err, want)
	}
}

// A bad command line is told in the user's words, with exit 2, before any
// request is sent.
func TestCtlCommandLineErrors(t *testing.T) {
	t.Setenv(controlAddrEnv, "127.0.0.1:1") // nothing may be sent
	for _, tc := range []struct {
		args []string
		want string
	}{
		{nil, "ctl: name a command (cut, disable, enable, faults, proxies, status)"},
		{[]string{"staus"}, `ctl: unknown command "staus" (did you mean "status"?)`},
		{[]string{"status", "--jsn"}, "ctl: unknown flag --jsn (did you mean --json?)"},
		{[]string{"status", "now"}, `ctl status: want no arguments, got ["now"]`},
		{[]string{"faults", "add"}, "ctl faults add: name a fault, e.g. faults add swallow-pongs (known: accept-then-close,"},
		{[]string{"faults", "add", "refuze 503"}, `ctl faults add "refuze 503" (did you mean "refuse"?): unknown fault "refuze"`},
		{[]string{"faults", "add", "drop dir=sideways"}, `ctl faults add "drop dir=sideways": fault drop: select.dir: "sideways": want "client" or "server"`},
		{[]string{"faults", "add", "new-session-on-resume"}, "needs a server that owns its sessions"},
		{[]string{"faults", "ad", "drop"}, `ctl faults: unknown command "ad" (did you mean "add"?)`},
		{[]string{"faults", "rm", "first"}, "ctl faults rm first: want a fault id, a number that 'wschaos ctl faults' shows"},
		{[]string{"cut"}, "ctl cut: want rst, fin, black-hole or code N, e.g. cut rst or cut code 4000"},
		{[]string{"cut", "rts"}, `ctl cut rts (did you mean "rst"?): want rst, fin`},
		{[]string{"cut", "code", "1005"}, "ctl cut code 1005: want a close code a client may receive"},
		{[]string{"cut", "rst", "now"}, `ctl cut rst: takes no more words, got ["now"]`},
		{[]string{"cut", "code", "4000", strings.Repeat("x", 124)}, "ctl cut code 4000: the reason is 124 bytes; a close frame carries at most 123"},
		{[]string{"proxies", "add", "web"}, "ctl proxies add web: --upstream is required, e.g. --upstream ws://127.0.0.1:8080/ws"},
		{[]string{"proxies", "add", "web", "--upstream", "ws://h/ws", "--profile", "mattermot"}, `(did you mean "mattermost"?)`},
		{[]string{"proxies", "add", "web", "--upstream", "ws://h/ws", "--listen", "9000"}, "--listen 9000: want host:port"},
		{[]string{"status", "--upstream", "ws://h/ws"}, "ctl: --upstream, --listen and --profile are for 'proxies add NAME'"},
		{[]string{"--control", "localhost", "status"}, "ctl: --control localhost: want host:port or http://host:port, e.g. --control 127.0.0.1:8082"},
	} {
		_, err := ctl(t, tc.args...)
		if exitCode(err) != exitUsage || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("ctl %q: exit %d, %v\nwant exit 2 and %q", tc.args, exitCode(err), err, tc.want)
		}
	}
}

// -h, wherever it stands, prints ctl's usage on stdout, an exit 0.
func TestCtlHelp(t *testing.T) {
	t.Setenv(controlTokenEnv, "do-not-print-me")
	for _, args := range [][]string{{"ctl", "-h"}, {"ctl", "faults", "add", "--help"}, {"help", "ctl"}} {
		var out, errOut bytes.Buffer
		err := run(args, &out, &errOut)
		if !errors.Is(err, flag.ErrHelp) || !strings.HasPrefix(out.String(), "usage: wschaos ctl") || errOut.Len() != 0 {
			t.Errorf("wschaos %q: %v, stdout %.40q, stderr %q", args, err, out.String(), errOut.String())
		}
		if strings.Contains(out.String(), "do-not-print-me") {
			t.Errorf("wschaos %q prints the token", args)
		}
	}
	var out bytes.Buffer
	run([]string{"-h"}, &out, io.Discard)
	if !strings.Contains(out.String(), "  ctl ") {
		t.Errorf("wschaos -h does not list ctl:\n%s", out.String())
	}
}

func TestControlBase(t *testing.T) {
	for in, want := range map[string]string{
		"127.0.0.1:8082":         "http://127.0.0.1:8082",
		"http://127.0.0.1:8082/": "http://127.0.0.1:8082",
		":8082":                  "http://127.0.0.1:8082",
		"[::1]:8082":             "http://[::1]:8082",
		"https://proxy.lan:443":  "https://proxy.lan:443",
		"localhost":              "",
		"ftp://h:1":              "",
		"http://h:1/faults":      "",
		"h:http":                 "",
	} {
		got, err := controlBase(in)
		if got != want || (err != nil) != (want == "") {
			t.Errorf("controlBase(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
}

// fakeAPI stands in for the control API's proxy-level endpoints, which
// api.go promises, answering each request with the next canned answer and
// recording it as "METHOD PATH BODY".
type fakeAPI struct {
	*httptest.Server
	mu      sync.Mutex
	seen    []string
	answers map[string]fakeAnswer // by "METHOD PATH"
}

type fakeAnswer struct {
	status int
	body   string
}

func newFakeAPI(t *testing.T, answers map[string]fakeAnswer) *fakeAPI {
	f := &fakeAPI{answers: answers}
	f.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		key := r.Method + " " + r.URL.EscapedPath()
		f.mu.Lock()
		f.seen = append(f.seen, strings.TrimSpace(key+" "+string(body)))
		f.mu.Unlock()
		a, ok := f.answers[key]
		if !ok {
			a = fakeAnswer{404, `{"error":"no endpoint"}`}
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(a.status)
		io.WriteString(w, a.body)
	}))
	t.Cleanup(f.Close)
	t.Setenv(controlAddrEnv, f.URL)
	t.Setenv(controlTokenEnv, "")
	return f
}

func (f *fakeAPI) requests() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := f.seen
	f.seen = nil
	return out
}

// The commands of the new endpoints send what api.go lists and print the
// answers readably, or as the API's JSON with --json.
func TestCtlProxyLevelCommands(t *testing.T) {
	info := `{"name":"web","listen":"127.0.0.1:9100","upstream":"ws://127.0.0.1:8080/ws","enabled":true,"faults":[],"attempts":0,"open":0}`
	list := `{"proxies":[{"name":"default","listen":"127.0.0.1:8081","upstream":"ws://127.0.0.1:8080/ws","profile":"mattermost","enabled":false,"faults":[{"id":1,"fault":"swallow-pongs"}],"attempts":12,"open":0},` + info + "]}"
	f := newFakeAPI(t, map[string]fakeAnswer{
		"POST /cut":                {200, `{"cut":2}`},
		"POST /proxies/web/cut":    {200, `{"cut":1}`},
		"POST /disable":            {204, ""},
		"POST /proxies/web/enable": {204, ""},
		"GET /proxies":             {200, list},
		"POST /proxies":            {201, info},
		"DELETE /proxies/web":      {204, ""},
		"DELETE /proxies/gone":     {404, `{"error":"no proxy named \"gone\"","field":"name"}`},
		"GET /proxies/wbe/status":  {404, `{"error":"no proxy named \"wbe\"","field":"name"}`},
		"DELETE /proxies/x":        {404, `{"error":"no proxy named \"x\" (proxies: default, web)","field":"name"}`},
		"POST /proxies/web/reset":  {404, `{"error":"no endpoint POST \"/proxies/web/reset\" (known: GET/POST /faults, PUT/DELETE /faults/{id}, POST /reset, GET /status)"}`},
		"GET /status":              {404, `{"error":"no endpoint GET \"/status\": unprefixed endpoints address the proxy named \"default\", and there is none; address a proxy as /proxies/{name}/status"}`},
		"POST /proxies/web/faults": {201, `{"id":4,"fault":"swallow-pongs","spec":{"fault":"swallow-pongs"}}`},
		"GET /proxies/web/status":  {200, `{"enabled":false,"attempts":3,"open":1,"connections":[{"attempt":2,"url":"/ws?v=1","state":"closed","opened_at_ms":1234.567,"closed_at_ms":3000,"open_for_ms":1765.433,"client_to_upstream":{"frames":1,"bytes":5,"delivered":1},"upstream_to_client":{"frames":7,"bytes":70,"delivered":5,"dropped":2}},{"attempt":3,"url":"/ws?v=1","state":"open","opened_at_ms":95123,"open_for_ms":417,"client_to_upstream":{},"upstream_to_client":{"frames":1,"delayed":1}}]}`},
	})
	for _, tc := range []struct {
		args      []string
		out, sent string
	}{
		{[]string{"cut", "rst"}, "cut 2 connections of proxy default with rst\n", `POST /cut {"kind":"rst"}`},
		{[]string{"cut", "code", "4000", "--proxy", "web"}, "cut 1 connection of proxy web with a close frame 4000\n", `POST /proxies/web/cut {"kind":"code","code":4000}`},
		{[]string{"--proxy", "default", "cut", "code=1001"}, "cut 2 connections of proxy default with a close frame 1001\n", `POST /cut {"kind":"code","code":1001}`},
		{[]string{"disable"}, "proxy default disabled: its connections were cut with rst, and new ones are refused until 'wschaos ctl enable'\n", "POST /disable"},
		{[]string{"--proxy", "web", "enable"}, "proxy web enabled: it accepts clients\n", "POST /proxies/web/enable"},
		{[]string{"proxies"}, "" +
			"NAME     LISTEN          UPSTREAM                PROFILE     STATE     FAULTS  OPEN  ATTEMPTS\n" +
			"default  127.0.0.1:8081  ws://127.0.0.1:8080/ws  mattermost  disabled  1       0     12\n" +
			"web      127.0.0.1:9100  ws://127.0.0.1:8080/ws  -           enabled   0       0     0\n", "GET /proxies"},
		{[]string{"proxies", "--json"}, list + "\n", "GET /proxies"},
		{[]string{"proxies", "add", "web", "--upstream", "127.0.0.1:8080/ws", "--listen", "127.0.0.1:0", "--profile", "mattermost"},
			"proxy web: clients connect to 127.0.0.1:9100, relayed to ws://127.0.0.1:8080/ws\n",
			`POST /proxies {"name":"web","listen":"127.0.0.1:0","upstream":"ws://127.0.0.1:8080/ws","profile":"mattermost"}`},
		{[]string{"proxies", "rm", "web"}, "proxy web stopped, its connections cut\n", "DELETE /proxies/web"},
		{[]string{"--proxy", "web", "faults", "add", "swallow-pongs"}, "added fault 4 to proxy web: swallow-pongs\n", `POST /proxies/web/faults {"fault":"swallow-pongs"}`},
		{[]string{"--proxy", "web", "status"}, "" +
			"proxy web: 3 attempts, 1 open (disabled: it resets every client until 'wschaos ctl enable')\n" +
			"ATTEMPT  STATE   OPENED  OPEN FOR  CLIENT→UPSTREAM  UPSTREAM→CLIENT      URL\n" +
			"2        closed  1.23s   1.77s     1 frame          7 frames, 2 dropped  /ws?v=1\n" +
			"3        open    1m35s   417ms     0 frames         1 frame, 1 delayed   /ws?v=1\n", "GET /proxies/web/status"},
		{[]string{"disable", "--json"}, "", "POST /disable"},
	} {
		out, err := ctl(t, tc.args...)
		if err != nil || out != tc.out {
			t.Errorf("ctl %q: %v\n%s\nwant:\n%s", tc.args, err, out, tc.out)
		}
		if got := f.requests(); len(got) != 1 || got[0] != tc.sent {
			t.Errorf("ctl %q sent %q, want %q", tc.args, got, tc.sent)
		}
	}
	// A proxy name the API does not know gets the names it does.
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"proxies", "rm", "gone"}, `ctl proxies rm: the proxy refused (HTTP 404): name: no proxy named "gone"; the proxies are default, web ('wschaos ctl proxies')`},
		{[]string{"--proxy", "wbe", "status", "--json"}, `ctl status: the proxy refused (HTTP 404): name: no proxy named "wbe" (did you mean "web"?)`},
		{[]string{"proxies", "rm", "x"}, `ctl proxies rm: the proxy refused (HTTP 404): name: no proxy named "x" (proxies: default, web)`},
		{[]string{"--proxy", "web", "faults", "clear"}, `ctl faults clear: the proxy refused (HTTP 404): no endpoint POST "/proxies/web/reset" (known: GET/POST /faults, PUT/DELETE /faults/{id}, POST /reset, GET /status); is the proxy from an older wschaos than this ctl?`},
		{[]string{"faults"}, `ctl faults: the proxy refused (HTTP 404): no endpoint; is the proxy from an older wschaos than this ctl?`},
		// The API's answer is in its paths; ctl's user names a proxy by
		// a flag (the stand-in's list is shared, so it names "default").
		{[]string{"status"}, `ctl status: the proxy refused (HTTP 404): no proxy is named "default" (the one --upstream starts): name one with --proxy NAME; the proxies are default, web ('wschaos ctl proxies')`},
	} {
		out, err := ctl(t, tc.args...)
		if exitCode(err) != exitFailed || err.Error() != tc.want || out != "" {
			t.Errorf("ctl %q: exit %d, %v, stdout %q\nwant exit 1 and %s", tc.args, exitCode(err), err, out, tc.want)
		}
	}
}

func regexpMatch(re, s string) bool { return regexp.MustCompile(re).MatchString(s) }

// Every ctl command the READMEs show is one ctl reads: run against an
// address where nothing listens, each gets as far as sending (exit 1),
// none is a bad command line (exit 2).
func TestCtlCommandsInTheDocsParse(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv(controlAddrEnv, ln.Addr().String())
	ln.Close()
	n := 0
	for _, doc := range []string{"../../README.md", "../../proxy/README.md"} {
		b, err := os.ReadFile(doc)
		if err != nil {
			t.Fatal(err)
		}
		for _, line := range strings.Split(string(b), "\n") {
			line, _, _ = strings.Cut(line, "#")
			for _, cmd := range strings.Split(line, ";") {
				cmd = strings.TrimPrefix(strings.TrimSpace(cmd), "go run ./cmd/")
				rest, ok := strings.CutPrefix(cmd+" ", "wschaos ctl ")
				if !ok {
					continue // prose, or another command
				}
				args := shellWords(t, rest)
				if _, err := ctl(t, args...); exitCode(err) != exitFailed {
					t.Errorf("%s: wschaos ctl %q: exit %d, %v; want exit 1, nothing answers", doc, args, exitCode(err), err)
				}
				n++
			}
		}
	}
	if n < 9 {
		t.Errorf("found %d ctl commands in the READMEs, want the examples' 9 or more", n)
	}
}

// shellWords splits a command line as sh does for plain and "double
// quoted" words, which is all the docs use.
func shellWords(t *testing.T, s string) []string {
	var words []string
	var cur strings.Builder
	in, quoted := false, false
	for _, r := range s {
		switch {
		case r == '"':
			quoted, in = !quoted, true
		case (r == ' ' || r == '\t') && !quoted:
			if in {
				words = append(words, cur.String())
				cur.Reset()
				in = false
			}
		default:
			cur.WriteRune(r)
			in = true
		}
	}
	if quoted {
		t.Fatalf("unbalanced quote in %q", s)
	}
	if in {
		words = append(words, cur.String())
	}
	return words
}

// The words after a close code are the close frame's reason, so a client
// can be shown the text it would get from a real server's restart.
func TestCtlCutCarriesAReason(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want proxy.CutSpec
	}{
		{[]string{"code", "4000"}, proxy.CutSpec{Kind: "code", Code: 4000}},
		{[]string{"code", "1012", "going", "away"}, proxy.CutSpec{Kind: "code", Code: 1012, Reason: "going away"}},
		{[]string{"code", "1012", "reason=restart"}, proxy.CutSpec{Kind: "code", Code: 1012, Reason: "restart"}},
		{[]string{"code=4001"}, proxy.CutSpec{Kind: "code", Code: 4001}},
	} {
		got, err := cutFromWords(tc.args)
		if err != nil || got != tc.want {
			t.Errorf("cut %q = %+v, %v; want %+v", tc.args, got, err, tc.want)
		}
	}
}
