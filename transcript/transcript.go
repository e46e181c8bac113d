// Package transcript is the record both servers keep: every attempt,
// frame, fault and close, stamped with virtual time, in one format that
// conform, timeline and the scenario files read whichever server wrote it.
// It is its own package so that a reader of a record need not import the
// server that wrote it.
package transcript

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/wschaos/wschaos/internal/wire"
	"github.com/wschaos/wschaos/profile"
)

// Kind says what a transcript Entry records.
type Kind string

const (
	// KindDial: an HTTP request arrived; URL is its path and query, and
	// ReportedCode the close code that query reports, if any.
	KindDial Kind = "dial"
	// KindRefuse: the attempt was answered with HTTP Status instead of the
	// upgrade, by Fault or (Fault empty) for the reason in Note.
	KindRefuse Kind = "refuse"
	// KindStall: Fault held the handshake back; Note says for how long.
	KindStall Kind = "stall"
	// KindReset: Fault answered the handshake with a TCP RST.
	KindReset Kind = "reset"
	// KindOpen: the connection upgraded; Session and Resumed for profiles
	// with sessions, Note for a refused resume.
	KindOpen Kind = "open"
	// KindRecv: a client frame arrived (before any fault acts on it). Note
	// carries a decode error; the frame is kept, not dropped.
	KindRecv Kind = "recv"
	// KindSend: a server frame hit the wire, at the time it did.
	KindSend Kind = "send"
	// KindUpRecv and KindUpSend are recv and send on the chaos proxy's
	// upstream side: a frame from the upstream arrived; a client frame hit
	// the upstream's wire. They print as recv and send do.
	KindUpRecv Kind = "up-recv"
	KindUpSend Kind = "up-send"
	// KindUpDial: the proxy dialled the upstream; URL is the upstream URL,
	// Status its HTTP answer when it refused.
	KindUpDial Kind = "up-dial"
	// KindFault: Fault acted; Note says what it did, Op, Data and Msg hold
	// the frame it acted on, if any.
	KindFault Kind = "fault"
	// KindClose: the connection ended. Code and Reason are the close frame's
	// (1006, no frame, for FIN, RST and vanished peers); By is the side that
	// closed or whose socket failed; Fault the cut that closed it, if any.
	KindClose Kind = "close"
	// KindNote: anything else worth a line (an Emit with no connection, a
	// frame never sent because its connection ended).
	KindNote Kind = "note"
)

// Entry is one thing the server saw or did. Fields a Kind does not use stay
// zero.
type Entry struct {
	// At is virtual time since the server started.
	At time.Duration
	// Attempt is the connection attempt the entry belongs to, from 1; 0
	// for server-wide notes.
	Attempt int
	Kind    Kind

	URL string
	// ReportedCode is, on a dial, the close code the client reports in
	// the connect URL for its previous connection (Close.Query, when
	// Close.Report is query or both); 0 when it reports none.
	ReportedCode profile.StatusCode
	Session      string
	Resumed      bool
	Status       int

	// Op is the WebSocket opcode, Data the frame's payload, Msg the
	// profile message it decodes to (nil if it does not).
	Op   int
	Data string
	Msg  *profile.Message

	Fault  string
	Code   profile.StatusCode
	Reason string
	By     profile.Side
	Note   string
}

// Transcript is the record of everything a Server saw and did, safe for
// concurrent use. Nothing recorded is ever changed, nor let go unless Keep
// bounds it. Connections publish independently, so entries arrive in an
// order the goroutines decide; Entries and String present them in a
// canonical order (virtual time, then attempt, then arrival, which is
// causal within a connection), so the same inputs give the same transcript
// and String() can be compared across runs. Since reads them in arrival
// order, for incremental readers.
type Transcript struct {
	mu sync.Mutex
	// chunks hold the entries in arrival order, chunkSize to a chunk: an
	// append copies at most a chunk's entries, where growing one slice
	// would copy them all, again and again, for a proxy that relays a long
	// stream. A short transcript is one small slice, as before.
	chunks [][]Entry
	n      int
	// flat is the entries in one slice, for Wait once there is more than
	// one chunk; made when a waiter asks, and extended from then on.
	flat []Entry
	// keep, when above 0, bounds the entries held: once more than keep
	// are, the oldest chunks are let go, and dropped counts their entries.
	// n counts every entry ever added, so positions stay absolute.
	keep, dropped int
	// grew is closed by the next append, which sets it to nil; a waiter
	// makes one when there is none, so appends nobody waits for make no
	// channel.
	grew chan struct{}
	// pins are the readers Keep may not pass (Pin); room, made with the
	// first pin, wakes recorders that wait for one to read on.
	pins []*Pin
	room *sync.Cond
}

// chunkSize is how many entries a chunk holds: about 180 kB of them.
const chunkSize = 1024

// waitTail is how many entries Wait's error shows: enough to see what
// happened last without flooding the test log.
const waitTail = 30

// New returns an empty transcript.
func New() *Transcript {
	return &Transcript{}
}

// Add appends es, stamped by the caller, together: a reader sees all of
// them or none. It wakes every Wait once.
func (t *Transcript) Add(es ...Entry) { t.add(es...) }

func (t *Transcript) add(es ...Entry) {
	if len(es) == 0 {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(t.pins) > 0 && t.keep > 0 {
		t.waitRoom()
	}
	for len(es) > 0 {
		last := len(t.chunks) - 1
		if last < 0 || len(t.chunks[last]) == chunkSize {
			// The first chunk grows as a slice does, so a short
			// transcript stays small; once one is full, the transcript
			// is a long one, and the next is made whole at once rather
			// than copied as it grows.
			var next []Entry
			if last >= 0 {
				next = make([]Entry, 0, chunkSize)
			}
			t.chunks = append(t.chunks, next)
			last++
		}
		k := min(len(es), chunkSize-len(t.chunks[last]))
		t.chunks[last] = append(t.chunks[last], es[:k]...)
		t.n += k
		es = es[k:]
	}
	t.trim()
	if t.grew != nil {
		close(t.grew)
		t.grew = nil
	}
}

// Keep bounds how many entries t holds to about n, for a process that runs
// for days (n <= 0: all of them, the default). Once more than n are held,
// the oldest are let go, a chunk of 1,024 at a time: Entries, String and
// Wait see what is held, Len and Since count every entry ever added, and
// Dropped and Tail say how many were let go. Whoever needs all of them
// reads them as they come (Tail), as `wschaos proxy --transcript` does.
func (t *Transcript) Keep(n int) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.keep = n
	t.trim()
	if t.room != nil {
		t.room.Broadcast() // a larger bound, or none, makes room
	}
}

// trim lets go of the oldest chunks past keep, but none a pin has not
// read past; t.mu must be held.
func (t *Transcript) trim() {
	if t.keep <= 0 {
		return
	}
	pinned := t.n
	for _, p := range t.pins {
		pinned = min(pinned, p.pos)
	}
	for len(t.chunks) > 1 && t.n-t.dropped-len(t.chunks[0]) >= t.keep && t.dropped+len(t.chunks[0]) <= pinned {
		t.dropped += len(t.chunks[0])
		t.chunks[0] = nil
		t.chunks = t.chunks[1:]
		t.flat = nil
	}
}

// Pin is a reader of a transcript that must see every entry, as
// `wschaos proxy --transcript` does: Keep lets go of no entry the pin has
// not read, and once a bounded transcript (Keep above 0) holds as many
// unread entries as it may keep (at least a chunk's 1,024), Add waits for
// the pin's reader to catch up. That back-pressure is the price of losing
// nothing; a reader that stops reading must Release, or the recorders
// wait for ever. An unbounded transcript never waits. A transcript with
// no pin costs one comparison per Add more than it would without pins.
type Pin struct {
	t        *Transcript
	pos      int // entries read: the next one Next returns is pos+1st
	released bool
}

// Pin starts a reader at the oldest entry held.
func (t *Transcript) Pin() *Pin {
	t.mu.Lock()
	defer t.mu.Unlock()
	p := &Pin{t: t, pos: t.dropped}
	t.pins = append(t.pins, p)
	if t.room == nil {
		t.room = sync.NewCond(&t.mu)
	}
	return p
}

// waitRoom waits until every pin has room for another entry, or is
// released; t.mu must be held.
func (t *Transcript) waitRoom() {
	limit := max(t.keep, chunkSize)
	for t.keep > 0 && slices.ContainsFunc(t.pins, func(p *Pin) bool { return t.n-p.pos >= limit }) {
		t.room.Wait()
	}
}

// ErrPinReleased is Next's error once its pin is released: a reader's
// loop ends rather than spin on nothing.
var ErrPinReleased = errors.New("transcript pin released")

// Next waits until there are entries the pin has not read, and returns
// them in arrival order, moving the pin past them: recorders waiting for
// room go on. It returns ctx's error if none come, and ErrPinReleased
// once released.
func (p *Pin) Next(ctx context.Context) ([]Entry, error) {
	p.t.mu.Lock()
	pos, released := p.pos, p.released
	p.t.mu.Unlock()
	if released {
		return nil, ErrPinReleased
	}
	if err := p.t.WaitBeyond(ctx, pos); err != nil {
		return nil, err
	}
	if es := p.Take(); es != nil {
		return es, nil
	}
	return nil, ErrPinReleased // released while it waited
}

// Take returns, without waiting, the entries the pin has not read, and
// moves the pin past them.
func (p *Pin) Take() []Entry {
	t := p.t
	t.mu.Lock()
	defer t.mu.Unlock()
	if p.released {
		return nil
	}
	es := t.since(p.pos)
	p.pos = t.n
	t.trim()
	t.room.Broadcast()
	return es
}

// Release ends the pin: Keep may let go of what it has not read, and no
// recorder waits for it any more. Releasing twice is harmless.
func (p *Pin) Release() {
	t := p.t
	t.mu.Lock()
	defer t.mu.Unlock()
	if p.released {
		return
	}
	p.released = true
	t.pins = slices.DeleteFunc(t.pins, func(q *Pin) bool { return q == p })
	t.trim()
	t.room.Broadcast()
}

// Dropped returns how many entries Keep has let go.
func (t *Transcript) Dropped() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.dropped
}

// Tail is Since(n) for a reader that must know what it missed: lost is how
// many of the entries after the first n were let go before it asked.
func (t *Transcript) Tail(n int) (es []Entry, lost int) {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.since(n), max(0, t.dropped-max(n, 0))
}

// WaitBeyond blocks until more than n entries have been added in all, and
// returns ctx's error if they never are. Unlike Wait, it makes no view of
// the entries: a follower of a long transcript costs nothing per entry.
func (t *Transcript) WaitBeyond(ctx context.Context, n int) error {
	for {
		t.mu.Lock()
		if t.n > n {
			t.mu.Unlock()
			return nil
		}
		if t.grew == nil {
			t.grew = make(chan struct{})
		}
		grew := t.grew
		t.mu.Unlock()
		select {
		case <-grew:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// Entries returns a copy of the entries so far. Msg pointers are shared:
// treat them as read-only.
func (t *Transcript) Entries() []Entry {
	t.mu.Lock()
	defer t.mu.Unlock()
	return canonical(t.since(0))
}

// Since returns, in arrival order, the entries that arrived after the
// first n: a reader that remembers Len can take only what is new.
func (t *Transcript) Since(n int) []Entry {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.since(n)
}

// since is a copy of the held entries after the first n ever added; t.mu
// must be held.
func (t *Transcript) since(n int) []Entry {
	n = min(max(n, t.dropped), t.n) - t.dropped // from here, within what is held
	out := make([]Entry, 0, t.n-t.dropped-n)
	for _, c := range t.chunks[n/chunkSize:] {
		out = append(out, c[n%chunkSize:]...)
		n = 0
	}
	return out
}

// view is every entry in one slice that later appends leave alone; t.mu
// must be held.
func (t *Transcript) view() []Entry {
	held := t.n - t.dropped
	switch len(t.chunks) {
	case 0:
		return nil
	case 1:
		return t.chunks[0][:held:held]
	}
	for _, c := range t.chunks[len(t.flat)/chunkSize:] {
		t.flat = append(t.flat, c[len(t.flat)%chunkSize:]...)
	}
	return t.flat[:held:held]
}

// canonical sorts es, in place, by virtual time, then attempt, then
// arrival, and returns it.
func canonical(es []Entry) []Entry {
	out := es
	slices.SortStableFunc(out, func(a, b Entry) int {
		if a.At != b.At {
			return cmp.Compare(a.At, b.At)
		}
		return cmp.Compare(a.Attempt, b.Attempt)
	})
	return out
}

// Len returns the number of entries added so far, those Keep let go
// included.
func (t *Transcript) Len() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.n
}

// Wait blocks until pred holds for the entries so far, re-checking it on
// every append, and returns ctx's error, with the transcript's tail, if it
// never does. pred must not keep or modify the slice it is given.
func (t *Transcript) Wait(ctx context.Context, pred func([]Entry) bool) error {
	for {
		t.mu.Lock()
		if t.grew == nil {
			t.grew = make(chan struct{})
		}
		view, grew := t.view(), t.grew
		t.mu.Unlock()
		if pred(view) {
			return nil
		}
		select {
		case <-grew:
		case <-ctx.Done():
			return fmt.Errorf("transcript never matched after %d entries: %w\nlast entries:\n%s",
				len(view), ctx.Err(), format(view[max(0, len(view)-waitTail):]))
		}
	}
}

// String returns the transcript as text, one line per entry:
//
//	+3.25s     #2 open session=conn-1
//	+3.25s     #2 send {"event":"hello","seq":0,"data":{"connection_id":"conn-1"}}
//	+1m3.25s   #2 close 4000 "ping timeout" by client
func (t *Transcript) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := format(canonical(t.since(0)))
	if t.dropped > 0 {
		out = fmt.Sprintf("… %d earlier entries not kept (Keep %d)\n", t.dropped, t.keep) + out
	}
	return out
}

func format(es []Entry) string {
	var b strings.Builder
	for _, e := range es {
		b.WriteString(e.String())
		b.WriteByte('\n')
	}
	return b.String()
}

// String returns the entry as one transcript line.
func (e Entry) String() string {
	attempt := "#-"
	if e.Attempt > 0 {
		attempt = "#" + strconv.Itoa(e.Attempt)
	}
	return fmt.Sprintf("%-10s %s %s", "+"+e.At.String(), attempt, e.body())
}

func (e Entry) body() string {
	var b strings.Builder
	b.WriteString(string(e.Kind))
	switch e.Kind {
	case KindDial:
		b.WriteString(" " + e.URL)
		if e.ReportedCode != 0 {
			fmt.Fprintf(&b, " (reports %d)", e.ReportedCode)
		}
	case KindRefuse:
		fmt.Fprintf(&b, " %d", e.Status)
	case KindOpen:
		if e.Session != "" {
			b.WriteString(" session=" + e.Session)
		}
		if e.Resumed {
			b.WriteString(" resumed")
		}
	case KindRecv, KindSend, KindUpRecv, KindUpSend:
		b.WriteString(" " + wire.FrameText(e.Op, e.Data))
	case KindFault:
		b.WriteString(" " + e.Fault)
		if e.Note != "" {
			b.WriteString(": " + e.Note)
		}
		return b.String()
	case KindClose:
		fmt.Fprintf(&b, " %d", e.Code)
		if e.Reason != "" {
			fmt.Fprintf(&b, " %q", e.Reason)
		}
		b.WriteString(" by " + e.By.String())
	case KindNote:
		return b.String() + " " + e.Note
	}
	if e.Fault != "" {
		b.WriteString(" (" + e.Fault + ")")
	}
	if e.Note != "" {
		b.WriteString(": " + e.Note)
	}
	return b.String()
}
