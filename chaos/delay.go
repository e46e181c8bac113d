package chaos

import (
	"fmt"
	"time"
)

// Delay holds every frame it sees back d of virtual time, in both directions
// unless wrapped. Frames it does not delay may overtake a delayed one.
func Delay(d time.Duration) FrameFault { return delay{d: d} }

type delay struct{ d time.Duration }

func (d delay) String() string { return fmt.Sprintf("delay %v", d.d) }

func (d delay) Frame(_ *Link, f Frame) []Frame {
	if d.d > 0 {
		f.Delay += d.d
	}
	return []Frame{f}
}

func init() {
	Register(Spelling{
		Name: "delay", Usage: "D", Example: "delay 5s",
		Doc:  "hold every frame back D",
		Make: durationMaker(Delay),
	})
}
