package proxy_test

import (
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/wschaos/wschaos/chaos"
	"github.com/wschaos/wschaos/internal/wstest"
	"github.com/wschaos/wschaos/profile"
	"github.com/wschaos/wschaos/proxy"
)

func TestBandwidthDelaysFramesByTheirSizeOnTheVirtualClock(t *testing.T) {
	wstest.NoLeaks(t, patience)
	up := newEcho(t)
	p, clock := newProxy(t, up.wsURL(), chaos.Dir(profile.Server, chaos.Bandwidth(1000)))
	ws := dial(t, p.URL, nil)
	msg := strings.Repeat("x", 500)

	write(t, ws, msg)
	waitFor(t, p.Transcript(), "delayed server frame #1 (text) by 500ms")
	nothing(t, ws)
	if d, _ := clock.AdvanceToNext(); d != 500*time.Millisecond {
		t.Errorf("first frame due after %v, want 500ms (500 B at 1000 B/s)", d)
	}
	readMsg(t, ws)

	// Two frames at once: the second waits for the first.
	write(t, ws, msg)
	write(t, ws, msg)
	waitFor(t, p.Transcript(), "delayed server frame #3 (text) by 1s")
	for i := range 2 {
		nothing(t, ws)
		waitDeadline(t, clock, time.Duration(2+i)*500*time.Millisecond) // the loop re-arms after each write
		if d, _ := clock.AdvanceToNext(); d != 500*time.Millisecond {
			t.Errorf("frame %d due after %v, want 500ms more", i+2, d)
		}
		readMsg(t, ws)
	}
	if got := p.Status().Connections[0].UpstreamToClient.Delayed; got != 3 {
		t.Errorf("delayed = %d, want 3", got)
	}
}

func TestCutAfterFramesDropsTheLinkAfterTheNth(t *testing.T) {
	wstest.NoLeaks(t, patience)
	up := newEcho(t)
	p, _ := newProxy(t, up.wsURL(), chaos.Dir(profile.Server, chaos.CutAfterFrames(2, chaos.Cut{Kind: chaos.FIN})))
	ws := dial(t, p.URL, nil)
	for _, s := range []string{"a", "b", "c"} {
		write(t, ws, s)
	}
	for _, want := range []string{"a", "b"} {
		if got := readMsg(t, ws); got != want {
			t.Fatalf("got %q, want %q", got, want)
		}
	}
	var ce *websocket.CloseError
	if err := readErr(t, ws); !errors.As(err, &ce) || ce.Code != websocket.CloseAbnormalClosure {
		t.Fatalf("after 2 frames got %v, want an abnormal closure (1006)", err)
	}
	waitFor(t, p.Transcript(), "close 1006 by server (cut-after 2 fin dir=server): FIN")
}

func TestFieldSelectorMatchesRawJSON(t *testing.T) {
	wstest.NoLeaks(t, patience)
	up := newEcho(t)
	p, _ := newProxy(t, up.wsURL(), chaos.MatchField("event", "posted", chaos.Drop()))
	ws := dial(t, p.URL, nil)
	write(t, ws, `{"event":"posted","data":{}}`)
	write(t, ws, `{"event":"typing"}`)
	if got := readMsg(t, ws); got != `{"event":"typing"}` {
		t.Errorf("got %s, want only the typing event through", got)
	}
	nothing(t, ws)
	waitFor(t, p.Transcript(), "drop field=event=posted: dropped client frame #1")
}

func TestHandshakeFaultsApplyBeforeTheUpstreamIsDialled(t *testing.T) {
	wstest.NoLeaks(t, patience)
	up := newEcho(t)
	p := proxy.NewUnstartedServer(up.wsURL())
	if _, err := p.AddFaultSpec(proxy.FaultSpec{Fault: "refuse", Args: []string{"503"},
		Select: map[string]string{"attempts": "1", "retry-after": "3s"}}); err != nil {
		t.Fatal(err)
	}
	p.Start()
	t.Cleanup(p.Close)

	_, resp, err := websocket.DefaultDialer.Dial(p.URL, nil)
	if err == nil {
		t.Fatal("attempt 1 was let through")
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") != "3" {
		t.Errorf("attempt 1: HTTP %d Retry-After %q, want 503 and 3", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	if n := len(up.requests()); n != 0 {
		t.Errorf("the upstream was dialled %d times for a refused attempt", n)
	}
	ws := dial(t, p.URL, nil)
	write(t, ws, "ok")
	readMsg(t, ws)
}

func TestCloseAfterClosesTheClientWithItsCodeAndTheUpstreamWith1001(t *testing.T) {
	wstest.NoLeaks(t, patience)
	up := newEcho(t)
	p, clock := newProxy(t, up.wsURL(), chaos.CloseAfter(10*time.Second, 4002, "chaos"))
	ws := dial(t, p.URL, nil)
	write(t, ws, "x")
	readMsg(t, ws)
	if d, _ := clock.AdvanceToNext(); d != 10*time.Second {
		t.Errorf("cut due after %v, want 10s", d)
	}
	var ce *websocket.CloseError
	if err := readErr(t, ws); !errors.As(err, &ce) || ce.Code != 4002 || ce.Text != "chaos" {
		t.Fatalf("client got %v, want close 4002 \"chaos\"", err)
	}
	if ce := <-up.closes; ce.Code != websocket.CloseGoingAway {
		t.Errorf("upstream got close %d, want 1001", ce.Code)
	}
	waitFor(t, p.Transcript(), `+10s       #1 close 4002 "chaos" by server (close-after 10s code=4002 reason=chaos)`)
}

func TestBlackHoleLetsNothingThrough(t *testing.T) {
	wstest.NoLeaks(t, patience)
	up := newEcho(t)
	p, clock := newProxy(t, up.wsURL(), chaos.BlackHoleAfter(time.Second))
	ws := dial(t, p.URL, nil)
	waitFor(t, p.Transcript(), "#1 open") // published once its cut's timer is armed
	clock.AdvanceToNext()
	waitFor(t, p.Transcript(), "black hole: nothing flows either way")
	write(t, ws, "lost")
	nothing(t, ws)
	waitFor(t, p.Transcript(), "swallowed client frame #1")
	if n := p.Status().Connections[0].ClientToUpstream.Dropped; n != 1 {
		t.Errorf("dropped = %d, want 1", n)
	}
}

// In heartbeat mode server the upstream's pings are its heartbeat frames:
// the pong faults act on them, as they do on the fake server's.
func TestPongFaultsActOnUpstreamPingsInServerMode(t *testing.T) {
	wstest.NoLeaks(t, patience)
	up := newEcho(t)
	p := proxy.NewUnstartedServer(up.wsURL())
	p.Clock, p.Profile = newClock(), profile.ByName("graphql-ws")
	p.Faults = []chaos.Fault{chaos.SwallowPongs()}
	p.Start()
	t.Cleanup(p.Close)
	ws := dial(t, p.URL, nil, "graphql-transport-ws")
	write(t, ws, `{"type":"ping"}`) // echoed: a ping from the upstream
	write(t, ws, `{"type":"pong"}`) // echoed: its pong to a client ping
	write(t, ws, `{"type":"connection_ack"}`)
	if got := readMsg(t, ws); got != `{"type":"connection_ack"}` {
		t.Errorf("got %s, want the ping and the pong swallowed", got)
	}
	waitFor(t, p.Transcript(), "swallow-pongs: dropped server frame #1 (event ping)")
	waitFor(t, p.Transcript(), "swallow-pongs: dropped server frame #2 (event pong)")
}
