package report

import (
	"strconv"
	"time"
)

// maxTicks bounds the labels on a time axis: about 90 units apart on a
// 1000-unit picture, wide enough for "12.5s".
const maxTicks = 10

// tick is one labelled instant on the time axis.
type tick struct {
	X     float64
	Label string
}

// step returns the axis step for a picture that spans end: the smallest of
// 1, 2 or 5 times a power of ten that gives at most maxTicks steps, so
// labels are round numbers a reader can add up.
func step(end time.Duration) time.Duration {
	for unit := time.Duration(1); ; unit *= 10 {
		for _, m := range []time.Duration{1, 2, 5} {
			if end/(unit*m) <= maxTicks {
				return unit * m
			}
		}
	}
}

// tickLabel writes t in the unit that suits the step: seconds from 100 ms
// steps up ("1.5s"), milliseconds from 100 µs ("250ms"), microseconds
// below. One unit per axis keeps the labels comparable at a glance.
func tickLabel(t, step time.Duration) string {
	if t == 0 {
		return "0"
	}
	num := func(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }
	switch {
	case step >= 100*time.Millisecond:
		return num(t.Seconds()) + "s"
	case step >= 100*time.Microsecond:
		return num(float64(t)/float64(time.Millisecond)) + "ms"
	}
	return num(float64(t)/float64(time.Microsecond)) + "µs"
}
