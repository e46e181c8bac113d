package chaos

import (
	"fmt"
	"time"
)

// Jitter delays every frame it sees by a draw in [0, max) from the
// connection's seeded Rand, in both directions unless wrapped: the same
// seed gives the same delays.
func Jitter(max time.Duration) FrameFault { return jitter{max: max} }

type jitter struct{ max time.Duration }

func (j jitter) String() string { return fmt.Sprintf("jitter %v", j.max) }

func (j jitter) Frame(l *Link, f Frame) []Frame {
	if j.max <= 0 {
		return []Frame{f}
	}
	if l.Rand == nil {
		panic("chaos: Jitter needs Link.Rand; the fake server sets it")
	}
	f.Delay += time.Duration(l.Rand.Int64N(int64(j.max)))
	return []Frame{f}
}

func init() {
	Register(Spelling{
		Name: "jitter", Usage: "D", Example: "jitter 100ms",
		Doc:  "hold every frame back a random time below D (frames may overtake each other)",
		Make: durationMaker(Jitter),
	})
}
