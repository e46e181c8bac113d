package fakeserver

import (
	"fmt"
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
		case it.Answer != nil:
			c.faultEntry(it.Answer.By, "answered the client's close", nil)
			c.writeClose(int(it.Answer.Cut.Code), it.Answer.Cut.Reason)
			c.end()
		case it.Frame.Dir == profile.Client:
			c.handle(it.Frame)
		default:
			c.write(it.Frame)
		}
	})
}

// holdClose holds the answer to the client's close frame d (slow-close):
// the connection is closing, with no real-time grace, and ends once the
// answer has gone or the client drops the socket.
func (c *conn) holdClose(d time.Duration, answer *link.NamedCut) {
	c.faultEntry(answer.By, fmt.Sprintf("holding the answer to the client's close %v", d), nil)
	c.closing()
	c.ws.SetReadDeadline(time.Time{}) // the hold, not link.CloseGrace, bounds it
	c.delays.Add(d, link.Item{Answer: answer})
}
