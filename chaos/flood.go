package chaos

import (
	"fmt"

	"github.com/wschaos/wschaos/profile"
)

// floodType is the event type of FloodBeforePongs' filler events.
const floodType = "flood"

// FloodBeforePongs sends n filler events (type "flood", data {"n": i})
// ahead of each pong: a burst that queues the heartbeat reply behind a
// flood. With a resuming profile the fillers are numbered in the session
// like any event.
func FloodBeforePongs(n int) FrameFault { return floodBeforePongs{n: n} }

type floodBeforePongs struct{ n int }

func (f floodBeforePongs) String() string { return fmt.Sprintf("flood-before-pongs %d", f.n) }

func (floodBeforePongs) targets(f Frame) bool { return isPong(f) }

func (fl floodBeforePongs) Frame(l *Link, f Frame) []Frame {
	if !isPong(f) || fl.n <= 0 || l.Event == nil {
		return []Frame{f}
	}
	out := make([]Frame, 0, fl.n+1)
	for i := 1; i <= fl.n; i++ {
		ev, err := l.Event(floodType, profile.MustData(map[string]int{"n": i}))
		if err != nil {
			l.note("flood stopped after %d events: %v", i-1, err)
			break
		}
		out = append(out, ev)
	}
	return append(out, f)
}

func init() {
	Register(Spelling{
		Name: "flood-before-pongs", Usage: "N", Example: "flood-before-pongs 10",
		Doc: "send N events ahead of each heartbeat answer: a pong stuck behind a burst",
		Make: func(args []string, _ map[string]string) (Fault, error) {
			n, err := CountArg(args, 0, "a count")
			if err != nil {
				return nil, err
			}
			return FloodBeforePongs(n), nil
		},
	})
}
