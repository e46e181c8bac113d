package proxy

import (
	"time"

	"github.com/wschaos/wschaos/internal/link"
)

// schedule queues a frame or cut d of virtual time from now.
func (c *conn) schedule(d time.Duration, it *item) { c.delays.Add(d, *it) }

// runDue carries out every queued item that is due, then arms the timer
// for the next one, or disarms it when nothing is left.
func (c *conn) runDue() {
	for c.life.State != link.Ended {
		it, ok := c.delays.Due()
		if !ok {
			break
		}
		if it.cut != nil {
			c.cut(it.cut.Cut, it.cut.By)
		} else {
			c.write(it.frame)
		}
	}
	if c.life.State == link.Ended {
		c.delays.Drop()
		return
	}
	c.delays.Arm()
}
