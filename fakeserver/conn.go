package fakeserver

import (
	"math/rand/v2"
	"time"

	"github.com/gorilla/websocket"
	"github.com/wschaos/wschaos/chaos"
	"github.com/wschaos/wschaos/internal/link"
	"github.com/wschaos/wschaos/internal/wire"
	"github.com/wschaos/wschaos/profile"
	"github.com/wschaos/wschaos/transcript"
)

// conn is one upgraded connection. Everything below the channels belongs
// to its loop goroutine; other goroutines hand it work through do.
type conn struct {
	s       *Server
	ws      *websocket.Conn
	attempt int
	link    *chaos.Link
	query   *profile.ConnectQuery // nil without sessions

	wire.Mailbox[readResult] // results from the reader; work from Emit, CutAll, Close

	life          link.Life
	writeFailed   bool     // closing because a write failed, not by choice
	broken        bool     // a write failed: the socket takes no more
	session       *session // guarded by s.mu where other conns may look
	inIdx, outIdx int

	// delays holds delayed frames, scheduled cuts and the next server
	// ping behind one timer.
	delays *link.Queue

	// handshaken: the profile's handshake message is answered, or there
	// is none. pinging: the server's pings are armed (heartbeat mode
	// server), the next one due at nextPing.
	handshaken bool
	pinging    bool
	nextPing   time.Time

	// faults calls the faults, for what they do through the Link.
	faults link.Faults

	// unpublished holds this loop turn's entries: they reach the transcript
	// once the turn is over and any timer it needs is armed, so whoever
	// reads an entry may step the clock.
	unpublished []transcript.Entry
	// effects holds this turn's socket operations, done once its entries
	// are published (see finishTurn).
	effects []func()

	// Open-time state: entries and cuts wait until the open is recorded.
	opening  bool
	chosen   bool // NewSession picked the session during Open
	deferred []transcript.Entry
	openCuts []link.NamedCut
}

type readResult struct {
	op   int
	data []byte
	err  error
}

// serveConn serves an upgraded connection on its own goroutine, which
// becomes the connection's loop.
func (s *Server) serveConn(ws *websocket.Conn, n int, rng *rand.Rand, q *profile.ConnectQuery) {
	c := &conn{
		s:       s,
		ws:      ws,
		attempt: n,
		query:   q,
		// Without a handshake message the connection is ready at once.
		handshaken: s.Profile.Connect.Handshake == nil,
		Mailbox:    wire.NewMailbox[readResult](),
		delays:     link.NewQueue(s.Clock, nil),
	}
	c.faults = link.Faults{Since: s.since, Record: c.faultEntry}
	c.delays.Record = c.record
	c.link = c.faults.Open(n, s.Profile, rng)
	c.link.NewSession, c.link.Cut, c.link.Event = c.newSession, c.linkCut, c.linkEvent
	ws.SetReadLimit(maxFrameSize)
	ws.SetCloseHandler(func(int, string) error { return nil }) // the loop answers
	ws.SetPingHandler(func(data string) error {
		c.Deliver(readResult{op: websocket.PingMessage, data: []byte(data)})
		return nil
	})
	ws.SetPongHandler(func(data string) error {
		c.Deliver(readResult{op: websocket.PongMessage, data: []byte(data)})
		return nil
	})

	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		s.upgraded()
		s.record(transcript.Entry{Attempt: n, Kind: transcript.KindNote, Note: "upgraded as the server closed; dropped"})
		ws.Close()
		return
	}
	s.conns[c] = struct{}{}
	s.wg.Add(1)
	s.mu.Unlock()
	defer c.End()

	go c.read()
	c.open()
	s.upgraded()
	c.loop()
}

func (c *conn) loop() {
	for {
		c.finishTurn()
		if c.life.State == link.Ended {
			return
		}
		select {
		case r := <-c.In:
			c.onRead(r)
		case cmd := <-c.Cmds:
			cmd.Run()
			c.finishTurn() // so when Emit returns, what it sent is sent and what it delayed has its timer
			cmd.Finish()
		case <-c.delays.C():
			c.delays.Fired()
		case <-c.s.done:
			c.shutdown()
		}
	}
}

// end closes the socket (at the end of the turn) and forgets the
// connection; the loop then exits.
func (c *conn) end() {
	if c.life.State == link.Ended {
		return
	}
	c.life.State = link.Ended
	for _, e := range link.Undelivered(c.delays.Drop()) {
		c.record(e)
	}
	c.effect(func() { c.ws.Close() })
	c.s.mu.Lock()
	delete(c.s.conns, c)
	if c.session != nil && c.session.live == c {
		c.session.live = nil
	}
	c.s.mu.Unlock()
}

// shutdown ends the connection because the server closes.
func (c *conn) shutdown() {
	switch c.life.State {
	case link.Open:
		c.record(transcript.Entry{Kind: transcript.KindClose, Code: profile.StatusGoingAway, Reason: "server closed", By: profile.Server})
		c.writeClose(int(profile.StatusGoingAway), "server closed")
	case link.Hole:
		c.record(transcript.Entry{Kind: transcript.KindClose, Code: profile.StatusAbnormalClosure, By: profile.Server, Note: "server closed"})
	}
	c.end()
}

// record stamps e with the connection's attempt; during Open it waits for
// the open entry.
func (c *conn) record(e transcript.Entry) {
	e.Attempt = c.attempt
	e.At = c.s.since() // when it happened, not when the turn publishes it
	if c.opening {
		c.deferred = append(c.deferred, e)
		return
	}
	c.unpublished = append(c.unpublished, e)
}

// publish hands this turn's entries to the transcript.
// A turn's entries arrive in the transcript together, so a reader that
// saw one (a ping received) also sees the rest (the pong sent for it).
func (c *conn) publish() {
	c.s.publish(c.unpublished...)
	c.unpublished = nil
}

// faultEntry records that fault did what; f is the frame it acted on.
func (c *conn) faultEntry(fault, what string, f *chaos.Frame) {
	e := transcript.Entry{Kind: transcript.KindFault, Fault: fault, Note: what}
	if f != nil {
		e.Op, e.Data, e.Msg = f.Op, string(f.Data), f.Msg
	}
	c.record(e)
}
