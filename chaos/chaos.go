// Package chaos holds the faults the fake server injects into connections.
//
// Each fault is one small type in one file, which also registers the
// fault's words (Register): scenario files, `wschaos serve --fault`, the
// proxy's API and the docs' fault table all read them from there, so a new
// fault is its file and its test (then `go test ./chaos/spec -run TestDocs
// -update` to remake the table). Every fault is a Fault (it names itself
// for the transcript, in those words) and has one or more of three
// capabilities, each a one-method interface, matching the three places a
// connection can be hurt:
//
//	client ──HTTP upgrade──▶ [HandshakeFault] ──refuse / stall / reset──▶ ✗
//	                              │ accepted
//	                              ▼
//	                         [ConnFault]  ──cut now or later: close code,
//	                              │          FIN, RST, black hole; new session
//	                              ▼
//	   client frames ──▶ [FrameFault, Dir=Client] ──▶ server profile logic
//	   server frames ◀── [FrameFault, Dir=Server] ◀── (hello, events, pongs,
//	                                                    acks, replies)
//
// Faults never read the wall clock or a global random source: time comes as
// virtual offsets from the fake server's clockwork.Clock, randomness from
// the *rand.Rand the server seeds for each attempt, so a run replays exactly.
//
// Selectors (OnAttempt, During, Match, ...) wrap a fault to narrow when it
// applies; they take the fault last and pass on exactly the capabilities
// of what they wrap.
//
// Frame faults that change any frame (Drop, Delay, Jitter, Duplicate,
// Reorder) act on both directions; wrap them in Dir for one. Pong and seq
// faults only ever touch server frames.
package chaos

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/url"
	"time"

	"github.com/wschaos/wschaos/profile"
)

// Fault is anything the fake server can inject. String names it, with its
// parameters, in transcripts: in the words that make it, as its Spelling
// reads them ("close-after 10s code=1001"), so a transcript line can be
// pasted back into a scenario file or --fault.
type Fault interface {
	String() string
}

// HandshakeFault decides a connection attempt before the upgrade.
type HandshakeFault interface {
	Fault
	// Handshake returns nil to let the attempt through.
	Handshake(a *Attempt) *Refusal
}

// ConnFault acts on an upgraded connection.
type ConnFault interface {
	Fault
	// Open is called once per connection, right after the upgrade and
	// before the server sends anything. It returns the cuts to make,
	// each after a virtual delay from now.
	Open(l *Link) []Step
}

// FrameFault rewrites one direction of a connection's frame stream.
type FrameFault interface {
	Fault
	// Frame returns what to pass on in place of f: nothing drops it, two
	// copies duplicate it, a copy with Delay set delays it. A fault that
	// holds a frame back (reorder) returns it later with another frame.
	Frame(l *Link, f Frame) []Frame
}

// Attempt is one connection attempt as a HandshakeFault sees it.
type Attempt struct {
	// N counts attempts at this server, from 1.
	N int
	// At is virtual time since the server started.
	At   time.Duration
	URL  *url.URL
	Rand *rand.Rand
}

// Refusal is how an attempt is turned away.
type Refusal struct {
	// Status is the HTTP status answered instead of the upgrade.
	Status int
	// RetryAfter, when positive, is sent as a Retry-After header (seconds).
	RetryAfter time.Duration
	// Stall holds the request this long of virtual time before answering;
	// negative holds it until the client gives up or the server closes.
	Stall time.Duration
	// Reset drops the TCP connection with an RST and no HTTP answer, as a
	// refused or crashed listener would.
	Reset bool
}

// Link is one open connection as ConnFaults and FrameFaults see it. The
// server owns it and calls faults only from the connection's own
// goroutine, so faults may keep per-connection state without locks: a
// Stateful fault gets its own from State.
type Link struct {
	// Attempt is the attempt number that opened this connection.
	Attempt int
	// Opened and Now are virtual times since the server started.
	Opened, Now time.Duration
	Profile     *profile.Profile
	Rand        *rand.Rand

	// NewSession is set by the server: it starts a fresh session on this
	// connection (new connection id) and returns its hello frame. Called
	// from Open, the connection answers a resume with a new id and the
	// server sends the hello itself. Called from Frame, the old session is
	// abandoned mid-stream and the fault places the hello among the frames
	// it returns; the server does not send it otherwise. ok is false when
	// the profile has no sessions.
	NewSession func() (hello Frame, ok bool)
	// Cut is set by the server: it cuts the connection now.
	Cut func(Cut)
	// Event is set by the server: it makes a server event in the profile's
	// envelope, numbered in the connection's session when the profile
	// resumes (so a client that checks seqs accepts it, and a resume
	// replays it). The fault places it among the frames it returns.
	Event func(typ string, data json.RawMessage) (Frame, error)
	// Note is set by the server: it records in the transcript what the
	// calling fault did, in place of the server's own reading of Frame's
	// result, for what that result cannot show (a held frame looks
	// dropped).
	Note func(what string)

	// HoldClose, set by a ConnFault's Open (SlowClose), holds the
	// server's answer to the client's close frame back this long of
	// virtual time; the server keeps the connection until then, or until
	// the client drops it.
	HoldClose time.Duration

	// vars is per-connection state of stateful faults and selectors, keyed
	// by the fault, so one fault value can serve many connections.
	vars map[any]any
}

// Frame is one WebSocket message on a connection.
type Frame struct {
	// Dir is who sent it.
	Dir profile.Side
	// Index counts frames in this direction on this connection, from 1.
	Index int
	// Op is the WebSocket opcode (websocket.TextMessage, PingMessage, ...).
	Op   int
	Data []byte
	// Msg is the profile message Data decodes to; nil when it does not.
	Msg *profile.Message
	// Pong marks the server's answer to a heartbeat ping.
	Pong bool
	// Delay holds the frame back this long of virtual time.
	Delay time.Duration
	// KeepOrder, with Delay, holds every later frame in this direction
	// behind this one until it has gone, as a slow link does (Delay's
	// frames, like Toxiproxy's latency). Without it a frame delayed less
	// may pass this one (Jitter's frames).
	KeepOrder bool
}

// CutKind is how a connection ends.
type CutKind int

const (
	// CloseFrame sends a close frame with Code and Reason, then closes.
	CloseFrame CutKind = iota
	// FIN closes the TCP connection without a close frame.
	FIN
	// RST resets the TCP connection.
	RST
	// BlackHole keeps the socket open but lets nothing through either way:
	// the half-open link.
	BlackHole
)

// Cut is one way to end (or silence) a connection.
type Cut struct {
	Kind   CutKind
	Code   profile.StatusCode
	Reason string
}

func (c Cut) String() string {
	switch c.Kind {
	case FIN:
		return "FIN"
	case RST:
		return "RST"
	case BlackHole:
		return "black hole"
	}
	if c.Reason != "" {
		return fmt.Sprintf("close %d %q", c.Code, c.Reason)
	}
	return fmt.Sprintf("close %d", c.Code)
}

// Step is a cut made After a virtual delay from when Open was called.
type Step struct {
	After time.Duration
	Cut   Cut
}
