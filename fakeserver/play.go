package fakeserver

import (
	"encoding/json"
	"fmt"

	"github.com/wschaos/wschaos/internal/link"
	"github.com/wschaos/wschaos/internal/wire"
	"github.com/wschaos/wschaos/transcript"

	"github.com/gorilla/websocket"
	"github.com/wschaos/wschaos/chaos"
	"github.com/wschaos/wschaos/profile"
)

// handle plays the profile's part for a client frame that made it through
// the faults.
func (c *conn) handle(f chaos.Frame) {
	switch c.life.State {
	case link.Hole:
		c.swallow(f) // delayed into a link that has since gone dark
		return
	case link.Closing, link.Ended:
		c.record(transcript.Entry{Kind: transcript.KindNote, Op: f.Op, Data: string(f.Data), Msg: f.Msg,
			Note: fmt.Sprintf("%s not handled: connection closing", wire.FrameName(f))})
		return
	}
	switch f.Op {
	case websocket.PingMessage:
		c.outIdx++
		c.out(chaos.Frame{Dir: profile.Server, Index: c.outIdx, Op: websocket.PongMessage, Data: f.Data, Pong: true})
	case websocket.TextMessage, websocket.BinaryMessage:
		if f.Msg != nil && f.Msg.Kind == profile.Request {
			c.answer(*f.Msg)
		}
	}
}

// answer sends what the profile says a request gets: the handshake's reply
// for the handshake message, a pong for a ping, an ack for a send, a reply
// for anything when the profile replies; nothing for a pong to a server
// ping.
func (c *conn) answer(req profile.Message) {
	if c.answerHandshake(req) || c.isServerPong(req) {
		return
	}
	p := c.s.Profile
	if p.Heartbeat.PingType != "" && req.Type == p.Heartbeat.PingType {
		c.send(p.Pong(req), true)
		return
	}
	if p.SendType != "" && p.AckType != "" && req.Type == p.SendType {
		c.send(profile.Message{Kind: profile.Event, Type: p.AckType, Data: ackData(req)}, false)
	}
	if p.Replies {
		c.send(profile.Message{Kind: profile.Reply, Status: "OK", SeqReply: req.Seq}, false)
	}
}

// ackData is {"messageId": <the request's "id", as sent>}, null without one.
func ackData(req profile.Message) json.RawMessage {
	var fields map[string]json.RawMessage
	id := json.RawMessage("null")
	if json.Unmarshal(req.Data, &fields) == nil && fields["id"] != nil {
		id = fields["id"]
	}
	return profile.MustData(map[string]json.RawMessage{"messageId": id})
}

// send numbers an event in the session (profiles that resume) and sends it.
func (c *conn) send(m profile.Message, pong bool) {
	if m.Kind == profile.Event {
		c.sequence(&m)
	}
	c.outMsg(m, pong)
}
