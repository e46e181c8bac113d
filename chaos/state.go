package chaos

import (
	"fmt"

	"github.com/wschaos/wschaos/profile"
)

// Stateful is a fault that keeps state for each connection it acts on, as
// Toxiproxy's StatefulToxic does. One fault value serves every connection
// of a server (and the proxy's faults change while connections run), so
// what a fault counts or holds cannot live in the fault: NewState makes a
// fresh state the first time the fault meets a connection, and Link.State
// hands that same state back on each later call on that connection. The
// state goes with the connection; no lock is needed, since a connection
// calls its faults one at a time.
type Stateful interface {
	Fault
	NewState() any
}

// State returns f's state on this connection: f.NewState() on the first
// call, the same value on every later one. f is the key, so it must be a
// pointer (or a value no other fault on the connection equals).
func (l *Link) State(f Stateful) any {
	if l.vars == nil {
		l.vars = map[any]any{}
	}
	v, ok := l.vars[f]
	if !ok {
		v = f.NewState()
		l.vars[f] = v
	}
	return v
}

// local is State for the selectors' own counters: the per-connection
// state that key keeps in l, zero on first use.
func local[T any](l *Link, key any) *T {
	if l.vars == nil {
		l.vars = map[any]any{}
	}
	v, ok := l.vars[key].(*T)
	if !ok {
		v = new(T)
		l.vars[key] = v
	}
	return v
}

// note records what a fault did, when the server is listening.
func (l *Link) note(format string, args ...any) {
	if l.Note != nil {
		l.Note(fmt.Sprintf(format, args...))
	}
}

// targeter is a frame fault that can only act on some frames (pongs, one
// seq, one direction). Counting selectors count only those, so
// EveryNth(3, SwallowPongs()) swallows every third pong, not the pong that
// happens to be the third frame.
type targeter interface {
	targets(f Frame) bool
}

// targets reports whether f could act on fr; faults that do not say are
// taken to act on every frame.
func targets(f Fault, fr Frame) bool {
	if t, ok := f.(targeter); ok {
		return t.targets(fr)
	}
	return true
}

// holder is a frame fault that may hold a frame back until a later frame in
// the same direction releases it (Reorder, SeqSwap). Selectors hand a
// holding fault every frame in that direction, so a gate cannot strand it.
type holder interface {
	holding(l *Link, dir profile.Side) bool
}

func holding(f Fault, l *Link, dir profile.Side) bool {
	h, ok := f.(holder)
	return ok && h.holding(l, dir)
}

// seqOf returns the seq of a server event that carries one.
func seqOf(f Frame) (int64, bool) {
	if f.Dir != profile.Server || f.Msg == nil || f.Msg.Kind != profile.Event || !f.Msg.HasSeq {
		return 0, false
	}
	return f.Msg.Seq, true
}

// isPong reports whether f is the server's answer to a heartbeat ping.
func isPong(f Frame) bool { return f.Dir == profile.Server && f.Pong }

// describe names a frame for transcript notes: "server frame #3".
func describe(f Frame) string {
	return fmt.Sprintf("%s frame #%d", f.Dir, f.Index)
}
