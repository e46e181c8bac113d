package proxy_test

import (
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/wschaos/wschaos/chaos"
	"github.com/wschaos/wschaos/internal/link/linktest"
	"github.com/wschaos/wschaos/internal/wstest"
	"github.com/wschaos/wschaos/proxy"
	"github.com/wschaos/wschaos/vclock"
)

// subject is p as the suite both servers run sees it: a client pokes it
// with a text message, which the echo upstream answers.
func subject(p *proxy.Proxy) *linktest.Server {
	return &linktest.Server{
		URL:        p.URL,
		Transcript: p.Transcript(),
		Dial: func(t *testing.T) *websocket.Conn {
			ws := wstest.Dial(t, ctx(t), websocket.DefaultDialer, p.URL, nil)
			t.Cleanup(func() { ws.Close() })
			return ws
		},
		Poke: func(t *testing.T, ws *websocket.Conn) {
			if err := ws.WriteMessage(websocket.TextMessage, []byte("still there?")); err != nil {
				t.Fatalf("write: %v", err)
			}
		},
		Answered: func(t *testing.T, ws *websocket.Conn) {
			t.Helper()
			ws.SetReadDeadline(time.Now().Add(patience))
			if _, b, err := ws.ReadMessage(); err != nil || string(b) != "still there?" {
				t.Fatalf("got %q, %v; want the echo", b, err)
			}
		},
		Open:       func() int { return p.Status().Open },
		Close:      p.Close,
		Goroutines: "wschaos/proxy.",
	}
}

// startWith returns a Start of proxies in front of up.
func startWith(up *echo) linktest.Start {
	return linktest.Starter(func(clock *vclock.Clock, headerWait time.Duration, faults []chaos.Fault) *proxy.Proxy {
		p := proxy.NewUnstartedServer(up.wsURL())
		p.Clock, p.Faults = clock, faults
		proxy.SetHeaderTimeout(p, headerWait)
		return p
	}, subject)
}

func TestSlowClientsAreDroppedAtTheHeaderTimeoutWithoutBlockingOthers(t *testing.T) {
	up := newEcho(t)
	linktest.SlowClients(t, startWith(up))
	if n := len(up.requests()); n != 3 {
		t.Errorf("the upstream saw %d requests, want only the healthy client's and the two new ones'", n)
	}
}

func TestThousandsOfJunkConnectionsLeaveTheProxyServing(t *testing.T) {
	up := newEcho(t)
	linktest.JunkConnections(t, startWith(up))
	if n := len(up.requests()); n != 2 {
		t.Errorf("the upstream saw %d requests, want only the healthy client's and the new one's", n)
	}
}

func TestCloseEndsEveryConnectionWhateverItIsDoing(t *testing.T) {
	linktest.Shutdown(t, startWith(newEcho(t)))
}

// The fault words whose meaning is the engine's (delay's order,
// slow-close's held answer) mean the same here as in the other server.
func TestFaultsTheEngineCarriesOut(t *testing.T) {
	linktest.Faults(t, startWith(newEcho(t)))
}
