// Package link is the connection engine under both servers: what a
// connection does with the faults, whatever feeds it. The fake server
// plugs a profile player into it, the proxy an upstream relay; the fault
// words mean the same in both because this package, not discipline, gives
// them their meaning.
//
// It owns the connection's states, the calling of frame faults (and the
// transcript entry for what each did), the cuts faults ask for through the
// Link and when they are made, the queue of delayed work (with the order a
// delay keeps within a direction, and the held answer to a client's
// close), and the tunables both servers share. The
// servers own their sockets, their loops and their transcripts: the engine
// reaches them through the callbacks a Faults is given.
package link

import (
	"math/rand/v2"
	"time"

	"github.com/wschaos/wschaos/chaos"
	"github.com/wschaos/wschaos/internal/wire"
	"github.com/wschaos/wschaos/profile"
)

// Tunables both servers share. All are real-time safety nets: none affects
// a run that behaves.
const (
	// WriteWait bounds one write, so a peer that stops reading cannot
	// wedge its connection.
	WriteWait = 5 * time.Second
	// CloseGrace is how long a close (a close frame or a FIN) waits for
	// the other side's answer before the socket is dropped.
	CloseGrace = 2 * time.Second
	// ReadHeaderTimeout bounds a client's HTTP request headers, from the
	// connection's first byte: a client that trickles them (slow loris)
	// or sends none is dropped then, and holds nothing but its own socket
	// until it is.
	ReadHeaderTimeout = 10 * time.Second
	// DefaultAddr listens on a free loopback port, like httptest.
	DefaultAddr = "127.0.0.1:0"
)

// State is where a connection is in its life.
type State int

const (
	Open    State = iota
	Hole          // black-holed: nothing flows, the socket stays up
	Closing       // a close is under way; waiting for the answer
	Ended
)

func (s State) String() string {
	switch s {
	case Hole:
		return "black hole"
	case Closing:
		return "closing"
	case Ended:
		return "closed"
	}
	return "open"
}

// NamedCut is a cut and the fault that asked for it.
type NamedCut struct {
	Cut chaos.Cut
	By  string
}

// Faults calls one connection's faults and keeps what their Link
// callbacks need: which fault is being called, on which frame, whether it
// said what it did, and the cuts it asked for. It is not safe for
// concurrent use: the connection's turn owns it.
type Faults struct {
	// Link is the connection as faults see it.
	Link *chaos.Link
	// Since is virtual time since the server started.
	Since func() time.Duration
	// Record puts in the transcript that fault by did what, to frame f
	// (nil for none).
	Record func(by, what string, f *chaos.Frame)

	current string
	holdBy  string // the fault that last set Link.HoldClose
	frame   *chaos.Frame
	noted   bool
	cuts    []NamedCut
}

// Open makes the Link of a new connection, opened now, whose Cut and Note
// are fs's; a server sets the callbacks it offers besides (NewSession,
// Event) or in their place. Since and Record must be set first.
func (fs *Faults) Open(attempt int, p *profile.Profile, rng *rand.Rand) *chaos.Link {
	now := fs.Since()
	fs.Link = &chaos.Link{Attempt: attempt, Opened: now, Now: now, Profile: p, Rand: rng, Cut: fs.Ask, Note: fs.Note}
	return fs.Link
}

// Calling is the fault being called, "" between calls.
func (fs *Faults) Calling() string { return fs.current }

// Begin says fault by is being called outside a frame (a ConnFault's
// Open); End says it is done.
func (fs *Faults) Begin(by string) {
	fs.Link.Now = fs.Since()
	fs.current, fs.noted = by, false
}

// End closes what Begin opened.
func (fs *Faults) End() {
	if fs.Link.HoldClose > 0 && fs.holdBy == "" {
		fs.holdBy = fs.current
	}
	fs.current = ""
}

// HoldClose says how long to hold the answer to the client's close frame
// (chaos.Link.HoldClose) and which fault asked; nil when nothing holds
// it. Both servers ask it as the client's close comes, so slow-close
// means the same in both: the answer is an Answer item of the Queue, and
// the connection ends once it has gone, or when the client drops it.
func (fs *Faults) HoldClose(code int, reason string) (time.Duration, *NamedCut) {
	if fs.Link == nil || fs.Link.HoldClose <= 0 {
		return 0, nil
	}
	by := fs.holdBy
	if by == "" {
		by = "link"
	}
	return fs.Link.HoldClose, &NamedCut{Cut: chaos.Cut{Kind: chaos.CloseFrame, Code: profile.StatusCode(code), Reason: reason}, By: by}
}

// Frame runs f through the frame faults in order and returns what reaches
// the end; each fault that changed something is recorded, unless it said
// what it did through the Link's Note.
func (fs *Faults) Frame(faults []chaos.FrameFault, f chaos.Frame) []chaos.Frame {
	return wire.Pipeline(faults, f, fs.call)
}

func (fs *Faults) call(ff chaos.FrameFault, in chaos.Frame) []chaos.Frame {
	fs.Link.Now = fs.Since()
	fs.current, fs.frame, fs.noted = ff.String(), &in, false
	out := ff.Frame(fs.Link, in)
	if what := wire.Action(in, out); what != "" && !fs.noted {
		fs.Record(fs.current, what, &in)
	}
	fs.current, fs.frame = "", nil
	return out
}

// Note is Link.Note: the calling fault says what it did.
func (fs *Faults) Note(what string) {
	fs.noted = true
	fs.Record(fs.current, what, fs.frame)
}

// InFrame reports whether a frame fault is being called.
func (fs *Faults) InFrame() bool { return fs.frame != nil }

// Ask keeps a cut the calling fault asked for through the Link, to be
// made by Cuts: a cut asked for while a frame is decided waits until that
// frame has been passed on, so "cut after the Nth frame" delivers it, in
// both servers.
func (fs *Faults) Ask(k chaos.Cut) {
	by := fs.current
	if by == "" {
		by = "link"
	}
	fs.cuts = append(fs.cuts, NamedCut{Cut: k, By: by})
}

// Cuts takes the cuts asked for since the last call.
func (fs *Faults) Cuts() []NamedCut {
	cuts := fs.cuts
	fs.cuts = nil
	return cuts
}
