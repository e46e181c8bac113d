package proxy

import (
	"encoding/json"
	"fmt"
	"github.com/wschaos/wschaos/internal/wire"
	"math/rand/v2"
	"sync"

	"github.com/gorilla/websocket"
	"github.com/wschaos/wschaos/chaos"
	"github.com/wschaos/wschaos/fakeserver"
	"github.com/wschaos/wschaos/profile"
)

// connState is where a proxied connection is in its life.
type connState int

const (
	stateOpen    connState = iota
	stateHole              // black-holed: nothing flows, the sockets stay up
	stateClosing           // a close is under way; waiting for the answers
	stateEnded
)

func (s connState) String() string {
	switch s {
	case stateHole:
		return "black hole"
	case stateClosing:
		return "closing"
	case stateEnded:
		return "closed"
	}
	return "open"
}

// conn is one proxied connection: the client's socket and the upstream's.
// Everything below the channels belongs to its loop goroutine; other
// goroutines hand it work through do.
type conn struct {
	p       *Proxy
	client  *websocket.Conn
	up      *websocket.Conn
	attempt int
	link    *chaos.Link

	wire.Mailbox[readResult] // results from both readers; work from CutAll, Close

	state  connState
	holeBy string // the fault that black-holed the connection
	// During a close: the sides whose answer the loop waits for, and the
	// side that started it, which gets the other side's answer relayed.
	awaiting  [2]bool
	initiator *profile.Side

	idx      [2]int         // frames per direction, by profile.Side
	pingSeqs map[int64]bool // the client's unanswered ping requests

	// delays holds delayed frames and scheduled cuts behind one timer.
	delays *wire.Delays[item]

	// The fault being called, for what it does through the Link; cuts it
	// asks for wait until the frame it was given has been passed on.
	current string
	frame   *chaos.Frame
	noted   bool
	inFrame bool
	cuts    []namedCut

	// unpublished holds this loop turn's entries: they reach the
	// transcript once the turn is over and any timer it needs is armed,
	// so whoever reads an entry may step the clock.
	unpublished []Entry

	statMu sync.Mutex
	stat   ConnStatus
}

type readResult struct {
	from profile.Side
	op   int
	data []byte
	err  error
}

// item is a delayed frame, or a scheduled cut.
type item struct {
	frame chaos.Frame
	cut   *namedCut
}

type namedCut struct {
	cut chaos.Cut
	by  string
}

// other is the side across the proxy from s.
func other(s profile.Side) profile.Side {
	if s == profile.Client {
		return profile.Server
	}
	return profile.Client
}

// serveConn serves an upgraded connection on the handler's goroutine,
// which becomes the connection's loop.
func (p *Proxy) serveConn(client, up *websocket.Conn, n int, rng *rand.Rand, uri string) {
	c := &conn{
		p:        p,
		client:   client,
		up:       up,
		attempt:  n,
		Mailbox:  wire.NewMailbox[readResult](),
		delays:   wire.NewDelays[item](p.Clock),
		pingSeqs: map[int64]bool{},
	}
	now := p.since()
	c.link = &chaos.Link{
		Attempt: n,
		Opened:  now,
		Now:     now,
		Profile: p.Profile,
		Rand:    rng,
		Cut:     c.linkCut,
		Note:    c.linkNote,
	}
	if p.Profile != nil && p.Profile.Resume == nil {
		c.link.Event = c.linkEvent // events numbered by the upstream cannot be made up
	}
	c.stat = ConnStatus{Attempt: n, URL: uri, Subprotocol: up.Subprotocol(),
		OpenedAt: Duration(now), State: stateOpen.String()}
	client.SetReadLimit(maxFrameSize)

	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		p.record(Entry{Attempt: n, Kind: fakeserver.KindNote, Note: "upgraded as the proxy closed; dropped"})
		client.Close()
		up.Close()
		return
	}
	p.conns[c] = struct{}{}
	p.wg.Add(2)
	p.mu.Unlock()
	defer c.End()

	go c.read(profile.Client, client)
	go c.read(profile.Server, up)
	c.open()
	c.loop()
}

// open records the open and runs the connection faults.
func (c *conn) open() {
	e := Entry{Kind: fakeserver.KindOpen}
	if proto := c.up.Subprotocol(); proto != "" {
		e.Note = "subprotocol " + proto
	}
	c.record(e)
	for _, f := range faultsOf[chaos.ConnFault](c.p.faults) {
		c.link.Now = c.p.since()
		c.current = f.String()
		for _, st := range f.Open(c.link) {
			c.schedule(st.After, &item{cut: &namedCut{cut: st.Cut, by: c.current}})
		}
		c.current = ""
	}
	c.runCuts()
}

func (c *conn) loop() {
	for {
		c.runDue()
		c.publish()
		if c.state == stateEnded {
			return
		}
		select {
		case r := <-c.In:
			c.onRead(r)
		case cmd := <-c.Cmds:
			cmd.Run()
			c.runDue()
			c.publish()
			cmd.Finish()
		case <-c.delays.C():
			c.delays.Fired()
		case <-c.p.done:
			c.shutdown()
		}
	}
}

// end closes both sockets and forgets the connection; the loop then exits.
func (c *conn) end() {
	if c.state == stateEnded {
		return
	}
	c.setState(stateEnded)
	for _, it := range c.delays.Drop() {
		if it.cut == nil {
			c.record(Entry{Kind: fakeserver.KindNote, Op: it.frame.Op, Data: string(it.frame.Data), Msg: it.frame.Msg,
				Note: fmt.Sprintf("delayed %s never delivered: connection ended", wire.FrameName(it.frame))})
		}
	}
	c.client.Close()
	c.up.Close()
	c.statMu.Lock()
	c.stat.ClosedAt = Duration(c.p.since())
	st := c.stat
	c.statMu.Unlock()
	c.p.mu.Lock()
	delete(c.p.conns, c)
	c.p.ended = append(c.p.ended, st)
	if len(c.p.ended) > maxEnded {
		c.p.ended = c.p.ended[len(c.p.ended)-maxEnded:]
	}
	c.p.mu.Unlock()
}

func (c *conn) setState(s connState) {
	c.state = s
	c.statMu.Lock()
	c.stat.State = s.String()
	c.statMu.Unlock()
}

// shutdown ends the connection because the proxy closes.
func (c *conn) shutdown() {
	switch c.state {
	case stateOpen:
		c.record(Entry{Kind: fakeserver.KindClose, Code: profile.StatusGoingAway, Reason: "proxy closed", By: profile.Server})
		c.writeClose(profile.Client, profile.StatusGoingAway, "proxy closed")
		c.writeClose(profile.Server, profile.StatusGoingAway, "proxy closed")
	case stateHole:
		c.record(Entry{Kind: fakeserver.KindClose, Code: profile.StatusAbnormalClosure, By: profile.Server, Note: "proxy closed"})
	}
	c.end()
}

// record stamps e with the connection's attempt for this turn's publish.
func (c *conn) record(e Entry) {
	e.Attempt = c.attempt
	c.unpublished = append(c.unpublished, e)
}

// publish hands this turn's entries to the transcript.
func (c *conn) publish() {
	for _, e := range c.unpublished {
		c.p.record(e)
	}
	c.unpublished = nil
}

// faultEntry records that fault did what; f is the frame it acted on.
func (c *conn) faultEntry(fault, what string, f *chaos.Frame) {
	e := Entry{Kind: fakeserver.KindFault, Fault: fault, Note: what}
	if f != nil {
		e.Op, e.Data, e.Msg = f.Op, string(f.Data), f.Msg
	}
	c.record(e)
}

// linkNote is Link.Note: the calling fault says what it did.
func (c *conn) linkNote(what string) {
	c.noted = true
	c.faultEntry(c.current, what, c.frame)
}

// linkCut is Link.Cut: the cut is made once the frame being decided (if
// any) has been passed on, so "cut after the Nth frame" delivers it.
func (c *conn) linkCut(k chaos.Cut) {
	by := c.current
	if by == "" {
		by = "link"
	}
	c.cuts = append(c.cuts, namedCut{cut: k, by: by})
}

// runCuts makes the cuts faults asked for through the Link.
func (c *conn) runCuts() {
	cuts := c.cuts
	c.cuts = nil
	for _, k := range cuts {
		c.cut(k.cut, k.by)
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
