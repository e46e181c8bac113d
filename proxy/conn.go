package proxy

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"sync"

	"github.com/gorilla/websocket"
	"github.com/wschaos/wschaos/chaos"
	"github.com/wschaos/wschaos/internal/link"
	"github.com/wschaos/wschaos/profile"
	"github.com/wschaos/wschaos/transcript"
)

// conn is one proxied connection: the client's socket and the upstream's.
// It has no goroutine of its own. Everything below mu is guarded by it, and
// changes only in a turn: a reader relaying what its socket brought, the
// timer of delayed work, or a command (CutAll, Close). A reader that relays
// its frames itself, rather than handing them to a loop, saves the frame a
// goroutine switch each way.
type conn struct {
	p       *Proxy
	client  *websocket.Conn
	up      *websocket.Conn
	attempt int
	link    *chaos.Link
	// socks are the buffered sockets under client and up, by profile.Side.
	socks [2]*relayConn

	mu   sync.Mutex
	life link.Life
	// During a close: the sides whose answer the connection waits for,
	// and the side that started it, which gets the other side's answer
	// relayed.
	awaiting  [2]bool
	initiator *profile.Side
	holding   bool // the answer to the client's close is held (slow-close)

	idx [2]int // frames per direction, by profile.Side
	// streaming marks, by sender, a message being relayed fragment by
	// fragment; held are the data frames from that sender's direction
	// waiting for it to end (delayed ones, a flood's).
	streaming [2]bool
	held      [2][]heldFrame
	// midFrame marks, by sender, a frame that came in pieces and is partly
	// relayed: the rest of it goes on first, whatever else happens, as its
	// peer would read what follows as more of it.
	midFrame [2]bool
	pingSeqs map[int64]bool // the client's unanswered ping requests

	// delays holds delayed frames and scheduled cuts behind one timer.
	delays *link.Queue

	// faults calls the faults, for what they do through the Link; cuts
	// they ask for wait until the frame being decided has been passed on.
	faults link.Faults

	// unpublished holds this turn's entries: they reach the transcript
	// together once the turn is over and any timer it needs is armed, so
	// whoever reads an entry may step the clock; the frames the turn wrote
	// reach the sockets after that.
	unpublished []Entry

	statMu sync.Mutex
	stat   ConnStatus
}

type readResult struct {
	from profile.Side
	op   int
	data []byte
	// raw is the frame as it came: the message's, the fragment's, or the
	// last fragment's of a fragmented message, or a piece of a frame that
	// came in pieces (see message).
	raw                                           []byte
	fragment, first, badText, partial, fragmented bool
	err                                           error
}

// heldFrame is a data frame that waits for a message being relayed
// fragment by fragment to end: frames of two messages must not mix.
type heldFrame struct {
	frame chaos.Frame
	data  string
}

// other is the side across the proxy from s.
func other(s profile.Side) profile.Side {
	if s == profile.Client {
		return profile.Server
	}
	return profile.Client
}

// serveConn serves an upgraded connection. The handler's goroutine
// becomes the client's reader; the upstream's reader gets one of its own.
func (p *Proxy) serveConn(client, up *websocket.Conn, n int, rng *rand.Rand, uri string) {
	c := &conn{
		p:        p,
		client:   client,
		up:       up,
		attempt:  n,
		pingSeqs: map[int64]bool{},
	}
	c.life.OnSet = c.showState
	c.socks[profile.Client] = client.NetConn().(*relayConn)
	c.socks[profile.Server] = up.NetConn().(*relayConn)
	// gorilla read the handshakes; the relay reads the frames. The client
	// sent none before its answer (gorilla refuses an upgrade that did);
	// the upstream may have.
	clientFrames := newFrameReader(c.socks[profile.Client], true, maxFrameSize, nil)
	upFrames := newFrameReader(c.socks[profile.Server], false, maxFrameSize, c.socks[profile.Server].afterHandshake())
	c.delays = link.NewQueue(p.Clock, c.timerFired)
	c.delays.Record = c.record
	c.faults = link.Faults{Since: p.since, Record: c.faultEntry}
	c.link = c.faults.Open(n, p.Profile, rng)
	if p.Profile != nil && p.Profile.Resume == nil {
		c.link.Event = c.linkEvent // events numbered by the upstream cannot be made up
	}
	c.stat = ConnStatus{Attempt: n, URL: uri, Subprotocol: up.Subprotocol(),
		OpenedAt: Duration(c.link.Opened), State: link.Open.String()}

	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		p.record(Entry{Attempt: n, Kind: transcript.KindNote, Note: "upgraded as the proxy closed; dropped"})
		client.Close()
		up.Close()
		return
	}
	p.conns[c] = struct{}{}
	p.wg.Add(1)
	p.mu.Unlock()

	for _, s := range c.socks {
		s.startBatching(c.flushAll)
	}
	c.do(c.open)
	if !p.Enabled() { // disabled while this attempt was in its handshake
		c.do(func() { c.cut(chaos.Cut{Kind: chaos.RST}, disableBy) })
	}
	go func() {
		defer p.wg.Done()
		c.read(profile.Server, upFrames)
	}()
	c.read(profile.Client, clientFrames)
}

// open records the open and runs the connection faults.
func (c *conn) open() {
	e := Entry{Kind: transcript.KindOpen}
	if proto := c.up.Subprotocol(); proto != "" {
		e.Note = "subprotocol " + proto
	}
	c.record(e)
	for _, f := range faultsOf[chaos.ConnFault](c.p.faults) {
		c.link.Now = c.p.since()
		by := f.String()
		c.faults.Begin(by)
		for _, st := range f.Open(c.link) {
			c.delays.Add(st.After, link.Item{Cut: &link.NamedCut{Cut: st.Cut, By: by}})
		}
		c.faults.End()
	}
	c.runCuts()
}

// do runs fn as a turn, then flushes what it wrote; false if the
// connection had ended. It is how work from other goroutines (CutAll,
// Close) and the delay timer reach the connection.
func (c *conn) do(fn func()) bool {
	c.mu.Lock()
	if c.life.State == link.Ended {
		c.mu.Unlock()
		return false
	}
	fn()
	c.endTurn()
	c.mu.Unlock()
	c.flushAll()
	return true
}

// deliver runs the turn for what a reader brought; false if the
// connection had ended. Its writes stay buffered while the reader has more
// to relay: they leave when it runs dry (flushAll, before its next read
// blocks), or at once past flushAt.
func (c *conn) deliver(r readResult) bool {
	c.mu.Lock()
	if c.life.State == link.Ended {
		c.mu.Unlock()
		return false
	}
	c.onRead(r)
	urgent := c.endTurn()
	c.mu.Unlock()
	if urgent {
		c.flushAll()
	}
	return true
}

// timerFired is the delay timer's callback.
func (c *conn) timerFired() {
	c.do(c.delays.Fired)
}

// endTurn finishes a turn: the delayed work now due, the entries
// published, then the writes sealed for flushing. It reports whether
// enough is waiting to flush at once. c.mu must be held.
func (c *conn) endTurn() (urgent bool) {
	c.runDue()
	c.publish()
	for _, s := range c.socks {
		urgent = s.seal() || urgent
	}
	return urgent
}

// flushAll writes what the turns so far have sealed, to both sockets. A
// socket that cannot take it ends the connection, as a failed write does.
// c.mu must not be held.
func (c *conn) flushAll() {
	for side, s := range c.socks {
		if err := s.flush(); err != nil {
			c.writeFailed(profile.Side(side), err)
		}
	}
}

// writeFailed ends the connection because the write to side failed.
func (c *conn) writeFailed(to profile.Side, err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.life.State == link.Ended {
		return
	}
	c.p.logf(c.attempt, "write to %s failed: %v", to, err)
	c.record(Entry{Kind: transcript.KindClose, Code: profile.StatusAbnormalClosure, By: to,
		Note: fmt.Sprintf("write to %s failed: %s socket dropped", to, other(to))})
	c.end()
	c.endTurn()
}

// end sends what the turns wrote, closes both sockets and forgets the
// connection; the readers then return.
func (c *conn) end() {
	if c.life.State == link.Ended {
		return
	}
	c.life.Set(link.Ended)
	for _, s := range c.socks {
		s.seal()
		s.flush() // what was relayed before the end goes first; best effort
	}
	for _, e := range link.Undelivered(c.delays.Drop()) {
		c.record(e)
	}
	c.client.Close()
	c.up.Close()
	c.statMu.Lock()
	c.stat.ClosedAt = Duration(c.p.since())
	st := c.stat
	c.statMu.Unlock()
	c.p.mu.Lock()
	delete(c.p.conns, c)
	c.p.closedConns++
	c.p.totals[profile.Client].add(st.ClientToUpstream)
	c.p.totals[profile.Server].add(st.UpstreamToClient)
	c.p.ended = append(c.p.ended, st)
	if len(c.p.ended) > maxEnded {
		c.p.ended = c.p.ended[len(c.p.ended)-maxEnded:]
	}
	c.p.mu.Unlock()
}

// showState mirrors a change of state in the connection's status.
func (c *conn) showState(s link.State) {
	c.statMu.Lock()
	c.stat.State = s.String()
	c.statMu.Unlock()
}

// shutdown ends the connection because the proxy closes.
func (c *conn) shutdown() {
	switch c.life.State {
	case link.Open:
		c.record(Entry{Kind: transcript.KindClose, Code: profile.StatusGoingAway, Reason: "proxy closed", By: profile.Server})
		c.writeClose(profile.Client, profile.StatusGoingAway, "proxy closed")
		c.writeClose(profile.Server, profile.StatusGoingAway, "proxy closed")
	case link.Hole:
		c.record(Entry{Kind: transcript.KindClose, Code: profile.StatusAbnormalClosure, By: profile.Server, Note: "proxy closed"})
	}
	c.end()
}

// record stamps e with the connection's attempt for this turn's publish.
func (c *conn) record(e Entry) {
	e.Attempt = c.attempt
	c.unpublished = append(c.unpublished, e)
}

// publish hands this turn's entries to the transcript, together.
func (c *conn) publish() {
	if len(c.unpublished) == 0 {
		return
	}
	c.p.record(c.unpublished...)
	c.unpublished = c.unpublished[:0]
}

// faultEntry records that fault did what; f is the frame it acted on.
func (c *conn) faultEntry(fault, what string, f *chaos.Frame) {
	e := Entry{Kind: transcript.KindFault, Fault: fault, Note: what}
	if f != nil {
		e.Op, e.Data, e.Msg = f.Op, string(f.Data), f.Msg
	}
	c.record(e)
}

// runCuts makes the cuts faults asked for through the Link.
func (c *conn) runCuts() {
	for _, k := range c.faults.Cuts() {
		c.cut(k.Cut, k.By)
	}
}

// linkEvent is Link.Event for profiles without sessions: a server event
// in the profile's envelope, for faults that add frames (flood).
func (c *conn) linkEvent(typ string, data json.RawMessage) (chaos.Frame, error) {
	m := profile.Message{Kind: profile.Event, Type: typ, Data: data}
	b, err := c.p.Profile.Codec.Encode(m)
	if err != nil {
		return chaos.Frame{}, fmt.Errorf("failed to encode event %s: %w", typ, err)
	}
	c.idx[profile.Server]++
	return chaos.Frame{Dir: profile.Server, Index: c.idx[profile.Server], Op: websocket.TextMessage, Data: b, Msg: &m}, nil
}
