package fakeserver_test

import (
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/wschaos/wschaos/chaos"
	"github.com/wschaos/wschaos/fakeserver"
	"github.com/wschaos/wschaos/profile"
	"github.com/wschaos/wschaos/vclock"
)

// graphqlDial dials a graphql-ws server as its client does, offering the
// subprotocol.
func graphqlDial(t *testing.T, s *fakeserver.Server) *websocket.Conn {
	t.Helper()
	ws, _ := dialProtos(t, s.URL, "graphql-transport-ws")
	return ws
}

func writeText(t *testing.T, ws *websocket.Conn, s string) {
	t.Helper()
	if err := ws.WriteMessage(websocket.TextMessage, []byte(s)); err != nil {
		t.Fatalf("write %s: %v", s, err)
	}
}

// readText reads the next message as text.
func readText(t *testing.T, ws *websocket.Conn) string {
	t.Helper()
	_, data, err := readRaw(t, ws)
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	return string(data)
}

// noTimer asserts that the server has no timer armed.
func noTimer(t *testing.T, clock *vclock.Clock, why string) {
	t.Helper()
	if at, ok := clock.Next(); ok {
		t.Fatalf("a timer is armed (due +%v): %s", at.Sub(clock.Start()), why)
	}
}

// handshake sends connection_init and reads the ack.
func handshake(t *testing.T, ws *websocket.Conn) {
	t.Helper()
	writeText(t, ws, `{"type":"connection_init"}`)
	if got := readText(t, ws); got != `{"type":"connection_ack"}` {
		t.Fatalf("got %s, want the connection_ack", got)
	}
}

func TestHandshakeMessageIsAnsweredWithItsReply(t *testing.T) {
	s, _ := newServer(t, graphqlWS())
	ws := graphqlDial(t, s)
	handshake(t, ws)
	waitLine(t, s, `#1 recv {"type":"connection_init"}`)
	waitLine(t, s, `#1 send {"type":"connection_ack"}`)
}

func TestHandshakeFaultsActOnTheReply(t *testing.T) {
	s, clock := newServer(t, graphqlWS(), chaos.Type("connection_ack", chaos.Delay(3*time.Second)))
	ws := graphqlDial(t, s)
	writeText(t, ws, `{"type":"connection_init"}`)
	waitLine(t, s, "fault delay 3s type=connection_ack: delayed server frame #1 (event connection_ack) by 3s")
	if d := advance(t, clock); d != 3*time.Second {
		t.Fatalf("advanced %v, want the 3s delay", d)
	}
	if got := readText(t, ws); got != `{"type":"connection_ack"}` {
		t.Fatalf("got %s", got)
	}
}

func TestRequestsBeforeTheHandshakeAreNotedNotAnswered(t *testing.T) {
	p := graphqlWS()
	p.AckType = "ack" // so a subscribe that is served shows it
	s, _ := newServer(t, p)
	ws := graphqlDial(t, s)

	writeText(t, ws, `{"id":"1","type":"subscribe","payload":{}}`)
	waitLine(t, s, "#1 note request subscribe before the handshake (connection_init): not answered")
	writeText(t, ws, `{"type":"pong"}`) // a heartbeat's message is no breach
	handshake(t, ws)                    // the connection is still open
	writeText(t, ws, `{"type":"connection_init"}`)
	waitLine(t, s, "#1 note connection_init again: not answered (the handshake is done)")
	writeText(t, ws, `{"id":"2","type":"subscribe","payload":{}}`)
	if got := readText(t, ws); got != `{"type":"ack","payload":{"messageId":null}}` {
		t.Fatalf("got %s, want the ack of subscribe 2 and nothing before it", got)
	}
	if n := len(lines(s, "note")); n != 2 {
		t.Errorf("%d notes, want 2 (the early subscribe, the second init):\n%s", n, s.Transcript())
	}
	if n := len(lines(s, `send {"type":"connection_ack"}`)); n != 1 {
		t.Errorf("%d acks, want 1", n)
	}
}

func TestServerPingsStartAnIntervalAfterTheHandshakeReply(t *testing.T) {
	s, clock := newServer(t, graphqlWS())
	ws := graphqlDial(t, s)
	waitLine(t, s, "#1 open")
	noTimer(t, clock, "no ping before the handshake")
	clock.Advance(3 * time.Second)
	handshake(t, ws)

	for i, at := range []time.Duration{13 * time.Second, 23 * time.Second} {
		if d := advance(t, clock); d != 10*time.Second {
			t.Fatalf("ping %d: advanced %v, want the 10s interval", i+1, d)
		}
		if got := readText(t, ws); got != `{"type":"ping"}` {
			t.Fatalf("ping %d: got %s", i+1, got)
		}
		writeText(t, ws, `{"type":"pong"}`)
		waitCount(t, s, `recv {"type":"pong"}`, i+1)
		if l := lines(s, `send {"type":"ping"}`); len(l) != i+1 || !strings.HasPrefix(l[i], "+"+at.String()+" ") {
			t.Fatalf("ping lines %q, want ping %d at +%v", l, i+1, at)
		}
	}
	if n := len(lines(s, "send")); n != 3 {
		t.Errorf("%d sends, want the ack and 2 pings: a pong is not answered\n%s", n, s.Transcript())
	}
}

// serverPinging is the queue profile with the server pinging every 5 s.
func serverPinging(onOpen bool) *profile.Profile {
	p := profile.QueueProfile()
	p.Heartbeat = profile.Heartbeat{Mode: profile.HeartbeatServer, Interval: 5 * time.Second,
		PingType: "ping", PongType: "pong", OnOpen: onOpen}
	return p
}

func TestServerPingsWithoutAHandshakeStartAtOpen(t *testing.T) {
	t.Run("an interval after open", func(t *testing.T) {
		p := serverPinging(false)
		s, clock := newServer(t, p)
		ws := dial(t, s.URL)
		if d := advance(t, clock); d != 5*time.Second {
			t.Fatalf("advanced %v, want 5s", d)
		}
		if m := read(t, ws, p); m.Kind != profile.Event || m.Type != "ping" {
			t.Fatalf("got %v, want the ping", m)
		}
	})
	t.Run("on open", func(t *testing.T) {
		p := serverPinging(true)
		s, clock := newServer(t, p)
		ws := dial(t, s.URL)
		if m := read(t, ws, p); m.Type != "ping" {
			t.Fatalf("got %v, want a ping at once", m)
		}
		if l := waitLine(t, s, "send"); l.At != 0 {
			t.Errorf("first ping at %v, want +0s", l.At)
		}
		if d := advance(t, clock); d != 5*time.Second {
			t.Fatalf("advanced %v, want 5s to the second ping", d)
		}
		read(t, ws, p)
	})
}

func TestServerPingsKeepTheirGridAndStopOnClose(t *testing.T) {
	p := serverPinging(false)
	s, clock := newServer(t, p)
	ws := dial(t, s.URL)
	waitLine(t, s, "#1 open")
	if err := clock.BlockUntilContext(ctx(t), 1); err != nil {
		t.Fatal(err)
	}
	clock.Advance(12 * time.Second) // past two pings' times: one ping, as a ticker
	read(t, ws, p)
	if at, ok := clock.Next(); !ok || at.Sub(clock.Start()) != 15*time.Second {
		t.Fatalf("next ping due %v (armed %v), want +15s, on the 5s grid", at.Sub(clock.Start()), ok)
	}
	if n := len(lines(s, "send")); n != 1 {
		t.Fatalf("%d pings, want 1 for a 12s jump", n)
	}

	ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(1000, "bye"), time.Now().Add(patience))
	waitLine(t, s, "#1 close 1000")
	noTimer(t, clock, "the next ping of a closed connection")
}

func TestPongFaultsActOnServerPings(t *testing.T) {
	t.Run("swallowed", func(t *testing.T) {
		s, clock := newServer(t, graphqlWS(), chaos.FirstN(1, chaos.SwallowPongs()))
		ws := graphqlDial(t, s)
		handshake(t, ws)
		advance(t, clock)
		waitLine(t, s, "fault swallow-pongs first=1: dropped server frame #2 (event ping)")
		if d := advance(t, clock); d != 10*time.Second {
			t.Fatalf("advanced %v, want 10s to the next ping", d)
		}
		if got := readText(t, ws); got != `{"type":"ping"}` {
			t.Fatalf("got %s, want the second ping only", got)
		}
		if l := waitLine(t, s, `send {"type":"ping"}`); l.At != 20*time.Second {
			t.Errorf("the first ping sent at %v, want +20s: the one at +10s was swallowed", l.At)
		}
	})
	t.Run("delayed", func(t *testing.T) {
		s, clock := newServer(t, graphqlWS(), chaos.DelayPongs(3*time.Second))
		ws := graphqlDial(t, s)
		handshake(t, ws)
		advance(t, clock)
		waitLine(t, s, "delay-pongs 3s: delayed server frame #2 (event ping) by 3s")
		if d := advance(t, clock); d != 3*time.Second {
			t.Fatalf("advanced %v, want the 3s delay", d)
		}
		if got := readText(t, ws); got != `{"type":"ping"}` {
			t.Fatalf("got %s", got)
		}
	})
	t.Run("the handshake reply is not a heartbeat frame", func(t *testing.T) {
		s, _ := newServer(t, graphqlWS(), chaos.SwallowPongs())
		handshake(t, graphqlDial(t, s))
	})
}

// A pong to a server ping is an answer, not a request: a profile that
// replies to every request does not reply to it.
func TestAPongToAServerPingIsNotAnswered(t *testing.T) {
	p := profile.MattermostProfile() // replies: true
	p.Heartbeat = profile.Heartbeat{Mode: profile.HeartbeatServer, Interval: 5 * time.Second, PingType: "ping", PongType: "pong"}
	s, clock := newServer(t, p)
	ws := dial(t, resumeURL(t, s, "", 0))
	read(t, ws, p) // hello
	advance(t, clock)
	if m := read(t, ws, p); m.Kind != profile.Event || m.Type != "ping" || m.Seq != 1 {
		t.Fatalf("got %v, want the ping, numbered in the session", m)
	}
	send(t, ws, p, request("pong", 7, nil))
	send(t, ws, p, request("typing", 8, nil))
	if m := read(t, ws, p); m.Kind != profile.Reply || m.SeqReply != 8 {
		t.Fatalf("got %v, want the reply to request 8 and none to the pong", m)
	}
}
