package client_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/wschaos/wschaos/client"
	"github.com/wschaos/wschaos/profile"
)

// TestConnectTimeout: the connect timeout is the profile's, an option
// overrides it, and a profile without one (phoenix) arms none: the dial
// waits until it ends or Close.
func TestConnectTimeout(t *testing.T) {
	for _, tc := range []struct {
		name    string
		profile string
		opts    []rigOption
		want    time.Duration // 0: no timeout
	}{
		{"the profile's", "reconnecting-websocket", nil, s(4)},
		{"the option overrides the profile's", "reconnecting-websocket", []rigOption{withConnectTimeout(s(2))}, s(2)},
		{"none in the profile: none at all", "phoenix", nil, 0},
		{"none in the profile, one in the option", "phoenix", []rigOption{withConnectTimeout(s(3))}, s(3)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pr := newPeer(t)
			pr.stall = true
			r := newRig(t, pr.url(), profile.ByName(tc.profile), tc.opts...)
			r.start()
			waitFor(t, pr.dials, "the dial") // the timeout is armed before the dial starts
			if tc.want == 0 {
				r.wantNoTimer("the profile has no connect timeout and no option sets one")
				if err := r.c.Close(); err != nil {
					t.Fatal(err)
				}
				r.await(client.StateDisconnected)
				return
			}
			r.wantNext(tc.want, "the connect timeout")
			r.step()
			ch := r.await(client.StateReconnecting)
			if ch.Err == nil || !strings.Contains(ch.Err.Error(), "no handshake within "+tc.want.String()) {
				t.Fatalf("the failed attempt says %v; want the timeout %v", ch.Err, tc.want)
			}
		})
	}
}

// TestSubprotocol: the profile's subprotocol is offered, and a server that
// does not select it fails the attempt.
func TestSubprotocol(t *testing.T) {
	p := profile.QueueProfile()
	p.Connect.Subprotocol = "chat.v2"

	t.Run("selected", func(t *testing.T) {
		pr := newPeer(t)
		pr.subprotocols = []string{"chat.v2"}
		r := newRig(t, pr.url(), p)
		r.start()
		pc := waitFor(t, pr.conns, "the connection")
		if got := pc.r.Header.Get("Sec-WebSocket-Protocol"); got != "chat.v2" {
			t.Fatalf("the client offered subprotocols %q; want chat.v2", got)
		}
		r.await(client.StateConnected)
	})

	t.Run("not selected", func(t *testing.T) {
		pr := newPeer(t)
		r := newRig(t, pr.url(), p)
		r.start()
		pc := waitFor(t, pr.conns, "the connection")
		ch := r.await(client.StateReconnecting, client.StateConnected)
		if ch.Err == nil || !strings.Contains(ch.Err.Error(), `did not select subprotocol "chat.v2"`) {
			t.Fatalf("the failed attempt says %v; want the missing subprotocol named", ch.Err)
		}
		if code := pc.ended(); code != profile.StatusAbnormalClosure {
			t.Fatalf("the socket ended with %d; want a dropped connection (1006), as a browser fails it", code)
		}
	})
}

// handshakeProfile is profile queue with graphql-ws's handshake.
func handshakeProfile() *profile.Profile {
	p := profile.QueueProfile()
	p.Connect.Handshake = &profile.Handshake{Type: "connection_init", Data: json.RawMessage(`{"token":"t1"}`),
		ReplyType: "connection_ack"}
	return p
}

// TestHandshake: the handshake message goes first, the client is
// connected only on the reply, and the offline queue is flushed after it.
func TestHandshake(t *testing.T) {
	pr := newPeer(t)
	r := newRig(t, pr.url(), handshakeProfile())
	r.send("message.send", "one")
	r.send("message.send", "two")
	r.start()
	pc := waitFor(t, pr.conns, "the connection")
	if got, want := pc.next(), `{"type":"connection_init","payload":{"token":"t1"}}`; got != want {
		t.Fatalf("the first frame is %s; want the handshake %s", got, want)
	}
	pc.send(`{"type":"note"}`)
	r.awaitMsg("note") // the client has read past the handshake
	if st := r.c.State(); st != client.StateConnecting {
		t.Fatalf("state %v before the handshake reply; want connecting", st)
	}
	if n := r.c.Queued(); n != 2 {
		t.Fatalf("%d queued before the handshake reply; want both sends still queued", n)
	}
	pc.send(`{"type":"connection_ack"}`)
	r.await(client.StateConnected)
	for _, want := range []string{`{"type":"message.send","payload":"one"}`, `{"type":"message.send","payload":"two"}`} {
		if got := pc.next(); got != want {
			t.Fatalf("after the reply the client sent %s; want the queue in order, %s", got, want)
		}
	}
}

// TestHandshakeReplyTimeout: the connect timeout bounds the wait for the
// handshake reply too; without a timeout the client waits.
func TestHandshakeReplyTimeout(t *testing.T) {
	t.Run("the profile's timeout", func(t *testing.T) {
		pr := newPeer(t)
		r := newRig(t, pr.url(), handshakeProfile())
		r.start()
		pc := waitFor(t, pr.conns, "the connection")
		pc.next() // the handshake, never answered
		r.wantNext(s(10), "the connect timeout, armed at the dial, bounding the reply")
		r.step()
		ch := r.await(client.StateReconnecting, client.StateConnected)
		if ch.Err == nil || !strings.Contains(ch.Err.Error(), "no connection_ack within the connect timeout 10s") {
			t.Fatalf("the failed attempt says %v; want the missing reply named", ch.Err)
		}
		if code := pc.ended(); code != profile.StatusAbnormalClosure {
			t.Fatalf("the socket ended with %d; want it dropped (1006)", code)
		}
	})
	t.Run("no timeout", func(t *testing.T) {
		pr := newPeer(t)
		p := handshakeProfile()
		p.Connect.Timeout = 0
		r := newRig(t, pr.url(), p)
		r.start()
		pc := waitFor(t, pr.conns, "the connection")
		pc.next()
		pc.send(`{"type":"note"}`)
		r.awaitMsg("note")
		r.wantNoTimer("no connect timeout: the client waits for the reply")
	})
}
