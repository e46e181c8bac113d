package link

import (
	"fmt"
	"time"

	"github.com/jonboulle/clockwork"
	"github.com/wschaos/wschaos/chaos"
	"github.com/wschaos/wschaos/internal/wire"
	"github.com/wschaos/wschaos/profile"
	"github.com/wschaos/wschaos/transcript"
)

// Queue is a connection's work due later (delayed frames, scheduled cuts,
// the fake server's pings) behind one timer, and the order a delay keeps
// within a direction, as Toxiproxy's latency does: while a frame delayed
// in order (chaos.Frame.KeepOrder, which Delay sets) waits, every later
// frame of its direction waits behind it and goes right after it, however
// little it was delayed itself, even a frame no fault touched (one a
// selector left alone). A frame delayed out of order (Jitter's) may be
// passed, and may pass others. Both servers send every frame that leaves
// the faults through Later, so the order is the engine's, not each
// server's.
type Queue struct {
	*wire.Delays[Item]
	clock clockwork.Clock
	// Record, if set, hears of each frame held behind another, and of
	// the held answer to a client's close.
	Record func(transcript.Entry)

	// lanes are the directions' in-order frames not yet run.
	lanes [2]lane
}

// lane is one direction's frames queued in order: how many wait, and the
// last of them, due at tail.
type lane struct {
	waiting int
	tail    time.Time
	last    chaos.Frame
}

// NewQueue returns an empty queue on clock; a non-nil fire is called by
// the timer (see wire.NewDelaysFunc), else the timer sends on C.
func NewQueue(clock clockwork.Clock, fire func()) *Queue {
	q := &Queue{clock: clock}
	if fire != nil {
		q.Delays = wire.NewDelaysFunc[Item](clock, fire)
	} else {
		q.Delays = wire.NewDelays[Item](clock)
	}
	return q
}

// Later queues f, a frame the faults passed on, if it must wait: for its
// own Delay, or behind an earlier frame of its direction delayed in order.
// It reports false when f goes now.
func (q *Queue) Later(f chaos.Frame) bool {
	ln := &q.lanes[side(f.Dir)]
	d := f.Delay
	if ln.waiting > 0 {
		// A tail already due but not yet run still goes first: wait 0.
		if wait := max(ln.tail.Sub(q.clock.Now()), 0); wait >= d {
			// Behind the last in-order frame: what comes next waits
			// for this one too.
			d = wait
			if q.Record != nil {
				q.Record(transcript.Entry{Kind: transcript.KindNote, Op: f.Op, Data: string(f.Data), Msg: f.Msg,
					Note: fmt.Sprintf("%s held behind delayed %s #%d: delay keeps order", wire.FrameName(f), ln.last.Dir, ln.last.Index)})
			}
			f.KeepOrder = true
		}
	}
	if d <= 0 && !f.KeepOrder {
		return false
	}
	if f.KeepOrder {
		due := q.clock.Now().Add(d)
		ln.waiting++
		if due.After(ln.tail) || ln.waiting == 1 {
			ln.tail, ln.last = due, f
		}
	}
	q.Add(d, Item{Frame: f, Ordered: f.KeepOrder})
	return true
}

// Holding reports whether frames from dir wait behind one delayed in
// order: a frame of dir must then go through Later even when no fault
// is installed to touch it.
func (q *Queue) Holding(dir profile.Side) bool { return q.lanes[side(dir)].waiting > 0 }

// Due is what a server does with each kind of item when it is due.
type Due struct {
	// Ended reports whether the connection has ended.
	Ended func() bool
	// Cut makes a scheduled cut.
	Cut func(k chaos.Cut, by string)
	// Answer sends the held answer to the client's close, then ends the
	// connection.
	Answer func(code profile.StatusCode, reason string)
	// Frame sends a delayed frame on to where it was going.
	Frame func(f chaos.Frame)
	// Ping sends the server's next ping (the fake server's only).
	Ping func()
}

// RunDue carries out, with do, every item that is due while the
// connection has not ended, then arms the timer for the next one, or
// drops what is left once the connection has ended.
func (q *Queue) RunDue(do Due) {
	for !do.Ended() {
		it, ok := q.Due()
		if !ok {
			break
		}
		switch {
		case it.Ping:
			do.Ping()
		case it.Cut != nil:
			do.Cut(it.Cut.Cut, it.Cut.By)
		case it.Answer != nil:
			q.note(it.Answer.By, "answered the client's close")
			do.Answer(it.Answer.Cut.Code, it.Answer.Cut.Reason)
		default:
			if it.Ordered {
				q.lanes[side(it.Frame.Dir)].waiting--
			}
			do.Frame(it.Frame)
		}
	}
	if do.Ended() {
		q.Drop()
		return
	}
	q.Arm()
}

// HoldAnswer queues answer, the close frame that answers the client's,
// d of virtual time from now (slow-close), and records that it waits.
func (q *Queue) HoldAnswer(d time.Duration, answer *NamedCut) {
	q.note(answer.By, fmt.Sprintf("holding the answer to the client's close %v", d))
	q.Add(d, Item{Answer: answer})
}

// note records that fault by did what.
func (q *Queue) note(by, what string) {
	if q.Record != nil {
		q.Record(transcript.Entry{Kind: transcript.KindFault, Fault: by, Note: what})
	}
}

// Drop empties the queue and stops the timer, returning what never ran.
func (q *Queue) Drop() []Item {
	q.lanes = [2]lane{}
	return q.Delays.Drop()
}

// side indexes the lanes.
func side(s profile.Side) int {
	if s == profile.Server {
		return 1
	}
	return 0
}
