package proxy_test

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/wschaos/wschaos/chaos"
	"github.com/wschaos/wschaos/internal/wstest"
	"github.com/wschaos/wschaos/profile"
	"github.com/wschaos/wschaos/proxy"
)

func TestStallHoldsTheHandshakeForVirtualTime(t *testing.T) {
	wstest.NoLeaks(t, patience)
	up := newEcho(t)
	p, clock := newProxy(t, up.wsURL(), chaos.Stall(3*time.Second))
	dialed := make(chan error, 1)
	go func() {
		c, _, err := websocket.DefaultDialer.Dial(p.URL, nil)
		if c != nil {
			c.Close()
		}
		dialed <- err
	}()
	waitFor(t, p.Transcript(), "#1 stall (stall 3s): for 3s")
	waitDeadline(t, clock, 3*time.Second)
	select {
	case err := <-dialed:
		t.Fatalf("dial returned before the stall ended: %v", err)
	default:
	}
	clock.AdvanceToNext()
	if err := <-dialed; err != nil {
		t.Fatalf("dial after the stall: %v", err)
	}
	waitFor(t, p.Transcript(), "+3s", "#1 open")
}

func TestResetHandshakeDropsTheAttempt(t *testing.T) {
	wstest.NoLeaks(t, patience)
	up := newEcho(t)
	p, _ := newProxy(t, up.wsURL(), chaos.ResetHandshake())
	_, resp, err := websocket.DefaultDialer.Dial(p.URL, nil)
	if err == nil || resp != nil {
		t.Fatalf("dial: %v, response %v; want a dropped connection", err, resp)
	}
	if n := len(up.requests()); n != 0 {
		t.Errorf("upstream dialled %d times", n)
	}
}

func TestAcceptThenCloseClosesAtOnce(t *testing.T) {
	wstest.NoLeaks(t, patience)
	up := newEcho(t)
	p, _ := newProxy(t, up.wsURL(), chaos.AcceptThenClose(chaos.Cut{Kind: chaos.CloseFrame, Code: profile.StatusNormalClosure}))
	ws := dial(t, p.URL, nil)
	var ce *websocket.CloseError
	if err := readErr(t, ws); !errors.As(err, &ce) || ce.Code != websocket.CloseNormalClosure {
		t.Fatalf("client got %v, want close 1000", err)
	}
	if ce := <-up.closes; ce.Code != websocket.CloseGoingAway {
		t.Errorf("upstream got close %d, want 1001", ce.Code)
	}
}

func TestSameSeedSameTranscript(t *testing.T) {
	wstest.NoLeaks(t, patience)
	run := func(seed uint64) string {
		up := newEcho(t)
		p := proxy.NewUnstartedServer(up.wsURL())
		p.Seed = seed
		p.Faults = []chaos.Fault{chaos.Jitter(time.Second)}
		clock := newClock()
		p.Clock = clock
		p.Start()
		defer p.Close()
		ws := dial(t, p.URL, nil)
		for i := range 3 {
			write(t, ws, fmt.Sprint(i))
			waitFor(t, p.Transcript(), fmt.Sprintf("delayed client frame #%d", i+1))
			clock.AdvanceToNext()
			waitFor(t, p.Transcript(), fmt.Sprintf("delayed server frame #%d", i+1))
			clock.AdvanceToNext()
			readMsg(t, ws)
		}
		ws.ws.Close()
		waitFor(t, p.Transcript(), "close 1006 by client")
		return p.Transcript().String()
	}
	a, b, c := run(1), run(1), run(2)
	if a != b {
		t.Errorf("seed 1 twice, transcripts differ:\n%s\n---\n%s", a, b)
	}
	if a == c {
		t.Errorf("seeds 1 and 2 gave the same jitter:\n%s", a)
	}
}
