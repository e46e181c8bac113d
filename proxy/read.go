package proxy

import (
	"errors"
	"fmt"
	"unicode/utf8"

	"github.com/gorilla/websocket"
	"github.com/wschaos/wschaos/chaos"
	"github.com/wschaos/wschaos/internal/link"
	"github.com/wschaos/wschaos/profile"
	"github.com/wschaos/wschaos/transcript"
)

// read relays every frame side sends, control frames included, and the
// final error, a turn each. Pings are not answered here but relayed, so
// the far side's pong comes back through the faults. What the last turns
// wrote is flushed before the reader returns.
func (c *conn) read(side profile.Side, fr *frameReader) {
	defer c.flushAll()
	for {
		m, err := fr.next()
		if err == nil {
			r := readResult{from: side, op: m.op, data: m.data, raw: m.raw, fragment: m.fragment,
				first: m.first, badText: m.badText, partial: m.partial, fragmented: m.fragmented}
			if !c.deliver(r) {
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
		// Nothing is read after a close frame, but a black hole keeps the
		// socket until the peer drops it: wait for that.
		c.deliver(readResult{from: side, err: fr.discard()})
		return
	}
}

// onRead takes one result from a reader.
func (c *conn) onRead(r readResult) {
	if r.err != nil {
		c.onReadError(r.from, r.err)
		return
	}
	if r.fragment {
		c.onFragment(r)
		return
	}
	streamed := c.streaming[r.from]
	if streamed {
		defer c.endStream(r.from)
	}
	if c.finishesFrame(r) {
		c.relayedWhole(r)
		return
	}
	// The transcript's copy of the payload, the only one: the reader's
	// buffer is reused after this turn, so faults, which may keep a frame,
	// get a copy of their own, as does a frame queued behind one a delay
	// holds.
	data := c.p.payloads.String(r.data)
	faults := c.p.faults.frameFaults()
	holding := c.delays.Holding(r.from) // then it is queued, and kept
	if len(faults) > 0 || holding {
		r.data = []byte(data)
	}
	f, undecodable := c.inbound(r)
	switch c.life.State {
	case link.Closing:
		c.record(Entry{Kind: recvKind(r.from), Op: f.Op, Data: data, Msg: f.Msg, Note: "ignored: closing"})
		return
	case link.Hole:
		c.swallow(f)
		return
	}
	if f.Op == websocket.TextMessage && !utf8.Valid(f.Data) {
		c.invalidText(f)
		return
	}
	e := Entry{Kind: recvKind(r.from), Op: f.Op, Data: data, Msg: f.Msg, Note: undecodable}
	c.record(e)
	c.count(f.Dir, func(d *DirStatus) { d.Frames++; d.Bytes += int64(len(f.Data)) })
	if streamed {
		c.streaming[r.from] = false // what follows is the message itself
		c.writeAs(f, e.Data, r.raw) // its last fragment: the others went on as they came
		return
	}
	raw := r.raw
	if r.fragmented {
		raw = nil // only the last fragment: the message goes on in one frame
	}
	if len(faults) == 0 && !holding {
		c.writeAs(f, data, raw)
		return
	}
	out := c.faults.Frame(faults, f)
	if !passed(f, out) {
		c.count(f.Dir, func(d *DirStatus) { d.Dropped++ })
	}
	for _, g := range out {
		if g.Delay > 0 {
			c.count(g.Dir, func(d *DirStatus) { d.Delayed++ })
		}
		switch {
		case c.delays.Later(g):
		case g.Op == f.Op && g.Dir == f.Dir && sameBytes(g.Data, f.Data):
			c.writeAs(g, e.Data, raw)
		default:
			c.write(g)
		}
	}
	c.runCuts()
}

// onFragment relays a fragment of a message that is still arriving, as it
// came, if the message may go on before it is whole: no frame fault is
// installed as it starts (a fault would need it whole), no delayed frame
// holds its direction (it would pass it), and its text is UTF-8 so far. A message that has started goes on to its end, fragment by
// fragment, unless the connection stops relaying (a black hole, a close)
// or its text turns out not to be UTF-8 (the close 1007 follows once its
// last fragment arrives; a close may come between fragments). Either way
// its entries are recorded once it is whole, as for any message, and its
// last fragment is relayed after them.
//
// A frame over maxWholeFrame comes in pieces, each relayed as it comes
// in the same way. Once part of a frame has gone on, the rest follows,
// whatever else happens: a close, or text that is not UTF-8, waits for the
// frame's end (its peer would read anything sent meanwhile as more of the
// frame). Only a black hole stops it where it is, as a dead link would.
func (c *conn) onFragment(r readResult) {
	if r.first {
		c.streaming[r.from] = c.life.State == link.Open && !r.badText && len(c.p.faults.frameFaults()) == 0 &&
			!c.delays.Holding(r.from)
	}
	if c.finishesFrame(r) {
		return
	}
	if c.streaming[r.from] && c.life.State == link.Open && !r.badText {
		c.socks[other(r.from)].writePiece(r.raw, r.partial) // a failure sticks: the flush reports it
		c.midFrame[r.from] = r.partial
	}
}

// finishesFrame relays r, the rest of a frame partly relayed, if that
// frame must be finished, and reports whether it did.
func (c *conn) finishesFrame(r readResult) bool {
	if !c.midFrame[r.from] || c.life.State == link.Hole {
		return false
	}
	c.socks[other(r.from)].writePiece(r.raw, r.partial)
	c.midFrame[r.from] = r.partial
	return true
}

// relayedWhole records a message that went on whole as it came, its last
// piece just now, whatever happened meanwhile: its arrival, its sending,
// and, if its text is not UTF-8, the close 1007 that follows it.
func (c *conn) relayedWhole(r readResult) {
	data := c.p.payloads.String(r.data)
	f, undecodable := c.inbound(r)
	bad := f.Op == websocket.TextMessage && !utf8.Valid(f.Data)
	e := Entry{Kind: recvKind(r.from), Op: f.Op, Data: data, Msg: f.Msg, Note: undecodable}
	if bad {
		e.Note = "not valid UTF-8: relayed, its first bytes had gone on"
	}
	c.record(e)
	send := Entry{Kind: transcript.KindSend, Op: f.Op, Data: data, Msg: f.Msg}
	if other(r.from) == profile.Server {
		send.Kind = KindUpSend
	}
	c.record(send)
	c.count(f.Dir, func(d *DirStatus) { d.Frames++; d.Bytes += int64(len(f.Data)); d.Delivered++ })
	if bad && c.life.State == link.Open {
		c.closeInvalidText(f)
	}
}

// endStream ends the relaying of a message from side fragment by
// fragment, and writes the data frames held back meanwhile.
func (c *conn) endStream(from profile.Side) {
	c.streaming[from] = false
	held := c.held[from]
	c.held[from] = nil
	for _, h := range held {
		c.writeAs(h.frame, h.data, nil)
	}
}

// sameBytes reports whether a and b are the same bytes of the same array:
// a payload the faults passed on untouched (they never change one in
// place).
func sameBytes(a, b []byte) bool {
	return len(a) == len(b) && (len(a) == 0 || &a[0] == &b[0])
}

func recvKind(from profile.Side) transcript.Kind {
	if from == profile.Server {
		return KindUpRecv
	}
	return transcript.KindRecv
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
// profile when there is one, and marks the upstream's heartbeat frames:
// its answers to pings, and in heartbeat mode server its own pings (as the
// fake server marks them, so the pong faults act on them).
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
	case r.from == profile.Server && hb.Mode == profile.HeartbeatServer && m.Kind == profile.Event &&
		(m.Type == hb.PingType || m.Type == hb.PongType):
		f.Pong = true
	case r.from == profile.Server && pr.Replies && m.Kind == profile.Reply && c.pingSeqs[m.SeqReply]:
		delete(c.pingSeqs, m.SeqReply)
		f.Pong = true
	case r.from == profile.Server && !pr.Replies && hb.PongType != "" && pr.IsPong(m, 0):
		f.Pong = true
	}
	return f, ""
}

// invalidText ends the connection with close 1007 to both sides: RFC 6455
// (8.1) makes a text message that is not UTF-8 fatal, and gorilla leaves
// the check to its caller. The frame is recorded as it came, so the
// transcript shows what was wrong with it, and is not relayed (but for
// the fragments that went on before the bad one, if it came in fragments:
// the close then ends an unfinished message, as RFC 6455 allows).
func (c *conn) invalidText(f chaos.Frame) {
	c.record(Entry{Kind: recvKind(f.Dir), Op: f.Op, Data: string(f.Data), Note: "not valid UTF-8"})
	c.count(f.Dir, func(d *DirStatus) { d.Frames++; d.Bytes += int64(len(f.Data)); d.Dropped++ })
	c.closeInvalidText(f)
}

// closeInvalidText ends the connection with close 1007 to both sides, for
// f, a text message that is not UTF-8.
func (c *conn) closeInvalidText(f chaos.Frame) {
	c.record(Entry{Kind: transcript.KindClose, Code: websocket.CloseInvalidFramePayloadData, By: profile.Server,
		Note: fmt.Sprintf("%s text frame #%d is not valid UTF-8", f.Dir, f.Index)})
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
	case c.life.State == link.Closing:
		c.answered(side, ce, isClose)
	case c.life.State == link.Hole && isClose:
		c.faultEntry(c.life.HoleBy, fmt.Sprintf("swallowed %s close %d %q", side, ce.Code, ce.Text), nil)
	case isClose:
		c.record(Entry{Kind: transcript.KindClose, Code: profile.StatusCode(ce.Code), Reason: ce.Text, By: side})
		c.writeClose(other(side), profile.StatusCode(ce.Code), ce.Text)
		c.closing(&side, other(side))
	case link.Vanished(err):
		c.p.logf(c.attempt, "%s vanished: %v", side, err)
		c.record(Entry{Kind: transcript.KindClose, Code: profile.StatusAbnormalClosure, By: side,
			Note: fmt.Sprintf("%s socket gone: %s socket dropped", side, other(side))})
		c.end()
	case errors.Is(err, websocket.ErrReadLimit):
		c.record(Entry{Kind: transcript.KindClose, Code: profile.StatusMessageTooBig, By: profile.Server,
			Note: fmt.Sprintf("%s frame over %d bytes", side, maxFrameSize)})
		c.writeClose(side, profile.StatusMessageTooBig, "")
		c.writeClose(other(side), profile.StatusMessageTooBig, "")
		c.closing(nil, other(side))
	default:
		// side broke the protocol: it gets close 1002 saying how.
		c.record(Entry{Kind: transcript.KindClose, Code: websocket.CloseProtocolError, By: side, Note: err.Error()})
		var pe *protocolError
		if errors.As(err, &pe) {
			c.writeClose(side, websocket.CloseProtocolError, pe.msg)
		}
		c.writeClose(other(side), websocket.CloseProtocolError, "")
		c.closing(nil, other(side))
	}
}
