package fakeserver

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

// outMsg encodes a server message and sends it through the faults.
func (c *conn) outMsg(m profile.Message, pong bool) {
	f, err := c.outFrame(m, pong)
	if err != nil {
		c.record(transcript.Entry{Kind: transcript.KindNote, Note: fmt.Sprintf("cannot send %v: %v", m, err)})
		return
	}
	c.out(f)
}

// outFrame makes the Frame for a server message.
func (c *conn) outFrame(m profile.Message, pong bool) (chaos.Frame, error) {
	data, err := c.s.Profile.Codec.Encode(m)
	if err != nil {
		return chaos.Frame{}, fmt.Errorf("failed to encode: %w", err)
	}
	c.outIdx++
	return chaos.Frame{Dir: profile.Server, Index: c.outIdx, Op: websocket.TextMessage, Data: data, Msg: &m, Pong: pong}, nil
}

// out sends a server frame through the faults, then to the wire now or
// when its delay is up.
func (c *conn) out(f chaos.Frame) {
	for _, g := range c.pipeline(f) {
		if !c.delays.Later(g) {
			c.write(g)
		}
	}
	c.frameDone()
}

// write puts a server frame on the wire: the loop is the only writer.
func (c *conn) write(f chaos.Frame) {
	switch c.life.State {
	case link.Hole:
		c.swallow(f)
		return
	case link.Closing, link.Ended:
		c.record(transcript.Entry{Kind: transcript.KindNote, Op: f.Op, Data: string(f.Data), Msg: f.Msg,
			Note: fmt.Sprintf("%s not sent: connection closing", wire.FrameName(f))})
		return
	}
	c.record(transcript.Entry{Kind: transcript.KindSend, Op: f.Op, Data: string(f.Data), Msg: f.Msg})
	c.effect(func() { c.put(f) })
}

// put writes a frame to the socket, as the effect of the turn that sent it.
func (c *conn) put(f chaos.Frame) {
	if c.broken {
		c.record(transcript.Entry{Kind: transcript.KindNote, Op: f.Op, Data: string(f.Data), Msg: f.Msg,
			Note: fmt.Sprintf("%s not sent: a write before it failed", wire.FrameName(f))})
		return
	}
	deadline := time.Now().Add(link.WriteWait)
	var err error
	switch f.Op {
	case websocket.PingMessage, websocket.PongMessage, websocket.CloseMessage:
		err = c.ws.WriteControl(f.Op, f.Data, deadline)
	default:
		c.ws.SetWriteDeadline(deadline)
		err = c.ws.WriteMessage(f.Op, f.Data)
	}
	if err != nil {
		// The client has gone, but how is still in the read buffer: a
		// client that sent its close frame and dropped the socket at once
		// makes this write fail before the reader has seen that frame.
		// The reader's last word decides what the transcript says.
		c.s.logf(c.attempt, "write failed: %v", err)
		c.broken = true
		if c.life.State == link.Open || c.life.State == link.Hole { // not already closing by choice
			c.writeFailed = true
			c.closing()
		}
	}
}

// writeClose sends a close frame at the end of the turn, best effort: the
// connection is ending. If it cannot be sent, the connection ends there.
func (c *conn) writeClose(code int, reason string) {
	c.effect(func() {
		err := c.ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(code, reason), time.Now().Add(link.WriteWait))
		if err != nil && !errors.Is(err, websocket.ErrCloseSent) { // sent already: by gorilla
			c.s.logf(c.attempt, "close frame not sent: %v", err)
			c.end()
		}
	})
}

// swallow records a frame the black hole ate.
func (c *conn) swallow(f chaos.Frame) {
	c.faultEntry(c.life.HoleBy, "swallowed "+wire.FrameName(f), &f)
}
