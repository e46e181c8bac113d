package fakeserver

import (
	"github.com/wschaos/wschaos/internal/wire"

	"github.com/wschaos/wschaos/chaos"
)

// pipeline runs f through the frame faults in order and returns what
// reaches the end.
func (c *conn) pipeline(f chaos.Frame) []chaos.Frame {
	return wire.Pipeline(c.s.framers, f, c.callFrame)
}

// callFrame calls one fault on one frame and records what it did.
func (c *conn) callFrame(ff chaos.FrameFault, in chaos.Frame) []chaos.Frame {
	c.link.Now = c.s.since()
	c.current, c.frame, c.noted = ff.String(), &in, false
	out := ff.Frame(c.link, in)
	if what := wire.Action(in, out); what != "" && !c.noted {
		c.faultEntry(c.current, what, &in)
	}
	c.current, c.frame = "", nil
	return out
}

// linkNote is Link.Note: the calling fault says what it did.
func (c *conn) linkNote(what string) {
	c.noted = true
	c.faultEntry(c.current, what, c.frame)
}

// linkCut is Link.Cut: during Open the cut waits until the open is
// recorded, like a step with no delay; during a frame fault's call it
// waits until that frame has been passed on, so "cut after the Nth frame"
// delivers it, as in the proxy.
func (c *conn) linkCut(k chaos.Cut) {
	by := c.current
	if by == "" {
		by = "link"
	}
	switch {
	case c.opening:
		c.openCuts = append(c.openCuts, namedCut{cut: k, by: by})
	case c.frame != nil:
		c.frameCuts = append(c.frameCuts, namedCut{cut: k, by: by})
	default:
		c.cut(k, by)
	}
}

// frameDone makes the cuts frame faults asked for while deciding the
// frame just passed on.
func (c *conn) frameDone() {
	cuts := c.frameCuts
	c.frameCuts = nil
	for _, nc := range cuts {
		c.cut(nc.cut, nc.by)
	}
}
