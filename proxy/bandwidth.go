package proxy

import (
	"fmt"
	"time"

	"github.com/wschaos/wschaos/chaos"
)

// Bandwidth limits each direction of a connection to bytesPerSec: a frame
// leaves once every byte before it has, at that rate, on the virtual
// clock. A frame of n bytes on an idle link is delayed n/bytesPerSec; one
// arriving while the link is busy also waits for the frames ahead of it,
// so order is kept. Wrap it in Dir to limit one direction only. It panics
// if bytesPerSec is not positive.
func Bandwidth(bytesPerSec int64) chaos.FrameFault {
	if bytesPerSec <= 0 {
		panic(fmt.Sprintf("proxy: Bandwidth(%d): want a positive rate", bytesPerSec))
	}
	return &bandwidth{rate: bytesPerSec}
}

type bandwidth struct {
	rate int64
	// busy is when each direction's link is free again, as virtual time
	// since the proxy started.
	busy perLink[[2]time.Duration]
}

func (b *bandwidth) String() string { return fmt.Sprintf("bandwidth %d B/s", b.rate) }

func (b *bandwidth) Frame(l *chaos.Link, f chaos.Frame) []chaos.Frame {
	busy := b.busy.get(l)
	start := max(l.Now+f.Delay, busy[f.Dir])
	busy[f.Dir] = start + b.transfer(len(f.Data))
	f.Delay = busy[f.Dir] - l.Now
	return []chaos.Frame{f}
}

// transfer is how long n bytes take at the rate, rounded up to a whole
// nanosecond so a frame is never early.
func (b *bandwidth) transfer(n int) time.Duration {
	ns := (int64(n)*int64(time.Second) + b.rate - 1) / b.rate
	return time.Duration(ns)
}
