package chaos

import "fmt"

// CutAfterFrames cuts the connection as k says once n frames have passed
// it (both directions unless wrapped in Dir or Type: then n of those),
// right after the n-th is passed on: "the link dies after N messages".
// It panics if n < 1.
func CutAfterFrames(n int, k Cut) FrameFault {
	if n < 1 {
		panic(fmt.Sprintf("chaos: CutAfterFrames(%d): want at least 1", n))
	}
	return &cutAfterFrames{n: n, cut: k}
}

type cutAfterFrames struct {
	n   int
	cut Cut
}

func (c *cutAfterFrames) String() string { return fmt.Sprintf("cut-after %d %s", c.n, c.cut.Words()) }

// NewState counts the frames passed on one connection.
func (c *cutAfterFrames) NewState() any { return new(int) }

func (c *cutAfterFrames) Frame(l *Link, f Frame) []Frame {
	seen := l.State(c).(*int)
	*seen++
	if *seen == c.n {
		l.Cut(c.cut)
	}
	return []Frame{f}
}

func init() {
	Register(Spelling{
		Name: "cut-after", Usage: "N [" + cutWordsUsage + "]", Example: "cut-after 3 rst",
		Doc:  "cut the connection (FIN unless told) right after the N-th frame has passed: the link that dies after N messages",
		Make: countCutMaker("a frame count", CutAfterFrames),
	})
}
