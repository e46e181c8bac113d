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
	p, _ := newProxy(t, up.wsURL(), chaos.OnAttempts(chaos.Stall(-1), 2))
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
