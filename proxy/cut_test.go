package proxy_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/wschaos/wschaos/chaos"
	"github.com/wschaos/wschaos/internal/wstest"
	"github.com/wschaos/wschaos/profile"
	"github.com/wschaos/wschaos/proxy"
)

// api sends one control request with a JSON body ("" for none) and
// returns the status and the body.
func api(t *testing.T, method, url, body string) (int, string) {
	t.Helper()
	var headers map[string]string
	if body != "" {
		headers = map[string]string{"Content-Type": "application/json"}
	}
	status, b := send(t, method, url, body, headers)
	return status, string(b)
}

// "cut the live connections now" had no endpoint: {"fault":"cut"} was
// unknown, and a cut-after fault stays installed, cutting every new
// connection too. POST /cut ends the connections open now, once.
func TestCutEndsTheOpenConnectionsOnceAndInstallsNothing(t *testing.T) {
	wstest.NoLeaks(t, patience)
	up := newEcho(t)
	p, _, _ := controlled(t, up.wsURL())
	a, b := dial(t, p.URL+"/ws", nil), dial(t, p.URL+"/ws", nil)
	write(t, a, "hi")
	readMsg(t, a)
	write(t, b, "hi")
	readMsg(t, b)

	status, body := api(t, "POST", p.ControlURL+"/cut", `{"kind":"code","code":4000,"reason":"now"}`)
	if status != 200 || strings.TrimSpace(body) != `{"cut":2}` {
		t.Fatalf("POST /cut = %d %s, want 200 {\"cut\":2}", status, body)
	}
	for _, pr := range []*peer{a, b} {
		var ce *websocket.CloseError
		if err := readErr(t, pr); !errors.As(err, &ce) || ce.Code != 4000 || ce.Text != "now" {
			t.Errorf("a cut connection ended with %v, want close 4000 \"now\"", err)
		}
	}
	waitFor(t, p.Transcript(), `#2 close 4000 "now" by server (cut)`)

	c := dial(t, p.URL+"/ws", nil)
	write(t, c, "after")
	if got := readMsg(t, c); got != "after" {
		t.Errorf("the next connection relayed %q, want the echo", got)
	}
	if len(p.ListFaults()) != 0 {
		t.Errorf("a cut left faults installed: %v", p.ListFaults())
	}

	status, body = api(t, "POST", p.ControlURL+"/cut", `{"kind":"rst"}`)
	if status != 200 || strings.TrimSpace(body) != `{"cut":1}` {
		t.Fatalf("POST /cut rst = %d %s, want 200 {\"cut\":1}", status, body)
	}
	var ce *websocket.CloseError
	if err := readErr(t, c); errors.As(err, &ce) && ce.Code != websocket.CloseAbnormalClosure {
		t.Errorf("an rst cut ended the connection with %v, want no close frame", err)
	}
}

func TestCutRefusesABadSpecNamingTheField(t *testing.T) {
	up := newEcho(t)
	p, _, _ := controlled(t, up.wsURL())
	for _, tc := range []struct{ body, field, says string }{
		{`{"kind":"boom"}`, "kind", `want one of "rst", "fin", "black-hole", "code"`},
		{`{}`, "kind", "missing"},
		{`{"kind":"code"}`, "code", `e.g. {"kind":"code","code":1012}`},
		{`{"kind":"code","code":1006}`, "code", "1006: want a close code a client may receive"},
		{`{"kind":"rst","when":"now"}`, "body", `unknown field "when"`},
		{`{"kind":"code","code":4000,"reason":"` + strings.Repeat("x", 124) + `"}`, "reason", "124 bytes: a close frame carries a reason of at most 123"},
	} {
		status, body := api(t, "POST", p.ControlURL+"/cut", tc.body)
		var ae proxy.APIError
		json.Unmarshal([]byte(body), &ae)
		if status != 400 || ae.Field != tc.field || !strings.Contains(ae.Error, tc.says) {
			t.Errorf("POST /cut %s = %d %s, want 400 on field %q saying %q", tc.body, status, body, tc.field, tc.says)
		}
	}
}

// There was no toggle. Disable resets the open connections and every new
// one, on the same port, until Enable; /status shows which it is.
func TestDisableResetsConnectionsUntilEnabled(t *testing.T) {
	wstest.NoLeaks(t, patience)
	up := newEcho(t)
	p, cc, _ := controlled(t, up.wsURL())
	a := dial(t, p.URL+"/ws", nil)
	write(t, a, "hi")
	readMsg(t, a)

	if status, body := api(t, "POST", p.ControlURL+"/disable", ""); status != 204 {
		t.Fatalf("POST /disable = %d %s", status, body)
	}
	readErr(t, a)
	if st, err := cc.Status(ctx(t)); err != nil || st.Enabled {
		t.Errorf("status while disabled: enabled %v, %v; want false", st.Enabled, err)
	}
	if ws, _, err := websocket.DefaultDialer.DialContext(ctx(t), p.URL+"/ws", nil); err == nil {
		ws.Close()
		t.Fatal("a disabled proxy let a client connect")
	}
	waitFor(t, p.Transcript(), "connection reset at accept: the proxy is disabled")

	if status, body := api(t, "POST", p.ControlURL+"/enable", ""); status != 204 {
		t.Fatalf("POST /enable = %d %s", status, body)
	}
	b := dial(t, p.URL+"/ws", nil)
	write(t, b, "back")
	if got := readMsg(t, b); got != "back" {
		t.Errorf("after enable: %q", got)
	}
	if st, err := cc.Status(ctx(t)); err != nil || !st.Enabled {
		t.Errorf("status once enabled: enabled %v, %v; want true", st.Enabled, err)
	}
}

// seq-gap on a profile without sequence numbers, a type selector with no
// profile, were accepted 201 and never acted. A fault that cannot act
// under the proxy's profile is refused 422 saying what it needs; a pong
// fault without heartbeat messages is accepted with a note saying it acts
// on pong control frames only.
func TestFaultsThatCannotActUnderTheProfileAreRefused(t *testing.T) {
	up := newEcho(t)
	for _, tc := range []struct {
		profile     string
		spec        string
		status      int
		field, says string
	}{
		{"", `{"fault":"seq-gap","args":[3]}`, 422, "fault", "seq-gap acts on server events by their sequence number, and with no --profile frames are opaque: start the proxy with a profile whose events carry seq"},
		{"queue", `{"fault":"seq-swap","args":[3]}`, 422, "fault", `seq-swap acts on server events by their sequence number, and the proxy's profile "queue" has none in its envelope`},
		{"mattermost", `{"fault":"seq-duplicate","args":[3]}`, 201, "", ""},
		{"", `{"fault":"drop","select":{"type":"posted"}}`, 422, "select.type", "needs a profile to decode them"},
		{"queue", `{"fault":"drop","select":{"type":"posted"}}`, 201, "", ""},
		{"", `{"fault":"drop","select":{"field":"event=posted"}}`, 201, "", ""},
		{"", `{"fault":"new-hello-after","args":[4]}`, 422, "fault", "needs a server that owns its sessions"},
		{"mattermost", `{"fault":"new-session-on-resume"}`, 422, "fault", "needs a server that owns its sessions"},
		{"", `{"fault":"flood-before-pongs","args":[3]}`, 422, "fault", "needs a profile's envelope"},
		{"mattermost", `{"fault":"flood-before-pongs","args":[3]}`, 422, "fault", "the upstream numbers every event"},
		{"queue", `{"fault":"flood-before-pongs","args":[3]}`, 201, "", ""},
		{"", `{"fault":"swallow-pongs"}`, 201, "", "acts on WebSocket pong control frames only: there is no --profile"},
		{"reconnecting-websocket", `{"fault":"delay-pongs","args":["1s"]}`, 201, "", `profile "reconnecting-websocket" has no heartbeat messages`},
		{"queue", `{"fault":"swallow-pongs"}`, 201, "", ""},
		{"", `{"fault":"seq-gap","args":["x"]}`, 400, "args[0]", ""}, // malformed is 400 before unfit
	} {
		p := proxy.NewUnstartedServer(up.wsURL())
		p.ControlAddr = "127.0.0.1:0"
		if tc.profile != "" {
			p.Profile = profile.ByName(tc.profile)
		}
		p.Start()
		status, body := api(t, "POST", p.ControlURL+"/faults", tc.spec)
		p.Close()
		var ae proxy.APIError
		var fi proxy.FaultInfo
		json.Unmarshal([]byte(body), &ae)
		json.Unmarshal([]byte(body), &fi)
		text := ae.Error + fi.Note
		if status != tc.status || ae.Field != tc.field || !strings.Contains(text, tc.says) || (tc.says == "" && fi.Note != "") {
			t.Errorf("profile %q, POST /faults %s = %d %s\nwant %d on field %q saying %q", tc.profile, tc.spec, status, body, tc.status, tc.field, tc.says)
		}
	}
}

// An attempt in its handshake when the proxy is disabled is not let
// through once the handshake ends: disabled means no relayed connection.
func TestDisableCutsAnAttemptThatWasInItsHandshake(t *testing.T) {
	wstest.NoLeaks(t, patience)
	up := newEcho(t)
	p, clock := newProxy(t, up.wsURL(), chaos.Stall(time.Second))
	dialed := make(chan *websocket.Conn, 1)
	go func() {
		ws, _, err := websocket.DefaultDialer.DialContext(ctx(t), p.URL+"/ws", nil)
		if err != nil {
			ws = nil
		}
		dialed <- ws
	}()
	waitFor(t, p.Transcript(), "#1 stall")
	if n := p.Disable(); n != 0 {
		t.Errorf("Disable cut %d connections, want 0: the attempt is not relayed yet", n)
	}
	clock.Advance(time.Second)
	ws := <-dialed
	if ws == nil {
		t.Fatal("the dial failed before the upgrade")
	}
	defer ws.Close()
	ws.SetReadDeadline(time.Now().Add(patience))
	ws.WriteMessage(websocket.TextMessage, []byte("through?"))
	if _, m, err := ws.ReadMessage(); err == nil {
		t.Fatalf("a connection upgraded while disabled relayed %q", m)
	}
	waitFor(t, p.Transcript(), "#1 close 1006 by server (disable)", "RST")
}
