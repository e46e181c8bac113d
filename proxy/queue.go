package proxy

import (
	"time"

	"github.com/wschaos/wschaos/internal/link"
	"github.com/wschaos/wschaos/profile"
)

// runDue carries out every queued item that is due, then arms the timer
// for the next one, or disarms it when nothing is left.
func (c *conn) runDue() {
	c.delays.RunDue(link.Due{
		Frame: c.write, // most often: a relayed frame, delayed
		Cut:   c.cut,
		Answer: func(code profile.StatusCode, reason string) {
			c.writeClose(profile.Client, code, reason)
			c.end()
		},
		Ended: func() bool { return c.life.State == link.Ended },
	})
}

// holdClose holds the upstream's answer to the client's close d
// (slow-close): the upstream has answered, the client waits; the
// connection ends once the answer has gone or the client drops it.
func (c *conn) holdClose(d time.Duration, answer *link.NamedCut) {
	c.holding = true
	c.delays.HoldAnswer(d, answer)
}
