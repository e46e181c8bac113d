package fakeserver_test

import (
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/wschaos/wschaos/chaos"
	"github.com/wschaos/wschaos/fakeserver"
	"github.com/wschaos/wschaos/internal/link/linktest"
	"github.com/wschaos/wschaos/profile"
	"github.com/wschaos/wschaos/vclock"
)

// subject is s as the suite both servers run sees it: a client pokes it
// with a ping and is answered with a pong.
func subject(s *fakeserver.Server) *linktest.Server {
	p := s.Profile
	var pings int64
	return &linktest.Server{
		URL:        s.URL,
		Transcript: s.Transcript(),
		Dial:       func(t *testing.T) *websocket.Conn { return dial(t, s.URL) },
		Poke: func(t *testing.T, ws *websocket.Conn) {
			pings++
			send(t, ws, p, ping(p, pings))
		},
		Answered: func(t *testing.T, ws *websocket.Conn) {
			t.Helper()
			if m := read(t, ws, p); m.Type != "pong" {
				t.Fatalf("got %v, want a pong", m)
			}
		},
		Open:       s.OpenConns,
		Close:      s.Close,
		Goroutines: "wschaos/fakeserver.",
	}
}

// start starts a fake server of the queue profile for the suite.
var start = linktest.Starter(func(clock *vclock.Clock, headerWait time.Duration, faults []chaos.Fault) *fakeserver.Server {
	s := fakeserver.NewUnstartedServer(profile.QueueProfile())
	s.Clock, s.Faults = clock, faults
	fakeserver.SetHeaderTimeout(s, headerWait)
	return s
}, subject)

func TestSlowClientsAreDroppedAtTheHeaderTimeoutWithoutBlockingOthers(t *testing.T) {
	linktest.SlowClients(t, start)
}

func TestThousandsOfJunkConnectionsLeaveTheServerServing(t *testing.T) {
	linktest.JunkConnections(t, start)
}

func TestCloseEndsEveryConnectionWhateverItIsDoing(t *testing.T) {
	linktest.Shutdown(t, start)
}

// The fault words whose meaning is the engine's (delay's order,
// slow-close's held answer) mean the same here as in the other server.
func TestFaultsTheEngineCarriesOut(t *testing.T) {
	linktest.Faults(t, start)
}
