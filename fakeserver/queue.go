package fakeserver

import (
	"time"

	"github.com/wschaos/wschaos/chaos"
	"github.com/wschaos/wschaos/internal/link"
	"github.com/wschaos/wschaos/profile"
)

// runDue carries out every queued item that is due, then arms the timer
// for the next one, or disarms it when nothing is left.
func (c *conn) runDue() {
	c.delays.RunDue(link.Due{
		Ended: func() bool { return c.life.State == link.Ended },
		Cut:   c.cut,
		Answer: func(code profile.StatusCode, reason string) {
			c.writeClose(int(code), reason)
			c.end()
		},
		Frame: func(f chaos.Frame) {
			if f.Dir == profile.Client {
				c.handle(f)
			} else {
				c.write(f)
			}
		},
		Ping: c.ping,
	})
}

// holdClose holds the answer to the client's close frame d (slow-close):
// the connection is closing, with no real-time grace, and ends once the
// answer has gone or the client drops the socket.
func (c *conn) holdClose(d time.Duration, answer *link.NamedCut) {
	c.closing()
	c.ws.SetReadDeadline(time.Time{}) // the hold, not link.CloseGrace, bounds it
	c.delays.HoldAnswer(d, answer)
}
