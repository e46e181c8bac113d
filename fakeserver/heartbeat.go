package fakeserver

import (
	"fmt"

	"github.com/wschaos/wschaos/internal/link"
	"github.com/wschaos/wschaos/profile"
	"github.com/wschaos/wschaos/transcript"
)

// The server's side of a profile's start and heartbeat, beyond answering
// requests: the handshake message (graphql-ws's connection_init, answered
// with connection_ack) and, in heartbeat mode server, the pings it sends.
//
// In mode server the server's heartbeat frame is its ping, and the client's
// pong is the answer. The ping goes out marked Frame.Pong, the mark the
// faults on the server's heartbeat frames select by (SwallowPongs,
// DelayPongs, FloodBeforePongs): so they act on the ping in this mode, as
// they act on the server's pong in mode client. A swallowed ping is a
// heartbeat the client never sees, as a lost pong is in mode client.

// answerHandshake plays the handshake's part in answering req, and reports
// whether req is dealt with: the handshake message gets the reply (once),
// and before it any message but a heartbeat's is only noted, as a server
// of the protocol would not serve it.
func (c *conn) answerHandshake(req profile.Message) bool {
	hs := c.s.Profile.Connect.Handshake
	switch {
	case hs == nil:
		return false
	case req.Type == hs.Type && c.handshaken:
		c.record(transcript.Entry{Kind: transcript.KindNote, Msg: &req, Note: fmt.Sprintf("%s again: not answered (the handshake is done)", hs.Type)})
		return true
	case req.Type == hs.Type:
		c.handshaken = true
		c.send(profile.Message{Kind: profile.Event, Type: hs.ReplyType}, false)
		c.startHeartbeat()
		return true
	case !c.handshaken && !c.isHeartbeat(req):
		c.record(transcript.Entry{Kind: transcript.KindNote, Msg: &req, Note: fmt.Sprintf("%s before the handshake (%s): not answered", req, hs.Type)})
		return true
	}
	return false
}

// isHeartbeat reports whether req is a heartbeat message: a ping or, in
// mode server, the answer to one.
func (c *conn) isHeartbeat(req profile.Message) bool {
	hb := c.s.Profile.Heartbeat
	return hb.PingType != "" && req.Type == hb.PingType || c.isServerPong(req)
}

// isServerPong reports whether req is the client's answer to a server
// ping. It gets no answer; its recv entry is its record.
func (c *conn) isServerPong(req profile.Message) bool {
	hb := c.s.Profile.Heartbeat
	return hb.Mode == profile.HeartbeatServer && hb.PongType != "" && req.Type == hb.PongType
}

// startHeartbeat arms the server's pings, in mode server: the first one
// Interval from now (now with OnOpen), then one every Interval.
func (c *conn) startHeartbeat() {
	hb := c.s.Profile.Heartbeat
	if hb.Mode != profile.HeartbeatServer || hb.Interval <= 0 || c.pinging || c.life.State != link.Open && c.life.State != link.Hole {
		return
	}
	c.pinging = true
	c.nextPing = c.s.Clock.Now()
	if hb.OnOpen {
		c.ping()
		return
	}
	c.nextPing = c.nextPing.Add(hb.Interval)
	c.delays.Add(hb.Interval, link.Item{Ping: true})
}

// ping sends the ping due now and arms the next. Pings keep to the grid
// their first one set, as a ticker's ticks do: a clock moved on by more
// than an Interval gets the one ping, not one for each Interval it skipped.
// A connection that is closing pings no more.
func (c *conn) ping() {
	if c.life.State != link.Open && c.life.State != link.Hole {
		return
	}
	hb := c.s.Profile.Heartbeat
	c.send(profile.Message{Kind: profile.Event, Type: hb.PingType}, true)
	now := c.s.Clock.Now()
	for !c.nextPing.After(now) {
		c.nextPing = c.nextPing.Add(hb.Interval)
	}
	c.delays.Add(c.nextPing.Sub(now), link.Item{Ping: true})
}
