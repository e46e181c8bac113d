package proxy_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/wschaos/wschaos/internal/wstest"
	"github.com/wschaos/wschaos/proxy"
	"github.com/wschaos/wschaos/proxy/control"
	"github.com/wschaos/wschaos/vclock"
)

// controlled starts a proxy with its control API, and a client for it
// whose idle connections are closed at cleanup.
func controlled(t *testing.T, upstream string) (*proxy.Proxy, *control.Client, *vclock.Clock) {
	t.Helper()
	clock := vclock.New()
	p := proxy.NewUnstartedServer(upstream)
	p.Clock, p.ControlAddr = clock, "127.0.0.1:0"
	p.Start()
	t.Cleanup(p.Close)
	tr := &http.Transport{}
	t.Cleanup(tr.CloseIdleConnections)
	return p, control.New(p.ControlURL, &http.Client{Transport: tr, Timeout: patience}), clock
}

func TestControlAPIAddsListsUpdatesRemovesAndResetsFaults(t *testing.T) {
	wstest.NoLeaks(t, patience)
	up := newEcho(t)
	p, cc, clock := controlled(t, up.wsURL())
	ctx := ctx(t)

	added, err := cc.Add(ctx, proxy.FaultSpec{Fault: "delay", Args: []string{"5s"},
		Select: map[string]string{"dir": "server"}})
	if err != nil {
		t.Fatal(err)
	}
	if added.ID != 1 || added.Fault != "delay 5s dir=server" || added.Spec.Fault != "delay" {
		t.Errorf("added %+v", added)
	}
	ws := dial(t, p.URL, nil)
	write(t, ws, "slow")
	waitFor(t, p.Transcript(), "delayed server frame #1 (text) by 5s")
	if d, _ := clock.AdvanceToNext(); d != 5*time.Second {
		t.Errorf("delay = %v, want 5s", d)
	}
	readMsg(t, ws)

	// Update applies to the next frame of the open connection.
	if _, err := cc.Update(ctx, added.ID, proxy.FaultSpec{Fault: "delay", Args: []string{"2s"}}); err != nil {
		t.Fatal(err)
	}
	second, err := cc.Add(ctx, proxy.FaultSpec{Fault: "cut-after", Args: []string{"100"}})
	if err != nil {
		t.Fatal(err)
	}
	list, err := cc.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 2 || list[0].Fault != "delay 2s" || list[1].ID != second.ID || list[1].Fault != "cut-after 100 fin" {
		t.Errorf("list = %+v", list)
	}
	write(t, ws, "slower")
	waitFor(t, p.Transcript(), "delay 2s: delayed client frame #2 (text) by 2s")
	clock.AdvanceToNext() // the client frame
	waitFor(t, p.Transcript(), "delayed server frame #2 (text) by 2s")
	clock.AdvanceToNext() // its echo
	readMsg(t, ws)

	if err := cc.Remove(ctx, added.ID); err != nil {
		t.Fatal(err)
	}
	if err := cc.Reset(ctx); err != nil {
		t.Fatal(err)
	}
	if list, _ := cc.List(ctx); len(list) != 0 {
		t.Errorf("after reset: %+v", list)
	}
	write(t, ws, "fast")
	if got := readMsg(t, ws); got != "fast" {
		t.Errorf("got %q", got)
	}

	st, err := cc.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if st.Attempts != 1 || st.Open != 1 || len(st.Connections) != 1 {
		t.Fatalf("status = %+v", st)
	}
	c := st.Connections[0]
	if c.ClientToUpstream.Frames != 3 || c.UpstreamToClient.Delivered != 3 || c.ClientToUpstream.Delayed != 1 ||
		c.UpstreamToClient.Delayed != 2 || c.OpenFor != proxy.Duration(9*time.Second) || c.State != "open" {
		t.Errorf("connection status = %+v", c)
	}
}

func TestControlAPIRejectsBadInputAndKeepsServing(t *testing.T) {
	wstest.NoLeaks(t, patience)
	up := newEcho(t)
	p, cc, _ := controlled(t, up.wsURL())
	ctx := ctx(t)
	cases := []struct {
		name, method, path, body string
		status                   int
		field, msg               string
	}{
		{"bad JSON", "POST", "/faults", `{"fault":`, 400, "body", "bad JSON"},
		{"not an object", "POST", "/faults", `["drop"]`, 400, "spec", "want a JSON object"},
		{"unknown key", "POST", "/faults", `{"fault":"drop","selector":{}}`, 400, "selector", "unknown key"},
		{"unknown fault", "POST", "/faults", `{"fault":"explode"}`, 400, "fault", `unknown fault "explode"`},
		{"missing fault", "POST", "/faults", `{}`, 400, "fault", "missing"},
		{"unknown selector", "POST", "/faults", `{"fault":"drop","select":{"colour":"red"}}`, 400, "select.colour", "unknown selector"},
		{"bad selector value", "POST", "/faults", `{"fault":"drop","select":{"dir":"up"}}`, 400, "select.dir", `want "client" or "server"`},
		{"probability not a number", "POST", "/faults", `{"fault":"drop","select":{"prob":"NaN"}}`, 400, "select.prob", "want a probability in [0, 1]"},
		{"frame selector on a conn fault", "POST", "/faults", `{"fault":"fin-after","args":["1s"],"select":{"type":"x"}}`, 400, "select.type", "not a frame fault"},
		{"bad duration", "POST", "/faults", `{"fault":"delay","args":["5 parsecs"]}`, 400, "args[0]", "not a duration"},
		{"missing duration", "POST", "/faults", `{"fault":"delay"}`, 400, "args[0]", "missing a duration"},
		{"bad code", "POST", "/faults", `{"fault":"close-after","args":["1s"],"select":{"code":99}}`, 400, "select.code", "close code"},
		{"code a client may not receive", "POST", "/faults", `{"fault":"close-after","args":["1s"],"select":{"code":1006}}`, 400, "select.code", "1000-1003, 1007-1013 or 3000-4999"},
		{"cut with code 1015", "POST", "/faults", `{"fault":"cut-after","args":[3],"select":{"code":"1015"}}`, 400, "select.code", "1000-1003, 1007-1013 or 3000-4999"},
		{"reason too long", "POST", "/faults", `{"fault":"close-after","args":["1s"],"select":{"code":4000,"reason":"` + strings.Repeat("r", 124) + `"}}`, 400, "select.reason", "124 bytes: a close frame carries at most 123"},
		{"cut reason too long", "POST", "/faults", `{"fault":"cut-after","args":[3],"select":{"code":4000,"reason":"` + strings.Repeat("r", 200) + `"}}`, 400, "select.reason", "at most 123"},
		{"bad field", "POST", "/faults", `{"fault":"drop","select":{"field":"event"}}`, 400, "select.field", "PATH=VALUE"},
		{"bad bandwidth", "POST", "/faults", `{"fault":"bandwidth","args":[0]}`, 400, "args[0]", "positive rate"},
		{"unknown id", "DELETE", "/faults/42", ``, 404, "id", "no fault with id 42"},
		{"update unknown id", "PUT", "/faults/42", `{"fault":"drop"}`, 404, "id", "no fault with id 42"},
		{"bad id", "DELETE", "/faults/one", ``, 400, "id", "not a fault id"},
		{"unknown endpoint", "GET", "/nope", ``, 404, "", "no endpoint"},
	}
	hc := &http.Client{Timeout: patience}
	t.Cleanup(hc.CloseIdleConnections)
	for _, tc := range cases {
		req, _ := http.NewRequestWithContext(ctx, tc.method, p.ControlURL+tc.path, strings.NewReader(tc.body))
		if tc.body != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		resp, err := hc.Do(req)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		var ae proxy.APIError
		if resp.StatusCode != tc.status || json.Unmarshal(body, &ae) != nil || ae.Field != tc.field || !strings.Contains(ae.Error, tc.msg) {
			t.Errorf("%s: HTTP %d %s, want %d with field %q and %q", tc.name, resp.StatusCode, body, tc.status, tc.field, tc.msg)
		}
	}
	// The Go client reports the same as an *control.Error.
	_, err := cc.Add(ctx, proxy.FaultSpec{Fault: "delay", Args: []string{"soon"}})
	var ce *control.Error
	if !errors.As(err, &ce) || ce.Status != 400 || ce.Field != "args[0]" {
		t.Errorf("client error = %v, want HTTP 400 on args[0]", err)
	}
	// Nothing was installed, and both servers still serve.
	if list, err := cc.List(ctx); err != nil || len(list) != 0 {
		t.Errorf("list = %+v, %v; want empty", list, err)
	}
	ws := dial(t, p.URL, nil)
	write(t, ws, "still here")
	readMsg(t, ws)
	if _, err := cc.Add(ctx, proxy.FaultSpec{Fault: "drop", Select: map[string]string{"dir": "server", "every": "2"}}); err != nil {
		t.Errorf("a good spec after bad ones: %v", err)
	}
}

func TestFaultSpecAcceptsNumbersAndReadsFiles(t *testing.T) {
	specs, err := proxy.ReadSpecs(bytes.NewReader([]byte(`[
		{"fault": "refuse", "args": [503], "select": {"attempts": "1-2", "retry-after": "10s"}},
		{"fault": "swallow-pongs", "select": {"every": 2}},
		{"fault": "delay", "args": ["1s"], "select": {"field": "data.user=u1", "dir": "server"}}
	]`)))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"refuse 503 retry-after=10s attempts=1-2",
		"swallow-pongs every=2",
		"delay 1s field=data.user=u1 dir=server",
	}
	for i, s := range specs {
		f, err := s.Build()
		if err != nil {
			t.Fatalf("spec %d: %v", i, err)
		}
		if f.String() != want[i] {
			t.Errorf("spec %d = %q, want %q", i, f, want[i])
		}
	}
}
