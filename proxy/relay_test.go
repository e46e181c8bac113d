package proxy_test

import (
	"errors"
	"net/http"
	"testing"

	"github.com/gorilla/websocket"
	"github.com/wschaos/wschaos/internal/wstest"
)

func TestRelaysFramesPathQueryHeadersAndSubprotocol(t *testing.T) {
	wstest.NoLeaks(t, patience)
	up := newEcho(t)
	p, _ := newProxy(t, up.wsURL()+"/ws")
	ws := dial(t, p.URL+"?token=abc", http.Header{"X-Auth": {"secret"}}, "v1", "v2.chat")

	if got := ws.ws.Subprotocol(); got != "v2.chat" {
		t.Errorf("subprotocol = %q, want the upstream's choice v2.chat", got)
	}
	write(t, ws, "hello")
	if got := readMsg(t, ws); got != "hello" {
		t.Errorf("echo = %q", got)
	}
	if err := ws.ws.WriteMessage(websocket.BinaryMessage, []byte{0, 1, 2}); err != nil {
		t.Fatal(err)
	}
	if got := readMsg(t, ws); got != "\x00\x01\x02" {
		t.Errorf("binary echo = %q", got)
	}
	reqs := up.requests()
	if len(reqs) != 1 {
		t.Fatalf("upstream saw %d requests, want 1", len(reqs))
	}
	r := reqs[0]
	if r.URL.RequestURI() != "/ws?token=abc" {
		t.Errorf("upstream path = %q, want /ws?token=abc", r.URL.RequestURI())
	}
	if r.Header.Get("X-Auth") != "secret" {
		t.Errorf("upstream header X-Auth = %q, want it forwarded", r.Header.Get("X-Auth"))
	}
	if got := websocket.Subprotocols(r); len(got) != 2 || got[0] != "v1" || got[1] != "v2.chat" {
		t.Errorf("upstream offered subprotocols %q, want the client's", got)
	}
	st := p.Status()
	if st.Open != 1 || len(st.Connections) != 1 {
		t.Fatalf("status = %+v, want one open connection", st)
	}
	c := st.Connections[0]
	if c.ClientToUpstream.Frames != 2 || c.UpstreamToClient.Delivered != 2 || c.ClientToUpstream.Bytes != 8 {
		t.Errorf("counters = %+v", c)
	}
}

func TestClientCloseIsRelayedWithItsCodeAndReason(t *testing.T) {
	wstest.NoLeaks(t, patience)
	up := newEcho(t)
	p, _ := newProxy(t, up.wsURL())
	ws := dial(t, p.URL, nil)
	write(t, ws, "x")
	readMsg(t, ws)
	ws.ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(4000, "ping timeout"), deadline())
	ce := <-up.closes
	if ce.Code != 4000 || ce.Text != "ping timeout" {
		t.Errorf("upstream got close %d %q, want 4000 \"ping timeout\"", ce.Code, ce.Text)
	}
	waitFor(t, p.Transcript(), `close 4000 "ping timeout" by client`)
}

func TestUpstreamCloseIsRelayedWithItsCodeAndReason(t *testing.T) {
	wstest.NoLeaks(t, patience)
	up := newEcho(t)
	p, _ := newProxy(t, up.wsURL())
	ws := dial(t, p.URL, nil)
	write(t, ws, "close-me 4321")
	var ce *websocket.CloseError
	if err := readErr(t, ws); !errors.As(err, &ce) || ce.Code != 4321 || ce.Text != "bye" {
		t.Fatalf("client got %v, want close 4321 \"bye\"", err)
	}
	waitFor(t, p.Transcript(), `close 4321 "bye" by server`)
}

func TestUpstreamDropDropsTheClient(t *testing.T) {
	wstest.NoLeaks(t, patience)
	up := newEcho(t)
	p, _ := newProxy(t, up.wsURL())
	ws := dial(t, p.URL, nil)
	write(t, ws, "x")
	readMsg(t, ws)
	write(t, ws, "drop-me")
	var ce *websocket.CloseError
	if err := readErr(t, ws); !errors.As(err, &ce) || ce.Code != websocket.CloseAbnormalClosure {
		t.Fatalf("client got %v, want an abnormal closure (1006)", err)
	}
	waitFor(t, p.Transcript(), "close 1006 by server")
}

func TestUpstreamRefusalIsRelayed(t *testing.T) {
	wstest.NoLeaks(t, patience)
	up := newEcho(t)
	p, _ := newProxy(t, up.wsURL())
	_, resp, err := websocket.DefaultDialer.Dial(p.URL+"/refuse", nil)
	if err == nil {
		t.Fatal("dial succeeded, want the upstream's 429")
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") != "7" {
		t.Errorf("got HTTP %d Retry-After %q, want 429 and 7", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
}

func TestUnreachableUpstreamIs502(t *testing.T) {
	wstest.NoLeaks(t, patience)
	up := newEcho(t)
	url := up.wsURL()
	up.Close()
	p, _ := newProxy(t, url)
	_, resp, err := websocket.DefaultDialer.Dial(p.URL, nil)
	if err == nil {
		t.Fatal("dial succeeded")
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusBadGateway {
		t.Errorf("got HTTP %d, want 502", resp.StatusCode)
	}
}
