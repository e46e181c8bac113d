package proxy

import (
	"fmt"

	"github.com/wschaos/wschaos/chaos"
)

// CutAfterFrames cuts the connection as k says once n frames have passed
// it (both directions unless wrapped in Dir or Type: then n of those),
// right after the n-th is passed on: "the link dies after N messages".
// It panics if n < 1.
func CutAfterFrames(n int, k chaos.Cut) chaos.FrameFault {
	if n < 1 {
		panic(fmt.Sprintf("proxy: CutAfterFrames(%d): want at least 1", n))
	}
	return &cutAfterFrames{n: n, cut: k}
}

type cutAfterFrames struct {
	n    int
	cut  chaos.Cut
	seen perLink[int]
}

func (c *cutAfterFrames) String() string { return fmt.Sprintf("%s after %d frames", c.cut, c.n) }

func (c *cutAfterFrames) Frame(l *chaos.Link, f chaos.Frame) []chaos.Frame {
	seen := c.seen.get(l)
	*seen++
	if *seen == c.n {
		l.Cut(c.cut)
	}
	return []chaos.Frame{f}
}
