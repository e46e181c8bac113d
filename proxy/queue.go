package proxy

import (
	"time"

	"github.com/wschaos/wschaos/internal/link"
)

// schedule queues a cut d of virtual time from now (frames go through
// c.delays.Later, which keeps their order).
func (c *conn) schedule(d time.Duration, it *link.Item) { c.delays.Add(d, *it) }

// runDue carries out every queued item that is due, then arms the timer
// for the next one, or disarms it when nothing is left.
func (c *conn) runDue() {
	c.delays.RunDue(func() bool { return c.life.State == link.Ended }, func(it link.Item) {
		if it.Cut != nil {
			c.cut(it.Cut.Cut, it.Cut.By)
		} else {
			c.write(it.Frame)
		}
	})
}
