package client_test

import (
	"testing"
	"time"

	"github.com/wschaos/wschaos/client"
	"github.com/wschaos/wschaos/profile"
)

// decode reads a frame the client sent, in p's envelope.
func decode(t *testing.T, p *profile.Profile, frame string) profile.Message {
	t.Helper()
	m, err := p.Codec.Decode([]byte(frame), profile.Client)
	if err != nil {
		t.Fatalf("the client sent %q, not in the %s envelope: %v", frame, p.Name, err)
	}
	return m
}

// encode writes a server message in p's envelope.
func encode(t *testing.T, p *profile.Profile, m profile.Message) string {
	t.Helper()
	b, err := p.Codec.Encode(m)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// connect starts r and returns the server's side of the first connection,
// once the client says it is connected.
func connect(t *testing.T, pr *peer, r *rig) *peerConn {
	t.Helper()
	r.start()
	pc := waitFor(t, pr.conns, "the connection")
	r.await(client.StateConnected)
	return pc
}

// wantPing reads the next frame and fails unless it is p's ping.
func wantPing(t *testing.T, p *profile.Profile, pc *peerConn, at time.Duration) profile.Message {
	t.Helper()
	m := decode(t, p, pc.next())
	if m.Type != p.Heartbeat.PingType {
		t.Fatalf("at %v the client sent %v; want a ping", at, m)
	}
	return m
}

// wantDead waits for the client to close the socket on a dead link, at
// virtual time at, with frame in the close frame.
func wantDead(t *testing.T, r *rig, pc *peerConn, at time.Duration, frame profile.StatusCode) {
	t.Helper()
	if code := pc.ended(); code != frame {
		t.Fatalf("the dead link was closed with %d; want %d", code, frame)
	}
	r.await(client.StateReconnecting, client.StateConnected)
	if r.now() != at {
		t.Fatalf("the dead link was noticed at %v; want %v", r.now(), at)
	}
}

// TestHeartbeatNone: no pings, no timer, while connected.
func TestHeartbeatNone(t *testing.T) {
	pr := newPeer(t)
	r := newRig(t, pr.url(), profile.ByName("reconnecting-websocket"))
	pc := connect(t, pr, r)
	r.wantNoTimer("heartbeat mode none")
	r.c.Close()
	if code := pc.ended(); code != profile.StatusNormalClosure {
		t.Fatalf("closed with %d; want 1000", code)
	}
	if len(pc.in) != 0 {
		t.Fatalf("the client sent %q; want nothing", (<-pc.in).data)
	}
}

// TestHeartbeatNextPing (queue): the first ping one interval after open,
// and a ping still unanswered when the next is due kills the link.
func TestHeartbeatNextPing(t *testing.T) {
	pr := newPeer(t)
	p := profile.QueueProfile()
	r := newRig(t, pr.url(), p)
	pc := connect(t, pr, r)
	r.wantNext(s(30), "the first ping, one interval after open")
	wantPing(t, p, pc, r.step())
	pc.send(`{"type":"pong"}`)
	r.awaitMsg("pong")
	r.wantNext(s(60), "the next ping")
	wantPing(t, p, pc, r.step())
	r.wantNext(s(90), "the next ping, the unanswered one's deadline")
	r.step()
	wantDead(t, r, pc, s(90), profile.StatusPingTimeout)
}

// TestHeartbeatOnOpenAndReplies (mattermost): a ping at once on open, and
// only a reply carrying the ping's seq answers it.
func TestHeartbeatOnOpenAndReplies(t *testing.T) {
	pr := newPeer(t)
	p := profile.MattermostProfile()
	r := newRig(t, pr.url(), p)
	pc := connect(t, pr, r)
	ping := wantPing(t, p, pc, 0)
	r.wantNext(s(30), "the next ping")
	pc.send(encode(t, p, p.Pong(ping)))
	r.awaitReply(ping.Seq)
	ping = wantPing(t, p, pc, r.step())
	pc.send(encode(t, p, profile.Message{Kind: profile.Reply, Status: "OK", SeqReply: ping.Seq + 10}))
	r.awaitReply(ping.Seq + 10)
	r.wantNext(s(60), "the next ping, the deadline of a ping answered by no reply with its seq")
	r.step()
	wantDead(t, r, pc, s(60), profile.StatusNoStatus)
}

// TestHeartbeatTimeout (phoenix): a ping must be answered within
// Heartbeat.Timeout, and the next goes one interval after the answer.
func TestHeartbeatTimeout(t *testing.T) {
	pr := newPeer(t)
	p := profile.ByName("phoenix")
	p.Heartbeat.Timeout = s(10) // shorter than the interval, to tell the two apart
	r := newRig(t, pr.url(), p)
	pc := connect(t, pr, r)
	r.wantNext(s(30), "the first heartbeat, one interval after open")
	ping := wantPing(t, p, pc, r.step())
	r.wantNext(s(40), "the heartbeat's timeout")
	r.clock.Advance(s(4))
	pc.send(encode(t, p, p.Pong(ping)))
	r.awaitReply(ping.Seq)
	r.wantNext(s(64), "the next heartbeat, one interval after the answer")
	wantPing(t, p, pc, r.step())
	r.wantNext(s(74), "the heartbeat's timeout")
	r.step()
	wantDead(t, r, pc, s(74), profile.StatusNormalClosure)
}

// TestHeartbeatSilence: pings go every interval, answered or not; the
// link is dead only when nothing at all came for Heartbeat.Timeout.
func TestHeartbeatSilence(t *testing.T) {
	pr := newPeer(t)
	p := profile.QueueProfile()
	p.Heartbeat.Dead, p.Heartbeat.Timeout = profile.DeadSilence, s(45)
	r := newRig(t, pr.url(), p)
	pc := connect(t, pr, r)
	r.wantNext(s(30), "the first ping")
	wantPing(t, p, pc, r.step())
	r.wantNext(s(45), "silence since the open")
	r.clock.Advance(s(10))
	pc.send(`{"type":"news"}`)
	r.awaitMsg("news")
	r.wantNext(s(60), "the next ping (the silence now ends at 85 s)")
	wantPing(t, p, pc, r.step()) // the first is unanswered: no matter
	r.wantNext(s(85), "45 s of silence since the news")
	r.step()
	wantDead(t, r, pc, s(85), profile.StatusPingTimeout)
}

// TestHeartbeatServer (graphql-ws): the client answers each server ping at
// once, before and after the handshake reply, and judges nothing.
func TestHeartbeatServer(t *testing.T) {
	pr := newPeer(t)
	pr.subprotocols = []string{"graphql-transport-ws"}
	r := newRig(t, pr.url(), profile.ByName("graphql-ws"))
	r.start()
	pc := waitFor(t, pr.conns, "the connection")
	if got := pc.next(); got != `{"type":"connection_init"}` {
		t.Fatalf("the client sent %s first; want connection_init", got)
	}
	pc.send(`{"type":"ping"}`)
	if got := pc.next(); got != `{"type":"pong"}` {
		t.Fatalf("before the ack the client answered a ping with %s; want a pong", got)
	}
	pc.send(`{"type":"connection_ack"}`)
	r.await(client.StateConnected)
	r.wantNoTimer("mode server without a dead rule judges nothing")
	pc.send(`{"type":"ping"}`)
	if got := pc.next(); got != `{"type":"pong"}` {
		t.Fatalf("the client answered a ping with %s; want a pong", got)
	}
}

// TestHeartbeatServerDead: with a dead rule in mode server, a server
// whose pings stop is a dead link: timeout wants the next ping within
// Interval + Timeout of the last.
func TestHeartbeatServerDead(t *testing.T) {
	pr := newPeer(t)
	pr.subprotocols = []string{"graphql-transport-ws"}
	p := profile.ByName("graphql-ws")
	p.Heartbeat.Dead, p.Heartbeat.Timeout, p.Heartbeat.CloseCode = profile.DeadTimeout, s(5), 4408
	r := newRig(t, pr.url(), p)
	r.start()
	pc := waitFor(t, pr.conns, "the connection")
	pc.next()
	pc.send(`{"type":"connection_ack"}`)
	r.await(client.StateConnected)
	r.wantNext(s(15), "a server ping, due within 10 s + 5 s of the open")
	r.clock.Advance(s(8))
	pc.send(`{"type":"ping"}`)
	pc.next() // the pong: the client has seen the ping
	r.wantNext(s(23), "the next server ping, due within 15 s of the last")
	r.step()
	wantDead(t, r, pc, s(23), 4408)
}

// TestHeartbeatFrames: ping control frames on the next-ping rule; the pong
// control frame answers.
func TestHeartbeatFrames(t *testing.T) {
	pr := newPeer(t)
	p := profile.QueueProfile()
	p.Heartbeat.Mode, p.Heartbeat.PingType, p.Heartbeat.PongType = profile.HeartbeatFrames, "", ""
	r := newRig(t, pr.url(), p)
	pc := connect(t, pr, r)
	r.wantNext(s(30), "the first ping frame")
	r.step()
	pc.nextPing() // answered by the peer before it told us
	pc.send(`{"type":"sync"}`)
	r.awaitMsg("sync") // so the client has read the pong before it
	r.wantNext(s(60), "the next ping frame")
	pc.silent.Store(true)
	r.step()
	pc.nextPing()
	r.wantNext(s(90), "the unanswered ping's deadline")
	r.step()
	wantDead(t, r, pc, s(90), profile.StatusPingTimeout)
}
