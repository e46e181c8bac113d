package chaos

import (
	"fmt"
	"time"
)

// Delay holds every frame it sees back d of virtual time, in both directions
// unless wrapped, and keeps order within a direction as a slow link (and
// Toxiproxy's latency) does: a later frame of that direction waits behind
// a delayed one, also a frame its selectors leave alone, so
// Type("pong", Delay(d)) holds the events sent after a pong too. Frames
// that pass each other are Reorder's or Jitter's.
func Delay(d time.Duration) FrameFault { return delay{d: d} }

type delay struct{ d time.Duration }

func (d delay) String() string { return fmt.Sprintf("delay %v", d.d) }

func (d delay) Frame(_ *Link, f Frame) []Frame {
	if d.d > 0 {
		f.Delay += d.d
		f.KeepOrder = true
	}
	return []Frame{f}
}

func init() {
	Register(Spelling{
		Name: "delay", Usage: "D", Example: "delay 5s",
		Doc:  "hold every frame back D; later frames of its direction wait behind it (order is kept: see reorder)",
		Make: durationMaker(Delay),
	})
}
