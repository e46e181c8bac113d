package fakeserver

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"

	"github.com/gorilla/websocket"
	"github.com/wschaos/wschaos/chaos"
	"github.com/wschaos/wschaos/internal/link"
	"github.com/wschaos/wschaos/profile"
	"github.com/wschaos/wschaos/transcript"
)

// session is one connection id of a resuming profile: the numbered events
// sent under it, the last Resume.BufferSize of them kept for replay, and
// the connection it is live on, if any. Guarded by Server.mu.
type session struct {
	id        string
	next      int64 // seq of the next event
	buf       []profile.Message
	size      int
	abandoned bool  // replaced by a new session; never resumed again
	live      *conn // the connection events go out on; nil while away
}

// newSessionLocked starts session conn-N with its hello at seq 0, whose
// data carries the id under Resume.IDField; s.mu held.
func (s *Server) newSessionLocked() *session {
	r := s.Profile.Resume
	id := fmt.Sprintf("conn-%d", len(s.sessions)+1)
	ss := &session{id: id, size: r.BufferSize}
	ss.append(&profile.Message{Kind: profile.Event, Type: r.HelloType,
		Data: profile.MustData(map[string]string{r.IDField: id})})
	s.sessions = append(s.sessions, ss)
	s.byID[id] = ss
	return ss
}

// append numbers m as the session's next event and keeps it for replay.
func (ss *session) append(m *profile.Message) {
	m.Seq, m.HasSeq = ss.next, true
	ss.next++
	ss.buf = append(ss.buf, *m)
	if over := len(ss.buf) - ss.size; over > 0 {
		ss.buf = slices.Delete(ss.buf, 0, over)
	}
}

// canResume reports whether a client expecting seq next missed nothing the
// buffer no longer holds.
func (ss *session) canResume(seq int64) bool {
	return seq == ss.next || len(ss.buf) > 0 && ss.buf[0].Seq <= seq && seq < ss.next
}

// from returns the buffered events numbered seq and later.
func (ss *session) from(seq int64) []profile.Message {
	i := slices.IndexFunc(ss.buf, func(m profile.Message) bool { return m.Seq >= seq })
	if i < 0 {
		return nil
	}
	return slices.Clone(ss.buf[i:])
}

func (ss *session) holds() string {
	if len(ss.buf) == 0 {
		return "nothing"
	}
	return fmt.Sprintf("seq %d..%d", ss.buf[0].Seq, ss.buf[len(ss.buf)-1].Seq)
}

// attach puts the connection on a session: the one its query resumes, if
// the buffer still covers what the client missed, else a new one (the old
// one abandoned). It returns the open entry and the events to send first:
// the replay, or the new hello.
func (c *conn) attach() ([]profile.Message, transcript.Entry) {
	s, q := c.s, c.query
	s.mu.Lock()
	defer s.mu.Unlock()
	e := transcript.Entry{Kind: transcript.KindOpen}
	if c.chosen { // NewSession answered during Open
		e.Session = c.session.id
		return c.session.from(0), e
	}
	old := s.byID[q.ConnectionID]
	switch {
	case old != nil && !old.abandoned && old.canResume(q.Seq):
		old.live = c // a stale connection still on it stops getting events
		c.session = old
		e.Session, e.Resumed = old.id, true
		e.Note = fmt.Sprintf("replaying from seq %d", q.Seq)
		return old.from(q.Seq), e
	case old != nil && !old.abandoned:
		e.Note = fmt.Sprintf("cannot resume %s at seq %d (buffer holds %s, next is %d); %s abandoned",
			old.id, q.Seq, old.holds(), old.next, old.id)
		old.abandoned, old.live = true, nil
	case old != nil:
		e.Note = fmt.Sprintf("cannot resume %s: abandoned", old.id)
	case q.ConnectionID != "":
		e.Note = fmt.Sprintf("unknown connection id %q", q.ConnectionID)
	}
	ss := s.newSessionLocked()
	ss.live, c.session = c, ss
	e.Session = ss.id
	return ss.from(0), e
}

// open runs the connection faults, attaches the session, records the open,
// makes the cuts due at once, and sends the hello or the replay.
func (c *conn) open() {
	c.opening = true
	for _, f := range c.s.conners {
		c.link.Now = c.s.since()
		by := f.String()
		c.faults.Begin(by)
		for _, st := range f.Open(c.link) {
			if st.After <= 0 {
				c.openCuts = append(c.openCuts, link.NamedCut{Cut: st.Cut, By: by})
				continue
			}
			c.faultEntry(by, fmt.Sprintf("%s scheduled in %v", st.Cut, st.After), nil)
			c.delays.Add(st.After, link.Item{Cut: &link.NamedCut{Cut: st.Cut, By: by}})
		}
		c.faults.End()
	}
	open := transcript.Entry{Kind: transcript.KindOpen}
	var first []profile.Message
	if c.query != nil {
		first, open = c.attach()
	}
	c.opening = false
	c.record(open)
	c.unpublished = append(c.unpublished, c.deferred...)
	c.deferred = nil
	for _, nc := range c.openCuts {
		c.cut(nc.Cut, nc.By)
	}
	c.openCuts = nil
	from := c.session
	for i, m := range first {
		if c.session != from { // a fault started a new session mid-replay
			c.record(transcript.Entry{Kind: transcript.KindNote, Note: fmt.Sprintf("replay of %s stopped: %d events from seq %d not sent, the connection moved to %s",
				from.id, len(first)-i, m.Seq, c.session.id)})
			break
		}
		c.outMsg(m, false)
	}
	if c.handshaken { // else the handshake's reply starts the pings
		c.startHeartbeat()
	}
}

// newSession is Link.NewSession: abandon the connection's session (during
// Open, the one the client asked to resume) and start a new one on it.
func (c *conn) newSession() (chaos.Frame, bool) {
	if c.s.Profile.Resume == nil {
		return chaos.Frame{}, false
	}
	s := c.s
	s.mu.Lock()
	old := c.session
	if c.opening && !c.chosen {
		old = s.byID[c.query.ConnectionID]
	}
	if old != nil && !old.abandoned {
		old.abandoned, old.live = true, nil
	}
	ss := s.newSessionLocked()
	ss.live, c.session = c, ss
	hello := ss.buf[0]
	s.mu.Unlock()

	what := "new session " + ss.id
	if old != nil {
		what += fmt.Sprintf(" (%s abandoned)", old.id)
	}
	c.faults.Note(what)
	if c.opening {
		// The open sends the hello; this copy is for the fault to look at.
		c.chosen = true
		data, err := s.Profile.Codec.Encode(hello)
		return chaos.Frame{Dir: profile.Server, Op: websocket.TextMessage, Data: data, Msg: &hello}, err == nil
	}
	f, err := c.outFrame(hello, false)
	if err != nil {
		c.record(transcript.Entry{Kind: transcript.KindNote, Note: fmt.Sprintf("cannot send %v: %v", hello, err)})
		return chaos.Frame{}, false
	}
	return f, true
}

// linkEvent is Link.Event: a server event for a fault to place, numbered in
// the session like any other.
func (c *conn) linkEvent(typ string, data json.RawMessage) (chaos.Frame, error) {
	if typ == "" {
		return chaos.Frame{}, errors.New("failed to make an event: empty type")
	}
	m := profile.Message{Kind: profile.Event, Type: typ, Data: data}
	c.sequence(&m)
	return c.outFrame(m, false)
}

// sequence numbers an event in the connection's session, for profiles that
// resume. A connection that no longer carries its session (another
// connection resumed it) sends the event unnumbered, and says so.
func (c *conn) sequence(m *profile.Message) {
	if c.s.Profile.Resume == nil {
		return
	}
	c.s.mu.Lock()
	ss := c.session
	ok := ss != nil && ss.live == c && !ss.abandoned
	if ok {
		ss.append(m)
	}
	c.s.mu.Unlock()
	if !ok {
		c.record(transcript.Entry{Kind: transcript.KindNote, Msg: m, Note: fmt.Sprintf("event %s sent without seq: the connection carries no live session", m.Type)})
	}
}

// Emit pushes a server event of type typ with data (marshalled to JSON; nil
// for none) and returns once it is sent or kept.
//
// Without sessions it goes to every open connection, and fails when there
// is none. With sessions (Profile.Resume) it is numbered in every session
// not abandoned and sent on the session's live connection; a session whose
// client is away keeps it in its buffer, to replay on resume. It fails when
// there is no session at all. Do not call it from a fault.
func (s *Server) Emit(typ string, data any) error {
	s.mu.Lock()
	started, closed := s.started, s.closed
	s.mu.Unlock()
	if !started || closed {
		return fmt.Errorf("fakeserver: cannot emit %s: the server is not running", typ)
	}
	m := profile.Message{Kind: profile.Event, Type: typ}
	if data != nil {
		raw, err := json.Marshal(data)
		if err != nil {
			return fmt.Errorf("fakeserver: failed to encode %s data: %w", typ, err)
		}
		m.Data = raw
	}
	if s.Profile.Resume != nil {
		return s.emitSessions(m)
	}
	return s.emitConns(m)
}

func (s *Server) emitConns(m profile.Message) error {
	conns := s.openConns()
	if len(conns) == 0 {
		s.record(transcript.Entry{Kind: transcript.KindNote, Note: fmt.Sprintf("emit %s: no open connection", m.Type)})
		return fmt.Errorf("fakeserver: cannot emit %s: no open connection", m.Type)
	}
	for _, c := range conns {
		if !c.Do(func() { c.send(m, false) }) {
			s.record(transcript.Entry{Attempt: c.attempt, Kind: transcript.KindNote,
				Note: fmt.Sprintf("emit %s: connection ended before the event was sent", m.Type)})
		}
	}
	return nil
}

func (s *Server) emitSessions(m profile.Message) error {
	s.mu.Lock()
	s.settleLocked()
	var targets []*session
	for _, ss := range s.sessions {
		if !ss.abandoned {
			targets = append(targets, ss)
		}
	}
	s.mu.Unlock()
	if len(targets) == 0 {
		s.record(transcript.Entry{Kind: transcript.KindNote, Note: fmt.Sprintf("emit %s: no session", m.Type)})
		return fmt.Errorf("fakeserver: cannot emit %s: no session", m.Type)
	}
	for _, ss := range targets {
		s.deliver(ss, m)
	}
	return nil
}

// deliver numbers m in ss and sends it on ss's live connection, on that
// connection's loop so it is numbered in the order it goes out; with no
// live connection it only keeps it. It follows ss if it moves to another
// connection meanwhile.
func (s *Server) deliver(ss *session, m profile.Message) {
	for {
		s.mu.Lock()
		c, abandoned := ss.live, ss.abandoned
		if c == nil && !abandoned {
			ss.append(&m)
		}
		s.mu.Unlock()
		switch {
		case abandoned:
			s.record(transcript.Entry{Kind: transcript.KindNote, Note: fmt.Sprintf("emit %s: %s abandoned before the event was sent", m.Type, ss.id)})
			return
		case c == nil:
			s.record(transcript.Entry{Kind: transcript.KindNote, Msg: &m,
				Note: fmt.Sprintf("emit %s: seq %d kept for %s, which has no live connection", m.Type, m.Seq, ss.id)})
			return
		}
		sent := false
		c.Do(func() {
			s.mu.Lock()
			sent = ss.live == c && !ss.abandoned
			ev := m
			if sent {
				ss.append(&ev)
			}
			s.mu.Unlock()
			if sent {
				c.outMsg(ev, false)
			}
		})
		if sent {
			return
		}
	}
}
