package client_test

import (
	"testing"
	"time"

	"github.com/wschaos/wschaos/client"
	"github.com/wschaos/wschaos/profile"
)

// backoff waits for the client to arm its retry and returns the wait.
func (r *rig) backoff() time.Duration {
	r.t.Helper()
	r.await(client.StateReconnecting)
	at, ok := r.next()
	if !ok {
		r.t.Fatalf("at %v the client is reconnecting with no timer armed", r.now())
	}
	return at - r.now()
}

// handshake is what a session does with the profile's handshake.
type handshake int

const (
	noHandshake handshake = iota
	unacked               // the server never answers it
	acked
)

// session opens the next connection (stepping to the retry first unless
// it is the first), keeps it up for uptime, and ends it from the server.
func session(t *testing.T, pr *peer, r *rig, first bool, hs handshake, uptime time.Duration) {
	t.Helper()
	if first {
		r.start()
	} else {
		r.step()
	}
	pc := waitFor(t, pr.conns, "the connection")
	if hs != noHandshake {
		pc.next()
	}
	if hs == acked {
		pc.send(`{"type":"connection_ack"}`)
	}
	if hs != unacked {
		r.await(client.StateConnected)
	}
	r.clock.Advance(uptime)
	pc.closeWith(profile.StatusGoingAway)
}

// TestFailureCountReset: the failure count resets on a successful open
// when ResetAfter is 0 (queue), only after ResetAfter of uptime
// otherwise (reconnecting-websocket), and only on the handshake reply.
func TestFailureCountReset(t *testing.T) {
	t.Run("on open (queue)", func(t *testing.T) {
		pr := newPeer(t)
		r := newRig(t, pr.url(), profile.QueueProfile())
		for i := range 3 {
			session(t, pr, r, i == 0, noHandshake, 0)
			if d := r.backoff(); d != s(1) {
				t.Fatalf("after open %d the wait is %v; want 1s, the count reset by the open", i+1, d)
			}
		}
	})

	t.Run("after 5 s of uptime (reconnecting-websocket)", func(t *testing.T) {
		pr := newPeer(t)
		r := newRig(t, pr.url(), profile.ByName("reconnecting-websocket"))
		session(t, pr, r, true, noHandshake, s(2))
		d1 := r.backoff()
		session(t, pr, r, false, noHandshake, s(2))
		if d2, want := r.backoff(), time.Duration(float64(d1)*1.3); d2 != want {
			t.Fatalf("after 2 s up the wait is %v; want failure 2's %v (1.3 × %v): too short to reset", d2, want, d1)
		}
		session(t, pr, r, false, noHandshake, s(5))
		if d3 := r.backoff(); d3 != d1 {
			t.Fatalf("after 5 s up the wait is %v; want failure 1's %v: the count resets", d3, d1)
		}
	})

	t.Run("on the handshake reply, not the socket's open", func(t *testing.T) {
		pr := newPeer(t)
		r := newRig(t, pr.url(), handshakeProfile())
		for i, tc := range []struct {
			hs   handshake
			want time.Duration
		}{{unacked, s(1)}, {unacked, s(2)}, {acked, s(1)}} {
			session(t, pr, r, i == 0, tc.hs, 0)
			if d := r.backoff(); d != tc.want {
				t.Fatalf("session %d (acked: %v): the wait is %v; want %v", i+1, tc.hs == acked, d, tc.want)
			}
		}
	})
}

// TestBackoffBaseDrawnOnce (reconnecting-websocket): the minimum delay is
// drawn once per client, so the waits are one base × 1.3^(n-1).
func TestBackoffBaseDrawnOnce(t *testing.T) {
	pr := newPeer(t)
	pr.refuse = 3
	r := newRig(t, pr.url(), profile.ByName("reconnecting-websocket"))
	r.start()
	d1 := r.backoff()
	if d1 < s(1) || d1 >= s(5) {
		t.Fatalf("the first wait is %v; want the base, drawn from [1s, 5s)", d1)
	}
	r.step()
	d2 := r.backoff()
	r.step()
	d3 := r.backoff()
	if want := time.Duration(float64(d1) * 1.3); d2 != want {
		t.Fatalf("waits %v then %v; want %v: the same base × 1.3", d1, d2, want)
	}
	if want := time.Duration(float64(d1) * 1.3 * 1.3); d3 != want {
		t.Fatalf("waits %v, %v then %v; want %v: the same base × 1.3²", d1, d2, d3, want)
	}
}
