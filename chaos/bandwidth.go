package chaos

import (
	"fmt"
	"time"
)

// Bandwidth limits each direction of a connection to bytesPerSec: a frame
// leaves once every byte before it has, at that rate, on the virtual
// clock. A frame of n bytes on an idle link is delayed n/bytesPerSec; one
// arriving while the link is busy also waits for the frames ahead of it,
// so order is kept. Wrap it in Dir to limit one direction only. It panics
// if bytesPerSec is not positive.
func Bandwidth(bytesPerSec int64) FrameFault {
	if bytesPerSec <= 0 {
		panic(fmt.Sprintf("chaos: Bandwidth(%d): want a positive rate", bytesPerSec))
	}
	return &bandwidth{rate: bytesPerSec}
}

type bandwidth struct {
	rate int64
}

// NewState is when each direction of the link is free again, as virtual
// time since the server started.
func (b *bandwidth) NewState() any { return new([2]time.Duration) }

func (b *bandwidth) String() string { return fmt.Sprintf("bandwidth %d", b.rate) }

func (b *bandwidth) Frame(l *Link, f Frame) []Frame {
	busy := l.State(b).(*[2]time.Duration)
	start := max(l.Now+f.Delay, busy[f.Dir])
	busy[f.Dir] = start + b.transfer(len(f.Data))
	f.Delay = busy[f.Dir] - l.Now
	return []Frame{f}
}

// transfer is how long n bytes take at the rate, rounded up to a whole
// nanosecond so a frame is never early.
func (b *bandwidth) transfer(n int) time.Duration {
	ns := (int64(n)*int64(time.Second) + b.rate - 1) / b.rate
	return time.Duration(ns)
}

func init() {
	Register(Spelling{
		Name: "bandwidth", Usage: "BYTES_PER_SECOND", Example: "bandwidth 1000",
		Doc: "let each direction carry so many bytes a second, frames in order: a slow link",
		Make: func(args []string, _ map[string]string) (Fault, error) {
			n, err := IntArg(args, 0, "a rate in bytes per second")
			if err == nil && n < 1 {
				err = WordErrorf("args[0]", "%d: want a positive rate in bytes per second", n)
			}
			if err != nil {
				return nil, err
			}
			return Bandwidth(int64(n)), nil
		},
	})
}
