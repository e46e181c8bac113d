package chaos

import "fmt"

// SeqDuplicate sends the server event numbered seq twice.
func SeqDuplicate(seq int64) FrameFault { return seqDuplicate{seq: seq} }

type seqDuplicate struct{ seq int64 }

func (s seqDuplicate) String() string { return fmt.Sprintf("seq-duplicate %d", s.seq) }

func (s seqDuplicate) targets(f Frame) bool {
	n, ok := seqOf(f)
	return ok && n == s.seq
}

func (s seqDuplicate) Frame(_ *Link, f Frame) []Frame {
	if n, ok := seqOf(f); ok && n == s.seq {
		return []Frame{f, f}
	}
	return []Frame{f}
}

func init() {
	Register(Spelling{
		Name: "seq-duplicate", Usage: "SEQ", Example: "seq-duplicate 3",
		Doc:  "send the server event numbered SEQ twice",
		Make: seqMaker(SeqDuplicate),
	})
}
