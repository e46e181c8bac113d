package chaos

import (
	"fmt"
	"time"
)

// DelayPongs holds the server's answers to heartbeat pings back d of
// virtual time. With d near the heartbeat interval the pong lands at the
// boundary where a client decides the link is dead.
func DelayPongs(d time.Duration) FrameFault { return delayPongs{d: d} }

type delayPongs struct{ d time.Duration }

func (d delayPongs) String() string { return fmt.Sprintf("delay-pongs %v", d.d) }

func (delayPongs) targets(f Frame) bool { return isPong(f) }

func (d delayPongs) Frame(_ *Link, f Frame) []Frame {
	if isPong(f) && d.d > 0 {
		f.Delay += d.d
	}
	return []Frame{f}
}

func init() {
	Register(Spelling{
		Name: "delay-pongs", Usage: "D", Example: "delay-pongs 29.999s",
		Doc:  "hold the server's heartbeat answers back D: a pong just inside or outside a timeout",
		Make: durationMaker(DelayPongs),
	})
}
