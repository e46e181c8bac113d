package client_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/wschaos/wschaos/client"
	"github.com/wschaos/wschaos/internal/flaw"
	"github.com/wschaos/wschaos/profile"
)

// TestFlaws: each flaw of the profile-driven behaviours makes the client
// commit its bug, so a spec can prove it catches it.
func TestFlaws(t *testing.T) {
	t.Run("IgnoreFatalCodes reconnects after 4401", func(t *testing.T) {
		pr := newPeer(t)
		pr.subprotocols = []string{"graphql-transport-ws"}
		r := newRig(t, pr.url(), profile.ByName("graphql-ws"), withFlaws(flaw.Set{IgnoreFatalCodes: true}))
		r.start()
		pc := waitFor(t, pr.conns, "the connection")
		pc.next()
		pc.send(`{"type":"connection_ack"}`)
		r.await(client.StateConnected)
		pc.closeWith(4401)
		r.await(client.StateReconnecting, client.StateGaveUp)
	})

	t.Run("EveryServerCodeFatal gives up after 1012", func(t *testing.T) {
		pr := newPeer(t)
		pr.subprotocols = []string{"graphql-transport-ws"}
		r := newRig(t, pr.url(), profile.ByName("graphql-ws"), withFlaws(flaw.Set{EveryServerCodeFatal: true}))
		r.start()
		pc := waitFor(t, pr.conns, "the connection")
		pc.next()
		pc.send(`{"type":"connection_ack"}`)
		r.await(client.StateConnected)
		pc.closeWith(1012)
		r.await(client.StateGaveUp, client.StateReconnecting)
	})

	t.Run("NoHandshakeWait is connected before the reply", func(t *testing.T) {
		pr := newPeer(t)
		r := newRig(t, pr.url(), handshakeProfile(), withFlaws(flaw.Set{NoHandshakeWait: true}))
		r.send("message.send", "early")
		r.start()
		pc := waitFor(t, pr.conns, "the connection")
		r.await(client.StateConnected)
		pc.next() // connection_init
		if got := pc.next(); got != `{"type":"message.send","payload":"early"}` {
			t.Fatalf("the flawed client sent %s after the handshake; want its queue, unacked", got)
		}
	})

	t.Run("ResetOnOpenDespiteUptime resets after 2 s up", func(t *testing.T) {
		pr := newPeer(t)
		r := newRig(t, pr.url(), profile.ByName("reconnecting-websocket"), withFlaws(flaw.Set{ResetOnOpenDespiteUptime: true}))
		session(t, pr, r, true, noHandshake, s(2))
		d1 := r.backoff()
		session(t, pr, r, false, noHandshake, s(2))
		if d2 := r.backoff(); d2 != d1 {
			t.Fatalf("the flawed client waited %v then %v; want the same wait twice", d1, d2)
		}
	})

	t.Run("CloseCodeInFrame puts 4000 in mattermost's frame", func(t *testing.T) {
		pr := newPeer(t)
		p := profile.MattermostProfile()
		r := newRig(t, pr.url(), p, withFlaws(flaw.Set{CloseCodeInFrame: true}))
		pc := connect(t, pr, r)
		if code := deadLink(t, p, r, pc); code != profile.StatusPingTimeout {
			t.Fatalf("the flawed client's dead-link frame has %d; want 4000", code)
		}
	})

	t.Run("NoServerPongs leaves a server ping unanswered", func(t *testing.T) {
		pr := newPeer(t)
		pr.subprotocols = []string{"graphql-transport-ws"}
		r := newRig(t, pr.url(), profile.ByName("graphql-ws"), withFlaws(flaw.Set{NoServerPongs: true}))
		r.start()
		pc := waitFor(t, pr.conns, "the connection")
		pc.next()
		pc.send(`{"type":"connection_ack"}`)
		r.await(client.StateConnected)
		pc.send(`{"type":"ping"}`)
		r.awaitMsg("ping") // a pong would be written before this
		r.send("subscribe", nil)
		if got := pc.next(); !strings.Contains(got, `"subscribe"`) {
			t.Fatalf("the flawed client sent %s; want no pong, so the subscribe next", got)
		}
	})

	t.Run("QueueDropsSilentlyOnError drops without an error", func(t *testing.T) {
		r := newRig(t, "ws://127.0.0.1:1/never", boundedQueue(1, profile.QueueError),
			withFlaws(flaw.Set{QueueDropsSilentlyOnError: true}))
		r.send("message.send", "a")
		if err := r.c.Send(context.Background(), "message.send", "b"); err != nil || r.c.Dropped() != 0 || r.c.Queued() != 1 {
			t.Fatalf("Send = %v, dropped %d, queued %d; want nil, 0 and 1: a silent loss", err, r.c.Dropped(), r.c.Queued())
		}
	})

	t.Run("NoConnectTimeout arms none though the profile has one", func(t *testing.T) {
		pr := newPeer(t)
		pr.stall = true
		r := newRig(t, pr.url(), profile.ByName("reconnecting-websocket"), withFlaws(flaw.Set{NoConnectTimeout: true}))
		r.start()
		waitFor(t, pr.dials, "the dial")
		r.wantNoTimer("the flaw ignores the profile's 4 s")
	})
}

// TestCloseAndRetryFlaws: the flaws the scenario library's close, dead
// link and error-code files catch each commit their bug.
func TestCloseAndRetryFlaws(t *testing.T) {
	t.Run("RedialAtOnceAfterDeadLink dials with no wait", func(t *testing.T) {
		pr := newPeer(t)
		p := profile.QueueProfile()
		r := newRig(t, pr.url(), p, withFlaws(flaw.Set{RedialAtOnceAfterDeadLink: true}))
		pc := connect(t, pr, r)
		waitFor(t, pr.dials, "the first dial")
		deadLink(t, p, r, pc)
		at := r.now()
		waitFor(t, pr.dials, "the redial")
		if r.now() != at {
			t.Fatalf("the flawed client redialed at %v; want at once, at %v", r.now(), at)
		}
	})

	t.Run("DeadSocketLeftOpen redials with the old socket up", func(t *testing.T) {
		pr := newPeer(t)
		p := profile.QueueProfile()
		r := newRig(t, pr.url(), p, withFlaws(flaw.Set{DeadSocketLeftOpen: true}))
		pc := connect(t, pr, r)
		waitFor(t, pr.dials, "the first dial")
		pc.silent.Store(true)
		if code := deadLink(t, p, r, pc); code != profile.StatusPingTimeout {
			t.Fatalf("the flawed client's close frame has %d; want 4000, the frame goes out", code)
		}
		// The socket left open is the library's to see (two-sockets-bound:
		// the server never sees it close); here, the client goes on as if
		// it had closed it.
		r.await(client.StateReconnecting)
		r.step()
		waitFor(t, pr.dials, "the retry")
	})

	t.Run("CloseReconnects dials after Close", func(t *testing.T) {
		pr := newPeer(t)
		r := newRig(t, pr.url(), profile.QueueProfile(), withFlaws(flaw.Set{CloseReconnects: true}))
		connect(t, pr, r)
		waitFor(t, pr.dials, "the first dial")
		at := r.now()
		r.c.Close()
		// Close does not wait for the flawed loop: wait for its retry.
		deadline := time.Now().Add(waitPatience)
		for next, ok := r.next(); !ok || next != at+time.Second; next, ok = r.next() {
			if time.Now().After(deadline) {
				t.Fatalf("no retry armed after Close; want the flawed client's at %v", at+time.Second)
			}
			time.Sleep(time.Millisecond)
		}
		r.step()
		waitFor(t, pr.dials, "the dial after Close")
	})

	t.Run("ReportLastCode reports the refusal's 1006 after a 4000", func(t *testing.T) {
		pr := newPeer(t)
		p := profile.MattermostProfile()
		r := newRig(t, pr.url(), p, withFlaws(flaw.Set{ReportLastCode: true}))
		pc := connect(t, pr, r)
		waitFor(t, pr.dials, "dial 1")
		pr.set(func(p *peer) { p.refuse = 1 })
		deadLink(t, p, r, pc)
		r.await(client.StateReconnecting)
		r.step()
		if u := waitFor(t, pr.dials, "dial 2"); u.Query().Get("disconnect_err_code") != "4000" {
			t.Fatalf("dial 2 is %s; want 4000 reported", u)
		}
		r.await(client.StateReconnecting)
		r.step()
		if u := waitFor(t, pr.dials, "dial 3"); u.Query().Get("disconnect_err_code") != "1006" {
			t.Fatalf("dial 3 is %s; want the flawed client's last code, 1006", u)
		}
	})

	t.Run("KeepCodeAfterOpen still reports 1006 after an open", func(t *testing.T) {
		pr := newPeer(t)
		pr.refuse = 1
		r := newRig(t, pr.url(), profile.MattermostProfile(), withFlaws(flaw.Set{KeepCodeAfterOpen: true}))
		r.start()
		waitFor(t, pr.dials, "dial 1")
		r.await(client.StateReconnecting)
		r.step()
		waitFor(t, pr.dials, "dial 2")
		pc := waitFor(t, pr.conns, "connection 2")
		r.await(client.StateConnected)
		pc.closeWith(4002)
		r.await(client.StateReconnecting)
		r.step()
		if u := waitFor(t, pr.dials, "dial 3"); u.Query().Get("disconnect_err_code") != "1006" {
			t.Fatalf("dial 3 is %s; want the flawed client's old 1006, not 4002", u)
		}
	})
}
