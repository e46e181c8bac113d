package chaos

import "fmt"

// NewHelloAfter starts a new session on the live connection right after the
// server event numbered seq, and sends its hello (a new connection id, seq
// 0) in the middle of the stream: the client must resync and number from 0.
// It acts once per connection.
func NewHelloAfter(seq int64) FrameFault { return &newHelloAfter{seq: seq} }

type newHelloAfter struct{ seq int64 }

type newHelloState struct{ done bool }

func (h *newHelloAfter) NewState() any { return new(newHelloState) }

func (h *newHelloAfter) String() string { return fmt.Sprintf("new-hello-after %d", h.seq) }

func (h *newHelloAfter) targets(f Frame) bool {
	n, ok := seqOf(f)
	return ok && n == h.seq
}

func (h *newHelloAfter) Frame(l *Link, f Frame) []Frame {
	st := l.State(h).(*newHelloState)
	if n, ok := seqOf(f); !ok || n != h.seq || st.done || l.NewSession == nil {
		return []Frame{f}
	}
	hello, ok := l.NewSession()
	if !ok {
		l.note("no new hello: the profile has no sessions")
		return []Frame{f}
	}
	st.done = true
	return []Frame{f, hello}
}

func init() {
	Register(Spelling{
		Name: "new-hello-after", Usage: "SEQ", Example: "new-hello-after 4", OwnsSessions: true,
		Doc:  "after the server event numbered SEQ, start a new session on the same connection",
		Make: seqMaker(NewHelloAfter),
	})
}
