package proxy

import "time"

// schedule queues a frame or cut d of virtual time from now, after every
// item due at the same time or earlier, so equal delays keep their order.
func (c *conn) schedule(d time.Duration, it *item) {
	it.due = c.p.Clock.Now().Add(d)
	i := len(c.queue)
	for i > 0 && c.queue[i-1].due.After(it.due) {
		i--
	}
	c.queue = append(c.queue, nil)
	copy(c.queue[i+1:], c.queue[i:])
	c.queue[i] = it
}

// runDue carries out every queued item that is due, then arms the timer
// for the next one, or disarms it when nothing is left.
func (c *conn) runDue() {
	for c.state != stateEnded && len(c.queue) > 0 {
		now := c.p.Clock.Now()
		head := c.queue[0]
		if head.due.After(now) {
			c.arm(head.due, head.due.Sub(now))
			return
		}
		c.queue = c.queue[1:]
		if head.cut != nil {
			c.cut(head.cut.cut, head.cut.by)
		} else {
			c.write(head.frame)
		}
	}
	c.disarm()
}

func (c *conn) arm(at time.Time, d time.Duration) {
	if c.armed && c.armedAt.Equal(at) {
		return
	}
	if c.timer == nil {
		c.timer = c.p.Clock.NewTimer(d)
	} else {
		c.stopTimer()
		c.timer.Reset(d)
	}
	c.armed, c.armedAt = true, at
}

func (c *conn) disarm() {
	if c.armed {
		c.stopTimer()
		c.armed = false
	}
}

// stopTimer stops the timer and drains a firing the loop has not read, so
// it cannot wake the loop for a deadline that moved.
func (c *conn) stopTimer() {
	if !c.timer.Stop() {
		select {
		case <-c.timer.Chan():
		default:
		}
	}
}
