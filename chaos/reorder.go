package chaos

import "github.com/wschaos/wschaos/profile"

// Reorder swaps each frame it sees with the next frame in the same
// direction, in both directions unless wrapped. A held frame waits for that
// next frame; if none comes before the connection ends it is never sent,
// and the transcript says so.
func Reorder() FrameFault { return &reorder{} }

// reorder has a field so that two of them are two pointers: the address
// of a zero-size value may be shared, and it keys the state.
type reorder struct{ _ byte }

type reorderState struct {
	held map[profile.Side]Frame
}

func (*reorder) String() string { return "reorder" }

func (*reorder) NewState() any { return &reorderState{held: map[profile.Side]Frame{}} }

func (r *reorder) Frame(l *Link, f Frame) []Frame {
	st := l.State(r).(*reorderState)
	if h, ok := st.held[f.Dir]; ok {
		delete(st.held, f.Dir)
		l.note("sent %s after #%d", describe(h), f.Index)
		return []Frame{f, h}
	}
	st.held[f.Dir] = f
	l.note("held %s to swap with the next", describe(f))
	return nil
}

func (r *reorder) holding(l *Link, dir profile.Side) bool {
	_, ok := l.State(r).(*reorderState).held[dir]
	return ok
}

func init() {
	Register(Spelling{
		Name: "reorder", Example: "reorder",
		Doc:  "hold each frame back until the next one in its direction has passed: swap pairs",
		Make: func([]string, map[string]string) (Fault, error) { return Reorder(), nil },
	})
}
