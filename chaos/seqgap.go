package chaos

import "fmt"

// SeqGap drops the server event numbered seq, leaving a gap the client must
// notice (mattermost closes with 4001) and resume across. The event stays in
// the session's replay buffer; the gap recurs on every connection that
// sends seq, replays included, unless wrapped in OnAttempt.
func SeqGap(seq int64) FrameFault { return seqGap{seq: seq} }

type seqGap struct{ seq int64 }

func (s seqGap) String() string { return fmt.Sprintf("seq-gap %d", s.seq) }

func (s seqGap) targets(f Frame) bool {
	n, ok := seqOf(f)
	return ok && n == s.seq
}

func (s seqGap) Frame(_ *Link, f Frame) []Frame {
	if n, ok := seqOf(f); ok && n == s.seq {
		return nil
	}
	return []Frame{f}
}

func init() {
	Register(Spelling{
		Name: "seq-gap", Usage: "SEQ", Example: "seq-gap 3",
		Doc:  "drop the server event numbered SEQ: the client must notice the gap",
		Make: seqMaker(SeqGap),
	})
}
