package fakeserver

import (
	"time"

	"github.com/wschaos/wschaos/internal/link"
	"github.com/wschaos/wschaos/profile"
)

// schedule queues a cut or ping d of virtual time from now (frames go
// through c.delays.Later, which keeps their order).
func (c *conn) schedule(d time.Duration, it *link.Item) { c.delays.Add(d, *it) }

// runDue carries out every queued item that is due, then arms the timer
// for the next one, or disarms it when nothing is left.
func (c *conn) runDue() {
	c.delays.RunDue(func() bool { return c.life.State == link.Ended }, func(it link.Item) {
		switch {
		case it.Ping:
			c.ping()
		case it.Cut != nil:
			c.cut(it.Cut.Cut, it.Cut.By)
		case it.Frame.Dir == profile.Client:
			c.handle(it.Frame)
		default:
			c.write(it.Frame)
		}
	})
}
