package proxy

import (
	"bytes"
	"errors"
	"fmt"
	"github.com/wschaos/wschaos/internal/wire"
	"io"
	"net"
	"unicode/utf8"

	"github.com/gorilla/websocket"
	"github.com/wschaos/wschaos/chaos"
	"github.com/wschaos/wschaos/fakeserver"
	"github.com/wschaos/wschaos/profile"
)

// read relays every frame side sends, control frames included, and the
// final error, a turn each. Pings are not answered here but relayed, so
// the far side's pong comes back through the faults. What the last turns
// wrote is flushed before the reader returns.
func (c *conn) read(side profile.Side, ws *websocket.Conn) {
	defer c.flushAll()
	ws.SetCloseHandler(func(int, string) error { return nil }) // relayed as the read error
	ws.SetPingHandler(func(data string) error {
		c.deliver(readResult{from: side, op: websocket.PingMessage, data: []byte(data)})
		return nil
	})
	ws.SetPongHandler(func(data string) error {
		c.deliver(readResult{from: side, op: websocket.PongMessage, data: []byte(data)})
		return nil
	})
	var buf bytes.Buffer // reused: a message is read once at its full size
	for {
		op, data, err := readMessage(ws, &buf)
		if err == nil {
			if !c.deliver(readResult{from: side, op: op, data: data}) {
				return
			}
			continue
		}
		if !c.deliver(readResult{from: side, err: err}) {
			return
		}
		var ce *websocket.CloseError
		if !errors.As(err, &ce) || ce.Code == websocket.CloseAbnormalClosure {
			return // no close frame: the socket is gone
		}
		// gorilla reads nothing after a close frame, but a black hole keeps
		// the socket until the peer drops it: wait for that.
		_, err = io.Copy(io.Discard, ws.NetConn())
		if err == nil {
			err = io.EOF
		}
		c.deliver(readResult{from: side, err: err})
		return
	}
}

// readMessage is ws.ReadMessage with buf to read into: the message is
// copied out once, at its size, instead of through the doubling buffers
// ReadMessage grows for each one.
func readMessage(ws *websocket.Conn, buf *bytes.Buffer) (int, []byte, error) {
	op, r, err := ws.NextReader()
	if err != nil {
		return op, nil, err
	}
	buf.Reset()
	if _, err := buf.ReadFrom(r); err != nil {
		return op, nil, err
	}
	if buf.Cap() > maxKeptReadBuffer {
		defer func() { *buf = bytes.Buffer{} }() // one huge message: do not hold its buffer
	}
	return op, bytes.Clone(buf.Bytes()), nil
}

// maxKeptReadBuffer is the largest read buffer a reader keeps between
// messages: one that held a 64 KiB message (bytes.Buffer grows past it).
// A bigger message gets a buffer of its own, so an idle connection holds
// little.
const maxKeptReadBuffer = 128 << 10

// onRead takes one result from a reader.
func (c *conn) onRead(r readResult) {
	if r.err != nil {
		c.onReadError(r.from, r.err)
		return
	}
	f, undecodable := c.inbound(r)
	switch c.state {
	case stateClosing:
		note := "ignored: closing"
		if r.from == profile.Server {
			note = wire.FrameText(f.Op, string(f.Data)) + " (" + note + ")"
		}
		c.record(Entry{Kind: recvKind(r.from), Op: f.Op, Data: string(f.Data), Msg: f.Msg, Note: note})
		return
	case stateHole:
		c.swallow(f)
		return
	}
	if f.Op == websocket.TextMessage && !utf8.Valid(f.Data) {
		c.invalidText(f)
		return
	}
	e := Entry{Kind: recvKind(r.from), Op: f.Op, Data: string(f.Data), Msg: f.Msg, Note: undecodable}
	if r.from == profile.Server {
		e.Note = joinNote(wire.FrameText(f.Op, e.Data), undecodable)
	}
	c.record(e)
	c.count(f.Dir, func(d *DirStatus) { d.Frames++; d.Bytes += int64(len(f.Data)) })
	out := c.pipeline(f)
	if !passed(f, out) {
		c.count(f.Dir, func(d *DirStatus) { d.Dropped++ })
	}
	for _, g := range out {
		if g.Delay > 0 {
			c.count(g.Dir, func(d *DirStatus) { d.Delayed++ })
			c.schedule(g.Delay, &item{frame: g})
		} else if sameBytes(g.Data, f.Data) {
			c.writeAs(g, e.Data)
		} else {
			c.write(g)
		}
	}
	c.runCuts()
}

// sameBytes reports whether a and b are the same bytes of the same array:
// a payload the faults passed on untouched (they never change one in
// place).
func sameBytes(a, b []byte) bool {
	return len(a) == len(b) && (len(a) == 0 || &a[0] == &b[0])
}

func recvKind(from profile.Side) fakeserver.Kind {
	if from == profile.Server {
		return KindUpRecv
	}
	return fakeserver.KindRecv
}

func joinNote(a, b string) string {
	if b == "" {
		return a
	}
	return a + " (" + b + ")"
}

// passed reports whether a copy of f is among what the faults returned.
func passed(f chaos.Frame, out []chaos.Frame) bool {
	for _, g := range out {
		if g.Dir == f.Dir && g.Index == f.Index {
			return true
		}
	}
	return false
}

// inbound makes the Frame for what r.from sent, decoding it with the
// profile when there is one, and marks the upstream's answers to pings.
func (c *conn) inbound(r readResult) (f chaos.Frame, undecodable string) {
	c.idx[r.from]++
	f = chaos.Frame{Dir: r.from, Index: c.idx[r.from], Op: r.op, Data: r.data, Pong: r.op == websocket.PongMessage && r.from == profile.Server}
	pr := c.p.Profile
	if pr == nil || (r.op != websocket.TextMessage && r.op != websocket.BinaryMessage) {
		return f, ""
	}
	m, err := pr.Codec.Decode(r.data, r.from)
	if err != nil {
		return f, "undecodable: " + err.Error()
	}
	f.Msg = &m
	hb := pr.Heartbeat
	switch {
	case r.from == profile.Client && pr.Replies && m.Type == hb.PingType && m.HasSeq:
		c.pingSeqs[m.Seq] = true
	case r.from == profile.Server && pr.Replies && m.Kind == profile.Reply && c.pingSeqs[m.SeqReply]:
		delete(c.pingSeqs, m.SeqReply)
		f.Pong = true
	case r.from == profile.Server && !pr.Replies && hb.PongType != "" && pr.IsPong(m, 0):
		f.Pong = true
	}
	return f, ""
}

// pipeline runs f through the frame faults installed now, in order, and
// returns what reaches the end.
func (c *conn) pipeline(f chaos.Frame) []chaos.Frame {
	return wire.Pipeline(faultsOf[chaos.FrameFault](c.p.faults), f, c.callFrame)
}

// callFrame calls one fault on one frame and records what it did.
func (c *conn) callFrame(ff chaos.FrameFault, in chaos.Frame) []chaos.Frame {
	c.link.Now = c.p.since()
	c.current, c.frame, c.noted = ff.String(), &in, false
	out := ff.Frame(c.link, in)
	if what := wire.Action(in, out); what != "" && !c.noted {
		c.faultEntry(c.current, what, &in)
	}
	c.current, c.frame = "", nil
	return out
}

// invalidText ends the connection with close 1007 to both sides: RFC 6455
// (8.1) makes a text message that is not UTF-8 fatal, and gorilla leaves
// the check to its caller. The frame is recorded as it came, so the
// transcript shows what was wrong with it, and is not relayed.
func (c *conn) invalidText(f chaos.Frame) {
	const what = "not valid UTF-8"
	e := Entry{Kind: recvKind(f.Dir), Op: f.Op, Data: string(f.Data), Note: what}
	if f.Dir == profile.Server {
		e.Note = joinNote(wire.FrameText(f.Op, e.Data), what)
	}
	c.record(e)
	c.count(f.Dir, func(d *DirStatus) { d.Frames++; d.Bytes += int64(len(f.Data)); d.Dropped++ })
	c.record(Entry{Kind: fakeserver.KindClose, Code: websocket.CloseInvalidFramePayloadData, By: profile.Server,
		Note: fmt.Sprintf("%s text frame #%d is %s", f.Dir, f.Index, what)})
	c.writeClose(f.Dir, websocket.CloseInvalidFramePayloadData, "invalid UTF-8")
	c.writeClose(other(f.Dir), websocket.CloseInvalidFramePayloadData, "")
	c.closing(nil, profile.Client, profile.Server)
}

// onReadError handles the end of what side sends: a close frame is
// relayed to the other side, a vanished socket drops the other one.
func (c *conn) onReadError(side profile.Side, err error) {
	var ce *websocket.CloseError
	isClose := errors.As(err, &ce) && ce.Code != websocket.CloseAbnormalClosure
	switch {
	case c.state == stateClosing:
		c.answered(side, ce, isClose)
	case c.state == stateHole && isClose:
		c.faultEntry(c.holeBy, fmt.Sprintf("swallowed %s close %d %q", side, ce.Code, ce.Text), nil)
	case isClose:
		c.record(Entry{Kind: fakeserver.KindClose, Code: profile.StatusCode(ce.Code), Reason: ce.Text, By: side})
		c.writeClose(other(side), profile.StatusCode(ce.Code), ce.Text)
		c.closing(&side, other(side))
	case vanished(err):
		c.p.logf(c.attempt, "%s vanished: %v", side, err)
		c.record(Entry{Kind: fakeserver.KindClose, Code: profile.StatusAbnormalClosure, By: side,
			Note: fmt.Sprintf("%s socket gone: %s socket dropped", side, other(side))})
		c.end()
	case errors.Is(err, websocket.ErrReadLimit):
		c.record(Entry{Kind: fakeserver.KindClose, Code: profile.StatusMessageTooBig, By: profile.Server,
			Note: fmt.Sprintf("%s frame over %d bytes", side, maxFrameSize)})
		// gorilla sends side close 1009 itself, except for a length that
		// does not fit in an int64 (2^63 and up), which it refuses in
		// silence. It never writes a second close frame (ErrCloseSent), so
		// this one goes out only when gorilla's did not.
		c.writeClose(side, profile.StatusMessageTooBig, "")
		c.writeClose(other(side), profile.StatusMessageTooBig, "")
		c.closing(nil, other(side))
	default:
		// side broke the protocol: gorilla has sent it close 1002.
		c.record(Entry{Kind: fakeserver.KindClose, Code: websocket.CloseProtocolError, By: side, Note: err.Error()})
		c.writeClose(other(side), websocket.CloseProtocolError, "")
		c.closing(nil, other(side))
	}
}

// vanished reports whether err is the socket failing under the reader
// (EOF, reset, timeout) rather than a protocol error.
func vanished(err error) bool {
	var ne net.Error
	var ce *websocket.CloseError
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, net.ErrClosed) || errors.As(err, &ne) ||
		errors.As(err, &ce) && ce.Code == websocket.CloseAbnormalClosure
}
