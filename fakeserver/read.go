package fakeserver

import (
	"errors"
	"fmt"
	"io"
	"unicode/utf8"

	"github.com/gorilla/websocket"
	"github.com/wschaos/wschaos/chaos"
	"github.com/wschaos/wschaos/internal/link"
	"github.com/wschaos/wschaos/profile"
	"github.com/wschaos/wschaos/transcript"
)

// read forwards every frame and the final error to the loop.
func (c *conn) read() {
	defer c.s.wg.Done()
	for {
		op, data, err := c.ws.ReadMessage()
		if err == nil {
			if !c.Deliver(readResult{op: op, data: data}) {
				return
			}
			continue
		}
		if !c.Deliver(readResult{err: err}) {
			return
		}
		var ce *websocket.CloseError
		if !errors.As(err, &ce) || ce.Code == websocket.CloseAbnormalClosure {
			return // no close frame: the socket is gone
		}
		// gorilla reads nothing after a close frame, but a black hole keeps
		// the socket until the client drops it: wait for that below.
		_, err = io.Copy(io.Discard, c.ws.NetConn())
		if err == nil {
			err = io.EOF
		}
		c.Deliver(readResult{err: err})
		return
	}
}

// onRead takes one result from the reader.
func (c *conn) onRead(r readResult) {
	if r.err != nil {
		c.onReadError(r.err)
		return
	}
	if c.life.State == link.Closing {
		c.record(transcript.Entry{Kind: transcript.KindRecv, Op: r.op, Data: string(r.data), Note: "ignored: closing"})
		return
	}
	f, undecodable := c.inbound(r.op, r.data)
	if c.life.State == link.Hole {
		c.swallow(f)
		return
	}
	if f.Op == websocket.TextMessage && !utf8.Valid(f.Data) {
		c.invalidText(f)
		return
	}
	c.record(transcript.Entry{Kind: transcript.KindRecv, Op: f.Op, Data: string(f.Data), Msg: f.Msg, Note: undecodable})
	for _, g := range c.pipeline(f) {
		if !c.delays.Later(g) {
			c.handle(g)
		}
	}
	c.frameDone()
}

// inbound makes the Frame for a client frame, decoding it if it is a
// message; undecodable says why a message did not decode. Such a frame is
// kept (and recorded), only not understood.
func (c *conn) inbound(op int, data []byte) (f chaos.Frame, undecodable string) {
	c.inIdx++
	f = chaos.Frame{Dir: profile.Client, Index: c.inIdx, Op: op, Data: data}
	if op == websocket.TextMessage || op == websocket.BinaryMessage {
		m, err := c.s.Profile.Codec.Decode(data, profile.Client)
		if err != nil {
			return f, "undecodable: " + err.Error()
		}
		f.Msg = &m
	}
	return f, ""
}

// invalidText ends the connection with close 1007: RFC 6455 (8.1) makes a
// text message that is not UTF-8 fatal, and gorilla leaves the check to
// its caller. The frame is recorded as it came, so the transcript shows
// what was wrong with it.
func (c *conn) invalidText(f chaos.Frame) {
	c.record(transcript.Entry{Kind: transcript.KindRecv, Op: f.Op, Data: string(f.Data), Note: "not valid UTF-8"})
	c.record(transcript.Entry{Kind: transcript.KindClose, Code: websocket.CloseInvalidFramePayloadData, By: profile.Server,
		Note: fmt.Sprintf("client text frame #%d is not valid UTF-8", f.Index)})
	c.writeClose(websocket.CloseInvalidFramePayloadData, "invalid UTF-8")
	c.closing()
}

// onReadError ends the connection the way the reader says it ended.
func (c *conn) onReadError(err error) {
	var ce *websocket.CloseError
	switch {
	case c.life.State == link.Closing && c.writeFailed:
		if errors.As(err, &ce) && ce.Code != websocket.CloseAbnormalClosure {
			c.record(transcript.Entry{Kind: transcript.KindClose, Code: profile.StatusCode(ce.Code), Reason: ce.Text, By: profile.Client})
		} else {
			c.record(transcript.Entry{Kind: transcript.KindClose, Code: profile.StatusAbnormalClosure, By: profile.Client, Note: "write failed"})
		}
	case c.life.State == link.Closing:
		// The client's half of the close handshake, or link.CloseGrace ran out.
		c.s.logf(c.attempt, "closing connection ends: %v", err)
	case link.Vanished(err):
		c.s.logf(c.attempt, "client vanished: %v", err)
		c.record(transcript.Entry{Kind: transcript.KindClose, Code: profile.StatusAbnormalClosure, By: profile.Client})
	case errors.As(err, &ce) && c.life.State == link.Hole:
		// Code and By keep what the client sent, for checks of its close
		// code on a link that went dark.
		c.record(transcript.Entry{Kind: transcript.KindFault, Fault: c.life.HoleBy, Note: fmt.Sprintf("swallowed client close %d %q", ce.Code, ce.Text),
			Code: profile.StatusCode(ce.Code), Reason: ce.Text, By: profile.Client})
		return // the reader now waits for the client to drop the socket
	case errors.As(err, &ce):
		c.record(transcript.Entry{Kind: transcript.KindClose, Code: profile.StatusCode(ce.Code), Reason: ce.Text, By: profile.Client})
		if d, answer := c.faults.HoldClose(ce.Code, ""); answer != nil {
			c.holdClose(d, answer)
			return // the reader now waits for the client to drop the socket
		}
		c.writeClose(ce.Code, "") // echo the code, as RFC 6455 asks
	case errors.Is(err, websocket.ErrReadLimit):
		c.record(transcript.Entry{Kind: transcript.KindClose, Code: profile.StatusMessageTooBig, By: profile.Server,
			Note: fmt.Sprintf("client frame over %d bytes", maxFrameSize)})
		// gorilla sends close 1009 itself, except for a length that does
		// not fit in an int64 (2^63 and up), which it refuses in silence.
		// A second close frame is never written (gorilla answers
		// ErrCloseSent), so this sends the 1009 only when gorilla did not.
		c.writeClose(websocket.CloseMessageTooBig, "")
	default:
		// The client broke the protocol: gorilla has sent close 1002 and
		// says why.
		c.record(transcript.Entry{Kind: transcript.KindClose, Code: websocket.CloseProtocolError, By: profile.Server, Note: err.Error()})
	}
	c.end()
}
