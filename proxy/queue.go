package proxy

import (
	"fmt"
	"time"

	"github.com/wschaos/wschaos/internal/link"
	"github.com/wschaos/wschaos/profile"
)

// schedule queues a cut d of virtual time from now (frames go through
// c.delays.Later, which keeps their order).
func (c *conn) schedule(d time.Duration, it *link.Item) { c.delays.Add(d, *it) }

// runDue carries out every queued item that is due, then arms the timer
// for the next one, or disarms it when nothing is left.
func (c *conn) runDue() {
	c.delays.RunDue(func() bool { return c.life.State == link.Ended }, func(it link.Item) {
		switch {
		case it.Cut != nil:
			c.cut(it.Cut.Cut, it.Cut.By)
		case it.Answer != nil:
			c.faultEntry(it.Answer.By, "answered the client's close", nil)
			c.writeClose(profile.Client, it.Answer.Cut.Code, it.Answer.Cut.Reason)
			c.end()
		default:
			c.write(it.Frame)
		}
	})
}

// holdClose holds the upstream's answer to the client's close d
// (slow-close): the upstream has answered, the client waits; the
// connection ends once the answer has gone or the client drops it.
func (c *conn) holdClose(d time.Duration, answer *link.NamedCut) {
	c.faultEntry(answer.By, fmt.Sprintf("holding the answer to the client's close %v", d), nil)
	c.holding = true
	c.delays.Add(d, link.Item{Answer: answer})
}
