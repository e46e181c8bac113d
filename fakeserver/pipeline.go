package fakeserver

import (
	"github.com/wschaos/wschaos/chaos"
	"github.com/wschaos/wschaos/internal/link"
)

// pipeline runs f through the frame faults in order and returns what
// reaches the end.
func (c *conn) pipeline(f chaos.Frame) []chaos.Frame {
	return c.faults.Frame(c.s.framers, f)
}

// linkCut is Link.Cut: during Open the cut waits until the open is
// recorded, like a step with no delay; during a frame fault's call it
// waits until that frame has been passed on (frameDone).
func (c *conn) linkCut(k chaos.Cut) {
	switch {
	case c.opening:
		by := c.faults.Calling()
		if by == "" {
			by = "link"
		}
		c.openCuts = append(c.openCuts, link.NamedCut{Cut: k, By: by})
	case c.faults.InFrame():
		c.faults.Ask(k)
	default:
		c.faults.Ask(k)
		c.frameDone()
	}
}

// frameDone makes the cuts frame faults asked for while deciding the
// frame just passed on.
func (c *conn) frameDone() {
	for _, nc := range c.faults.Cuts() {
		c.cut(nc.Cut, nc.By)
	}
}
