// Package quiet tells when a world that lives entirely in this process (a
// client, a fake server, the loopback sockets between them, a virtual
// clock) can do nothing more until the clock is advanced. A wait for an
// effect that has not come by then can fail at once instead of at its
// real-time bound.
//
// One observation (Observe) looks at the two places where work can be in
// flight:
//
//   - Goroutines: a snapshot of all of them (runtime.Stack stops the world
//     for it). Any goroutine but the caller's that is runnable, running,
//     in a system call, or blocked in a write (a connect in progress, a
//     full send buffer), or asleep on the real clock, is work in flight. A
//     goroutine parked on a channel, a select, a lock, a condition or a
//     read from the network is at rest.
//   - Sockets: every TCP socket with one of the world's ports as its local
//     or remote port, from /proc/net/tcp and tcp6. Bytes not yet acked or
//     not yet read, a connection waiting to be accepted, a handshake or a
//     close half done, and an end of stream its owner has not closed on
//     (CLOSE_WAIT) are work in flight. So is any TCP descriptor of the
//     process that the kernel has already finished with (reset, or its
//     close handshake done: it is in none of the tables) but its owner has
//     not closed yet: the owner has an error or an end of stream to read.
//
// The two are read one after the other, not at one instant, and some
// work is invisible to both for a moment: a reset or a FIN whose sender
// has already let go of its socket while the packet is still on its way
// through loopback, and a wake-up passing from the kernel to the Go
// netpoller. Observe snapshots the goroutines before and after reading the
// sockets, and Detector decides only after several consecutive
// observations spaced in real time, with the caller's own record of
// progress unchanged across them: work in flight would have to slip
// between every pair of looks.
//
// What no observation can see is a timer on the real clock: a goroutine
// parked on a read with a deadline, or on a select with time.After, wakes
// on its own. A world may use the check only if no effect it waits for
// comes from one: in virtual time every timer that matters is on the
// virtual clock, and the real-time deadlines left (write deadlines, and
// the fake server's grace for a client that does not answer a close)
// only bound misbehaviour.
package quiet

import (
	"fmt"
	"net/url"
	"runtime"
	"slices"
	"strconv"
	"sync"
	"time"
)

// Tunables of Detector.
const (
	// need is how many consecutive idle observations make the world idle
	// for good: one could fall between two hops of a chain of work.
	need = 3
	// Gap is the least real time between two observations, so the ones
	// that decide span a wake-up delayed by a loaded machine. A caller
	// that polls only for Idle need not poll more often.
	Gap = 20 * time.Millisecond
)

// PortOf is the port of a server's URL (ws://127.0.0.1:PORT/...), for
// NewDetector: every socket of the server's world has it at one end.
func PortOf(rawURL string) (int, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return 0, fmt.Errorf("the server's URL %q: %w", rawURL, err)
	}
	p, err := strconv.Atoi(u.Port())
	if err != nil {
		return 0, fmt.Errorf("the server's URL %q has no port: %w", rawURL, err)
	}
	return p, nil
}

// Observe looks at the process's goroutines and at the TCP sockets on
// ports once, and reports whether nothing is in flight; when something is,
// why says what. Where it cannot tell (other systems than Linux) idle is
// false.
func Observe(ports ...int) (idle bool, why string) { return observeAlone(observe, ports) }

// observe is one observation of the process, judged for ports.
func observe(ports []int) (bool, string) { return observeAll().judge(ports) }

// A snapshot is one observation of the whole process: why something is in
// flight whatever the ports (a goroutine, a descriptor), or else every
// TCP socket of the tables, for each world to judge its own.
type snapshot struct {
	why     string
	sockets []tcpSocket
}

// judge reads the snapshot for the world on ports.
func (s snapshot) judge(ports []int) (bool, string) {
	if s.why != "" {
		return false, s.why
	}
	var world []tcpSocket
	for _, k := range s.sockets {
		if slices.Contains(ports, k.local) || slices.Contains(ports, k.remote) {
			world = append(world, k)
		}
	}
	if why := worldBusy(world); why != "" {
		return false, why
	}
	return true, ""
}

// last is the process's latest observation, which every Detector may
// take as its own if it began late enough: the goroutines are the whole
// process's in any observation, and the sockets of every world are in the
// tables, so one observation serves every world waiting at once, where
// each observing for itself would queue behind the others (observing).
var last struct {
	snap       snapshot
	start, end time.Time
}

// observeShared returns an observation begun no earlier than since: the
// latest, if it was, else a new one; and when it ended.
func observeShared(since time.Time) (snapshot, time.Time) {
	observing.Lock()
	defer observing.Unlock()
	if !last.start.IsZero() && !last.start.Before(since) {
		return last.snap, last.end
	}
	start := time.Now()
	snap := observeAll()
	last.snap, last.start, last.end = snap, start, time.Now()
	return snap, last.end
}

// observing makes observations in one process take turns: an observer
// for another world, caught running, would make this one look busy,
// while one parked on the lock does not.
var observing sync.Mutex

func observeAlone(observe func([]int) (bool, string), ports []int) (bool, string) {
	observing.Lock()
	defer observing.Unlock()
	return observe(ports)
}

// Detector decides, from repeated observations, that a world is idle for
// good. Make one per wait: it counts only observations made through it.
type Detector struct {
	observe  func([]int) (bool, string) // nil: the process's shared observations
	ports    []int
	need     int
	gap      time.Duration
	streak   int
	last     time.Time // when the last observation ended
	progress string    // the caller's progress at the last one
	why      string
}

// NewDetector returns a Detector for the world whose sockets all have one
// of ports as their local or remote port (a fake server's listen port).
// Its first observation is a gap after it is made: most waits end before,
// and pay nothing.
func NewDetector(ports ...int) *Detector {
	return &Detector{ports: ports, need: need, gap: Gap, last: time.Now()}
}

// Idle reports whether the world has been idle in the last several
// observations, at least a gap apart, with progress the same in each.
// progress is the caller's record of everything the world has done that
// it watches (counts of states, messages, transcript entries, the value
// it waits on): any change starts the count again. Idle observes at most
// once per gap, so a poll loop may call it on every round.
func (d *Detector) Idle(progress string) bool {
	if d.streak > 0 && progress != d.progress {
		d.streak = 0
	}
	if time.Since(d.last) < d.gap {
		return d.streak >= d.need
	}
	var idle bool
	var why string
	if d.observe == nil {
		// Any observation begun a gap after the last one ended will do.
		var snap snapshot
		snap, d.last = observeShared(d.last.Add(d.gap))
		idle, why = snap.judge(d.ports)
	} else {
		idle, why = observeAlone(d.observe, d.ports)
		d.last = time.Now()
	}
	d.progress = progress
	if !idle {
		d.streak, d.why = 0, why
		return false
	}
	d.streak, d.why = d.streak+1, ""
	return d.streak >= d.need
}

// Why says what the last observation found in flight, if anything.
func (d *Detector) Why() string { return d.why }

// unsupported is Observe where goroutines and sockets cannot be seen: it
// never says idle, so callers wait out their bound.
func unsupported([]int) (bool, string) {
	return false, "cannot observe sockets on " + runtime.GOOS
}
