package client_test

import (
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/wschaos/wschaos/client"
	"github.com/wschaos/wschaos/profile"
)

// TestIntentionalCloseCode: Close sends the profile's Close.Code, and a
// close frame without a code when that is "none" (the server reads 1005).
func TestIntentionalCloseCode(t *testing.T) {
	for _, tc := range []struct {
		profile string
		want    profile.StatusCode
	}{
		{"queue", profile.StatusNormalClosure},
		{"mattermost", profile.StatusNoStatus},
		{"phoenix", profile.StatusNoStatus},
	} {
		t.Run(tc.profile, func(t *testing.T) {
			pr := newPeer(t)
			r := newRig(t, pr.url(), profile.ByName(tc.profile))
			pc := connect(t, pr, r)
			if err := r.c.Close(); err != nil {
				t.Fatal(err)
			}
			if code := pc.ended(); code != tc.want {
				t.Fatalf("the intentional close sent %d; want %d", code, tc.want)
			}
		})
	}
}

// deadLink runs the heartbeat of a connected client with no pong until
// it closes the link, and returns the code of its close frame. Each step
// has one effect: a ping (the timer already re-armed) or the close.
func deadLink(t *testing.T, p *profile.Profile, r *rig, pc *peerConn) profile.StatusCode {
	t.Helper()
	if p.Heartbeat.OnOpen {
		pc.next()
	}
	for {
		r.step()
		select {
		case code := <-pc.end:
			return code
		case <-pc.in:
		case <-time.After(waitPatience):
			t.Fatalf("at %v the heartbeat neither pinged nor closed", r.now())
		}
	}
}

// TestErrorCloseReport: a dead link's code goes in the close frame
// (report frame), on the next connect URL only (query), or both.
func TestErrorCloseReport(t *testing.T) {
	both := profile.QueueProfile()
	both.Close.Report, both.Close.Query = profile.ReportBoth, "last_close"
	for _, tc := range []struct {
		name      string
		p         *profile.Profile
		frame     profile.StatusCode
		param     string
		wantParam string // "" : absent
	}{
		{"frame (queue)", profile.QueueProfile(), profile.StatusPingTimeout, "", ""},
		{"query (mattermost)", profile.MattermostProfile(), profile.StatusNoStatus, "disconnect_err_code", "4000"},
		{"both", both, profile.StatusPingTimeout, "last_close", "4000"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pr := newPeer(t)
			r := newRig(t, pr.url(), tc.p)
			pc := connect(t, pr, r)
			first := waitFor(t, pr.dials, "the first dial")
			if got := deadLink(t, tc.p, r, pc); got != tc.frame {
				t.Fatalf("the dead link's close frame has %d; want %d", got, tc.frame)
			}
			r.await(client.StateReconnecting)
			r.step()
			next := waitFor(t, pr.dials, "the reconnect")
			for _, u := range []*url.URL{first, next} {
				for k := range u.Query() {
					if k == "disconnect_err_code" || k == "last_close" {
						if u == first || k != tc.param {
							t.Fatalf("connect URL %s carries %s; want no close code there", u, k)
						}
					}
				}
			}
			if tc.param != "" {
				if got := next.Query().Get(tc.param); got != tc.wantParam {
					t.Fatalf("the reconnect URL %s has %s=%q; want %q", next, tc.param, got, tc.wantParam)
				}
			}
		})
	}
}

// TestCloseQueryKeepsFirstCode (mattermost): the connect URL carries the
// first close code since the last successful open, whatever it was (1006
// for a refused dial, a server's code), and none after an open.
func TestCloseQueryKeepsFirstCode(t *testing.T) {
	pr := newPeer(t)
	pr.refuse = 1
	r := newRig(t, pr.url(), profile.MattermostProfile())
	code := func(u *url.URL) string { return u.Query().Get("disconnect_err_code") }
	r.start()
	if u := waitFor(t, pr.dials, "dial 1"); u.Query().Has("disconnect_err_code") {
		t.Fatalf("the first connect URL %s carries a close code", u)
	}
	r.await(client.StateReconnecting)
	r.step()
	if u := waitFor(t, pr.dials, "dial 2"); code(u) != "1006" {
		t.Fatalf("after a refused dial the URL is %s; want disconnect_err_code=1006", u)
	}
	pc := waitFor(t, pr.conns, "connection 2")
	r.await(client.StateConnected)
	pr.set(func(p *peer) { p.refuse = 1 })
	pc.closeWith(4002)
	r.await(client.StateReconnecting)
	r.step()
	if u := waitFor(t, pr.dials, "dial 3"); code(u) != "4002" {
		t.Fatalf("after the server's 4002 the URL is %s; want disconnect_err_code=4002 (the 1006 before the open is forgotten)", u)
	}
	r.await(client.StateReconnecting)
	r.step()
	if u := waitFor(t, pr.dials, "dial 4"); code(u) != "4002" {
		t.Fatalf("after 4002 and a refused dial the URL is %s; want the first code, 4002", u)
	}
}

// TestFatalCloseCode (graphql-ws): a server close with a fatal code, before
// or after the handshake reply, stops the client until Reconnect; any
// other code is retried.
func TestFatalCloseCode(t *testing.T) {
	for _, tc := range []struct {
		name    string
		code    profile.StatusCode
		acked   bool
		isFatal bool
	}{
		{"4401 after the ack", 4401, true, true},
		{"4400 before the ack", 4400, false, true},
		{"1011, in a fatal range", 1011, true, true},
		{"4403 is retried", 4403, true, false},
		{"1001 is retried", profile.StatusGoingAway, true, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pr := newPeer(t)
			pr.subprotocols = []string{"graphql-transport-ws"}
			r := newRig(t, pr.url(), profile.ByName("graphql-ws"))
			r.start()
			pc := waitFor(t, pr.conns, "the connection")
			pc.next()
			if tc.acked {
				pc.send(`{"type":"connection_ack"}`)
				r.await(client.StateConnected)
			}
			pc.closeWith(tc.code)
			if !tc.isFatal {
				r.await(client.StateReconnecting, client.StateGaveUp)
				return
			}
			ch := r.await(client.StateGaveUp, client.StateReconnecting)
			if ch.Err == nil || !strings.Contains(ch.Err.Error(), fmt.Sprintf("closed with %d", tc.code)) {
				t.Fatalf("the give-up says %v; want the fatal code %d named", ch.Err, tc.code)
			}
			r.wantNoTimer("a fatal close is never retried")
			r.c.Reconnect()
			waitFor(t, pr.dials, "the dial") // the first
			waitFor(t, pr.dials, "the dial Reconnect asked for")
		})
	}
}
