package proxy

import "time"

// schedule queues a frame or cut d of virtual time from now.
func (c *conn) schedule(d time.Duration, it *item) { c.delays.Add(d, *it) }

// runDue carries out every queued item that is due, then arms the timer
// for the next one, or disarms it when nothing is left.
func (c *conn) runDue() {
	for c.state != stateEnded {
		it, ok := c.delays.Due()
		if !ok {
			break
		}
		if it.cut != nil {
			c.cut(it.cut.cut, it.cut.by)
		} else {
			c.write(it.frame)
		}
	}
	if c.state == stateEnded {
		c.delays.Drop()
		return
	}
	c.delays.Arm()
}
