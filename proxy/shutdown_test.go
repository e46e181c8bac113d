package proxy_test

import (
	"context"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/onsi/gomega/gleak"
	"github.com/wschaos/wschaos/chaos"
	"github.com/wschaos/wschaos/internal/wstest"
	"github.com/wschaos/wschaos/profile"
	"github.com/wschaos/wschaos/proxy"
	"github.com/wschaos/wschaos/proxy/control"
	"github.com/wschaos/wschaos/vclock"
)

// Close must end every kind of connection the proxy holds, whatever state
// it is in, and leave no goroutine behind: an open relay, a black hole, a
// frame held back on the virtual clock, a stalled handshake, an upstream
// dial still in flight, a client still trickling its headers, and a
// keep-alive connection to the control API.
func TestCloseLeavesNoGoroutineWhateverTheConnectionsAreDoing(t *testing.T) {
	wstest.NoLeaks(t, patience)
	up := newBadUpstream(t, nil)
	p := proxy.NewUnstartedServer(up.wsURL())
	p.Clock, p.ControlAddr = vclock.New(), "127.0.0.1:0"
	p.Faults = []chaos.Fault{
		chaos.OnAttempt(2, chaos.BlackHoleAfter(0)),
		chaos.OnAttempt(3, chaos.Dir(profile.Server, chaos.Delay(time.Minute))),
		chaos.OnAttempt(4, chaos.Stall(-1)),
	}
	p.Start()
	t.Cleanup(p.Close)
	tr := &http.Transport{}
	t.Cleanup(tr.CloseIdleConnections)
	cc := control.New(p.ControlURL, &http.Client{Transport: tr, Timeout: patience})
	if _, err := cc.List(ctx(t)); err != nil { // leaves an idle keep-alive connection
		t.Fatal(err)
	}

	open := dial(t, p.URL, nil)
	relays(t, open)
	hole := dial(t, p.URL, nil)
	waitFor(t, p.Transcript(), "#2 fault black-hole-after 0s attempts=2: black hole")
	delayed := dial(t, p.URL, nil)
	write(t, delayed, "later")
	waitFor(t, p.Transcript(), "#3", "delayed server frame #1")
	ended := make(chan error, 2)
	go dialAndKeep(p.URL, ended) // attempt 4: stalled
	waitFor(t, p.Transcript(), "#4 stall")
	go dialAndKeep(p.URL+"/hang", ended) // attempt 5: the upstream never answers
	waitFor(t, p.Transcript(), "#5 dial /hang")
	loris, err := net.DialTimeout("tcp", wstest.HostOf(p.URL), patience)
	if err != nil {
		t.Fatal(err)
	}
	defer loris.Close()
	loris.Write([]byte("GET / HTTP/1.1\r\nHost:"))

	start := time.Now()
	p.Close()
	if took := time.Since(start); took >= patience {
		t.Errorf("Close took %v: it waited for something it should have ended", took)
	}
	// A goroutine may still be returning from its last call, but none may
	// be blocked: Close waited for every one to finish its work.
	for _, g := range gleak.Goroutines() {
		if strings.Contains(g.Backtrace, "wschaos/proxy.") && g.State != "running" && g.State != "runnable" {
			t.Errorf("proxy goroutine blocked (%s) after Close:\n%s", g.State, g.Backtrace)
		}
	}
	if code := closeCodeOf(readErr(t, open)); code != websocket.CloseGoingAway {
		t.Errorf("open connection closed with %d, want 1001", code)
	}
	if err := readErr(t, hole); err == nil {
		t.Error("black-holed connection still open after Close")
	}
	if code := closeCodeOf(readErr(t, delayed)); code != websocket.CloseGoingAway {
		t.Errorf("connection with a delayed frame closed with %d, want 1001", code)
	}
	for range 2 {
		select {
		case err := <-ended:
			if err == nil {
				t.Error("a dial stalled at Close succeeded")
			}
		case <-time.After(patience):
			t.Fatal("a dial stalled at Close still waits")
		}
	}
	if wstest.StatusOf(loris, patience) != "" {
		t.Error("the slow client got an answer, want its connection dropped")
	}
	if !strings.Contains(p.Transcript().String(), `#3 note delayed server frame #1 (text) never delivered: connection ended`) {
		t.Errorf("transcript lacks the delayed frame's fate:\n%s", p.Transcript())
	}
	if _, err := cc.List(ctx(t)); err == nil {
		t.Error("the control API still answers after Close")
	}
}

// dialAndKeep dials url and reports how the dial ended; a connection that
// opens is closed at once.
func dialAndKeep(url string, ended chan<- error) {
	c, cancel := context.WithTimeout(context.Background(), 2*patience)
	defer cancel()
	ws, _, err := websocket.DefaultDialer.DialContext(c, url, nil)
	if ws != nil {
		ws.Close()
	}
	ended <- err
}
