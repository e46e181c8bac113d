package proxy_test

import (
	"errors"
	"testing"

	"github.com/gorilla/websocket"
	"github.com/wschaos/wschaos/chaos"
	"github.com/wschaos/wschaos/internal/wstest"
)

func TestCloseClosesBothSidesAndStalledHandshakes(t *testing.T) {
	wstest.NoLeaks(t, patience)
	up := newEcho(t)
	p, _ := newProxy(t, up.wsURL(), chaos.OnAttempt(2, chaos.Stall(-1)))
	ws := dial(t, p.URL, nil)
	write(t, ws, "x")
	readMsg(t, ws)

	stalled := make(chan error, 1)
	go func() {
		c, _, err := websocket.DefaultDialer.Dial(p.URL, nil)
		if c != nil {
			c.Close()
		}
		stalled <- err
	}()
	waitFor(t, p.Transcript(), "#2 stall")

	p.Close()
	var ce *websocket.CloseError
	if err := readErr(t, ws); !errors.As(err, &ce) || ce.Code != websocket.CloseGoingAway {
		t.Errorf("client got %v, want close 1001", err)
	}
	if ce := <-up.closes; ce.Code != websocket.CloseGoingAway {
		t.Errorf("upstream got close %d, want 1001", ce.Code)
	}
	if err := <-stalled; err == nil {
		t.Error("the stalled handshake succeeded after Close")
	}
	p.Close() // twice is fine
}

// A close frame with no status (a browser's close() with no code, as the
// mattermost and phoenix clients send) is a clean close: relayed as one,
// recorded as 1005, answered with a close frame with no status.
func TestCloseWithoutAStatusIsRelayedAs1005(t *testing.T) {
	wstest.NoLeaks(t, patience)
	up := newEcho(t)
	p, _ := newProxy(t, up.wsURL())
	ws := dial(t, p.URL, nil)
	write(t, ws, "x")
	readMsg(t, ws)
	if err := ws.ws.WriteControl(websocket.CloseMessage, nil, deadline()); err != nil {
		t.Fatal(err)
	}
	if ce := <-up.closes; ce.Code != websocket.CloseNoStatusReceived {
		t.Errorf("upstream got close %d, want one with no status (1005)", ce.Code)
	}
	var ce *websocket.CloseError
	if err := readErr(t, ws); !errors.As(err, &ce) || ce.Code != websocket.CloseNoStatusReceived {
		t.Errorf("client got %v, want a close with no status (1005)", err)
	}
	waitFor(t, p.Transcript(), "#1 close 1005 by client")
	for _, e := range p.Transcript().Entries() {
		if e.Code == websocket.CloseProtocolError {
			t.Errorf("recorded as a protocol error: %s", e)
		}
	}
}
