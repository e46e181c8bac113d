package chaos

import (
	"fmt"

	"github.com/wschaos/wschaos/profile"
)

// SeqSwap holds the server event numbered seq back until the next event
// with a seq (normally seq+1) and sends it after that one: events out of
// order. Frames without a seq (replies, pongs) pass meanwhile.
func SeqSwap(seq int64) FrameFault { return &seqSwap{seq: seq} }

type seqSwap struct{ seq int64 }

type seqSwapState struct{ held *Frame }

func (s *seqSwap) NewState() any { return new(seqSwapState) }

func (s *seqSwap) String() string { return fmt.Sprintf("seq-swap %d", s.seq) }

// targets is the event to hold; the one that releases it reaches the fault
// because it is holding.
func (s *seqSwap) targets(f Frame) bool {
	n, ok := seqOf(f)
	return ok && n == s.seq
}

func (s *seqSwap) holding(l *Link, dir profile.Side) bool {
	return dir == profile.Server && l.State(s).(*seqSwapState).held != nil
}

func (s *seqSwap) Frame(l *Link, f Frame) []Frame {
	n, ok := seqOf(f)
	if !ok {
		return []Frame{f}
	}
	st := l.State(s).(*seqSwapState)
	if h := st.held; h != nil {
		st.held = nil
		l.note("sent seq %d after seq %d", h.Msg.Seq, n)
		return []Frame{f, *h}
	}
	if n != s.seq {
		return []Frame{f}
	}
	st.held = &f
	l.note("held seq %d (%s) to send after the next", n, describe(f))
	return nil
}

func init() {
	Register(Spelling{
		Name: "seq-swap", Usage: "SEQ", Example: "seq-swap 3",
		Doc:  "send the server event numbered SEQ after the next one",
		Make: seqMaker(SeqSwap),
	})
}
