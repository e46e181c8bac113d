package client_test

import (
	"testing"

	"github.com/wschaos/wschaos/client"
	"github.com/wschaos/wschaos/profile"
)

// TestResumeParams: the connect URL names its parameters as the profile's
// Resume says, and the hello's connection id is read from Resume.IDField.
func TestResumeParams(t *testing.T) {
	p := profile.MattermostProfile()
	p.Resume.IDField, p.Resume.IDParam, p.Resume.SeqParam = "conn", "cid", "next"
	pr := newPeer(t)
	r := newRig(t, pr.url(), p)
	pc := connect(t, pr, r)
	if q := waitFor(t, pr.dials, "the first dial").Query(); q.Encode() != "cid=&next=0" {
		t.Fatalf("the first connect's query is %q; want cid=&next=0", q.Encode())
	}
	pc.send(`{"event":"hello","seq":0,"data":{"conn":"abc","connection_id":"wrong"}}`)
	r.awaitMsg("hello")
	if id := r.c.ConnectionID(); id != "abc" {
		t.Fatalf("the connection id is %q; want abc, the hello's conn", id)
	}
	pc.send(`{"event":"posted","seq":1,"data":{}}`)
	r.awaitMsg("posted")
	pc.closeWith(profile.StatusGoingAway)
	r.await(client.StateReconnecting)
	r.step()
	if q := waitFor(t, pr.dials, "the reconnect").Query(); q.Encode() != "cid=abc&disconnect_err_code=1001&next=2" {
		t.Fatalf("the reconnect's query is %q; want cid=abc&disconnect_err_code=1001&next=2", q.Encode())
	}
}
