package proxy

import (
	"errors"
	"fmt"
	"time"

	"github.com/gorilla/websocket"
	"github.com/wschaos/wschaos/chaos"
	"github.com/wschaos/wschaos/internal/link"
	"github.com/wschaos/wschaos/internal/wire"
	"github.com/wschaos/wschaos/profile"
	"github.com/wschaos/wschaos/transcript"
)

// maxReason is the longest close reason a close frame carries (RFC 6455:
// 125 bytes of payload, two of them the code).
const maxReason = 123

// socket is the connection to side.
func (c *conn) socket(side profile.Side) *websocket.Conn {
	if side == profile.Server {
		return c.up
	}
	return c.client
}

// write puts a frame on the wire of the side it is headed to (a client
// frame to the upstream, an upstream frame to the client), in a turn.
func (c *conn) write(f chaos.Frame) { c.writeAs(f, string(f.Data), nil) }

// writeAs is write for a frame relayed untouched: its payload is already a
// string, its arrival entry's, so the transcript keeps one copy of it, not
// one per entry; and raw, when set, is the frame as it came, which goes on
// as it is. (A client's frame is masked with the client's key: the
// upstream unmasks it as well with that key as with any other.)
func (c *conn) writeAs(f chaos.Frame, data string, raw []byte) {
	if c.streaming[f.Dir] && (f.Op == websocket.TextMessage || f.Op == websocket.BinaryMessage) {
		c.held[f.Dir] = append(c.held[f.Dir], heldFrame{frame: f, data: data})
		return
	}
	switch c.life.State {
	case link.Hole:
		c.swallow(f)
		return
	case link.Closing, link.Ended:
		c.record(Entry{Kind: transcript.KindNote, Op: f.Op, Data: data, Msg: f.Msg,
			Note: fmt.Sprintf("%s not sent: connection closing", wire.FrameName(f))})
		return
	}
	to := other(f.Dir)
	e := Entry{Kind: transcript.KindSend, Op: f.Op, Data: data, Msg: f.Msg}
	if to == profile.Server {
		e.Kind = KindUpSend
	}
	c.record(e)
	c.count(f.Dir, func(d *DirStatus) { d.Delivered++ }) // before the peer can see it
	var err error
	switch {
	case f.Op == websocket.PingMessage, f.Op == websocket.PongMessage, f.Op == websocket.CloseMessage:
		err = c.socket(to).WriteControl(f.Op, f.Data, time.Now().Add(link.WriteWait))
	case raw != nil:
		_, err = c.socks[to].Write(raw) // buffered: the flush has the deadline
	default:
		err = c.socks[to].writeFrame(f.Op, f.Data, to == profile.Server)
	}
	if err != nil { // the socket failed an earlier flush
		c.p.logf(c.attempt, "write to %s failed: %v", to, err)
		c.record(Entry{Kind: transcript.KindClose, Code: profile.StatusAbnormalClosure, By: to,
			Note: fmt.Sprintf("write to %s failed: %s socket dropped", to, f.Dir)})
		c.end()
	}
}

// writeClose sends a close frame to side, best effort: the connection is
// ending. Code 1005 (no status) sends an empty close frame.
func (c *conn) writeClose(to profile.Side, code profile.StatusCode, reason string) {
	if len(reason) > maxReason {
		reason = reason[:maxReason]
	}
	msg := websocket.FormatCloseMessage(int(code), reason)
	err := c.socket(to).WriteControl(websocket.CloseMessage, msg, time.Now().Add(link.WriteWait))
	if err != nil && !errors.Is(err, websocket.ErrCloseSent) { // sent already: by gorilla, or a cut
		c.p.logf(c.attempt, "close frame to %s not sent: %v", to, err)
	}
}

// closing waits for the answers of the awaited sides to a close, or
// link.CloseGrace of real time. initiator, when set, gets the answer relayed:
// the close handshake then completes end to end.
func (c *conn) closing(initiator *profile.Side, awaited ...profile.Side) {
	c.life.Set(link.Closing)
	c.initiator = initiator
	for _, s := range awaited {
		c.awaiting[s] = true
		c.socket(s).SetReadDeadline(time.Now().Add(link.CloseGrace))
	}
}

// answered takes side's read error while closing: its close frame is
// relayed to the side that started the close, and once every awaited side
// has answered (or vanished) the connection ends.
func (c *conn) answered(side profile.Side, ce *websocket.CloseError, isClose bool) {
	if !c.awaiting[side] {
		if c.holding && side == profile.Client {
			c.end() // the client gave up on its held answer
		}
		return // the initiator dropping its socket after its close
	}
	c.awaiting[side] = false
	if isClose && c.initiator != nil && *c.initiator == other(side) {
		if d, answer := c.faults.HoldClose(ce.Code, ce.Text); answer != nil && *c.initiator == profile.Client {
			c.holdClose(d, answer)
			return
		}
		c.writeClose(*c.initiator, profile.StatusCode(ce.Code), ce.Text)
	}
	if !c.awaiting[profile.Client] && !c.awaiting[profile.Server] {
		c.end()
	}
}

// swallow records a frame the black hole ate.
func (c *conn) swallow(f chaos.Frame) {
	c.faultEntry(c.life.HoleBy, "swallowed "+wire.FrameName(f), &f)
	c.count(f.Dir, func(d *DirStatus) { d.Dropped++ })
}

// cut ends or silences the connection as k says, on behalf of fault by.
// Cuts act on the client's side as a server would; the upstream gets close
// upstreamCutCode for a close frame, and the same FIN or RST otherwise.
func (c *conn) cut(k chaos.Cut, by string) {
	if !c.life.Cut(&c.faults, k, by, "proxy") {
		return
	}
	switch k.Kind {
	case chaos.CloseFrame:
		c.record(Entry{Kind: transcript.KindClose, Code: k.Code, Reason: k.Reason, By: profile.Server, Fault: by})
		c.writeClose(profile.Client, k.Code, k.Reason)
		c.writeClose(profile.Server, upstreamCutCode, "wschaos proxy: "+by)
		c.closing(nil, profile.Client, profile.Server)
	case chaos.FIN:
		c.record(Entry{Kind: transcript.KindClose, Code: profile.StatusAbnormalClosure, By: profile.Server, Fault: by, Note: "FIN"})
		c.end()
	case chaos.RST:
		c.record(Entry{Kind: transcript.KindClose, Code: profile.StatusAbnormalClosure, By: profile.Server, Fault: by, Note: "RST"})
		for _, ws := range []*websocket.Conn{c.client, c.up} {
			if l, ok := ws.NetConn().(interface{ SetLinger(int) error }); ok {
				l.SetLinger(0) // close sends RST instead of FIN
			}
		}
		c.end()
	}
}
