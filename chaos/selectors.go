package chaos

import (
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/wschaos/wschaos/profile"
)

// OnAttempt applies f only on connection attempt n (from 1): to its
// handshake, its connection and the frames on it. Like every selector it
// takes the fault last and returns a fault with exactly the capabilities
// of f, so selectors nest: OnAttempt(2, Dir(profile.Server, Drop())).
func OnAttempt(n int, f Fault) Fault { return InAttempts([]Span{{From: n, To: n}}, f) }

// InAttempts is OnAttempt for runs of attempts, however long: it holds
// the spans, not every number in them, and names each run by its ends,
// "attempts=1,4-1000".
func InAttempts(spans []Span, f Fault) Fault {
	spans = mergeSpans(spans)
	return onAttempts(f, "attempts="+spanWords(spans), func(n int) bool {
		return slices.ContainsFunc(spans, func(s Span) bool { return n >= s.From && n <= s.To })
	})
}

// Span is the attempts From to To, both included.
type Span struct{ From, To int }

// mergeSpans sorts spans and joins those that touch, so the attempts
// print one way whatever way they were written: "2,3" and "2-3" are
// both "2-3".
func mergeSpans(spans []Span) []Span {
	var out []Span
	for _, s := range slices.SortedFunc(slices.Values(spans), func(a, b Span) int { return a.From - b.From }) {
		s.To = max(s.From, s.To)
		if n := len(out); n > 0 && s.From <= out[n-1].To+1 {
			out[n-1].To = max(out[n-1].To, s.To)
			continue
		}
		out = append(out, s)
	}
	return out
}

func onAttempts(f Fault, name string, in func(int) bool) Fault {
	return wrap(&gate{
		name:    name,
		inner:   f,
		attempt: func(a *Attempt) bool { return in(a.N) },
		conn:    func(l *Link) bool { return in(l.Attempt) },
		when:    func(l *Link, _ Frame) bool { return in(l.Attempt) },
	})
}

// FromAttempt applies f on attempt n and every later one: "the server
// breaks after the first reconnect".
func FromAttempt(n int, f Fault) Fault {
	return wrap(&gate{
		name:    fmt.Sprintf("from=%d", n),
		inner:   f,
		attempt: func(a *Attempt) bool { return a.N >= n },
		conn:    func(l *Link) bool { return l.Attempt >= n },
		when:    func(l *Link, _ Frame) bool { return l.Attempt >= n },
	})
}

// During applies f in the window [from, to) of virtual time since the
// server started; to ≤ 0 leaves it open-ended ("after T"). A handshake is
// judged at its attempt's time, a connection when it opens, a frame when it
// passes: During(time.Minute, 0, SwallowPongs()) swallows pongs after 1m.
func During(from, to time.Duration, f Fault) Fault {
	in := func(t time.Duration) bool { return t >= from && (to <= 0 || t < to) }
	name := fmt.Sprintf("during=%v..%v", from, to)
	if to <= 0 {
		name = fmt.Sprintf("during=%v..", from)
	}
	return wrap(&gate{
		name:    name,
		inner:   f,
		attempt: func(a *Attempt) bool { return in(a.At) },
		conn:    func(l *Link) bool { return in(l.Now) },
		when:    func(l *Link, _ Frame) bool { return in(l.Now) },
	})
}

// Match applies the frame fault f to frames pred accepts. Like Dir, Type
// and Index it gates only frames: other capabilities of f pass unchanged,
// and it panics if f is not a FrameFault.
func Match(pred func(Frame) bool, f Fault) Fault {
	mustFrame("Match", f)
	return wrap(&gate{name: "match=func", inner: f, where: pred})
}

// Dir applies the frame fault f to frames sent by side only.
func Dir(side profile.Side, f Fault) Fault {
	mustFrame("Dir", f)
	return wrap(&gate{
		name:  "dir=" + side.String(),
		inner: f,
		where: func(fr Frame) bool { return fr.Dir == side },
	})
}

// Type applies the frame fault f to frames whose message type is typ
// (queue's "type", mattermost's "event" or "action").
func Type(typ string, f Fault) Fault {
	mustFrame("Type", f)
	return wrap(&gate{
		name:  "type=" + typ,
		inner: f,
		where: func(fr Frame) bool { return fr.Msg != nil && fr.Msg.Type == typ },
	})
}

// Index applies the frame fault f to the i-th frame (from 1) in each
// direction of a connection; wrap it in Dir for one direction.
func Index(i int, f Fault) Fault {
	mustFrame("Index", f)
	return wrap(&gate{
		name:  fmt.Sprintf("index=%d", i),
		inner: f,
		where: func(fr Frame) bool { return fr.Index == i },
	})
}

// EveryNth applies f to every n-th attempt (by attempt number, for
// handshake and connection faults) or, for frame faults, to every n-th
// frame on a connection that f targets: EveryNth(3, SwallowPongs())
// swallows every third pong, whatever frames come between. A fault value
// keeps its counts per connection, so it can serve many.
func EveryNth(n int, f Fault) Fault {
	if n < 1 {
		panic(fmt.Sprintf("chaos: EveryNth(%d): n must be at least 1", n))
	}
	g := &gate{
		name:    fmt.Sprintf("every=%d", n),
		inner:   f,
		attempt: func(a *Attempt) bool { return a.N%n == 0 },
		conn:    func(l *Link) bool { return l.Attempt%n == 0 },
	}
	g.when = func(l *Link, _ Frame) bool {
		seen := local[int](l, g)
		*seen++
		return *seen%n == 0
	}
	return wrap(g)
}

// FirstN applies f to attempts 1..n (handshake and connection faults) or,
// for frame faults, to the first n frames on each connection that f
// targets: FirstN(2, SwallowPongs()) swallows the first two pongs of each
// connection.
func FirstN(n int, f Fault) Fault {
	g := &gate{
		name:    fmt.Sprintf("first=%d", n),
		inner:   f,
		attempt: func(a *Attempt) bool { return a.N <= n },
		conn:    func(l *Link) bool { return l.Attempt <= n },
	}
	g.when = func(l *Link, _ Frame) bool {
		seen := local[int](l, g)
		*seen++
		return *seen <= n
	}
	return wrap(g)
}

// Probability applies f with probability p, drawn from the attempt's
// seeded Rand (once per attempt, connection, or frame f targets): the same
// seed makes the same choices.
func Probability(p float64, f Fault) Fault {
	if p < 0 || p > 1 {
		panic(fmt.Sprintf("chaos: Probability(%v): p must be in [0, 1]", p))
	}
	draw := func(r interface{ Float64() float64 }) bool { return r.Float64() < p }
	return wrap(&gate{
		name:    "prob=" + strconv.FormatFloat(p, 'g', -1, 64),
		inner:   f,
		attempt: func(a *Attempt) bool { return draw(a.Rand) },
		conn:    func(l *Link) bool { return draw(l.Rand) },
		when:    func(l *Link, _ Frame) bool { return draw(l.Rand) },
	})
}

func mustFrame(selector string, f Fault) {
	if _, ok := f.(FrameFault); !ok {
		panic(fmt.Sprintf("chaos: %s selects frames, but %v is not a frame fault", selector, f))
	}
}
