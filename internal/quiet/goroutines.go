package quiet

import (
	"bytes"
	"fmt"
	"runtime"
	"strings"
)

// parked are the wait reasons (the runtime's waitReasonStrings) of a
// goroutine that stays where it is until another goroutine, the network
// or a timer wakes it. Anything else, and any state but waiting, is work
// in flight: runnable, running, syscall, preempted, a stack being copied,
// a GC assist, and "sleep", which the real clock ends by itself.
var parked = map[string]bool{
	"IO wait":                   true, // but not a write: see goroutineBusy
	"select":                    true,
	"select (no cases)":         true,
	"chan receive":              true,
	"chan send":                 true,
	"chan receive (nil chan)":   true,
	"chan send (nil chan)":      true,
	"semacquire":                true,
	"sync.Cond.Wait":            true,
	"sync.Mutex.Lock":           true,
	"sync.RWMutex.RLock":        true,
	"sync.RWMutex.Lock":         true,
	"sync.WaitGroup.Wait":       true,
	"finalizer wait":            true,
	"cleanup wait":              true,
	"force gc (idle)":           true,
	"GC worker (idle)":          true,
	"GC sweep wait":             true,
	"GC scavenge wait":          true,
	"GOMAXPROCS updater (idle)": true,
}

// goroutinesAtRest snapshots every goroutine and reports whether all but
// the caller's are parked; when not, why names the first that is not.
func goroutinesAtRest() (idle bool, why string) {
	return restingIn(allStacks())
}

// allStacks is runtime.Stack of every goroutine, the caller's first. The
// runtime stops the world for it, so it is one instant.
func allStacks() []byte {
	buf := make([]byte, 64<<10)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			return buf[:n]
		}
		buf = make([]byte, 2*len(buf))
	}
}

// restingIn reads a dump from allStacks.
func restingIn(dump []byte) (idle bool, why string) {
	gs := bytes.Split(bytes.TrimSpace(dump), []byte("\n\n"))
	for _, g := range gs[1:] { // gs[0] is the caller
		if why := goroutineBusy(g); why != "" {
			return false, why
		}
	}
	return true, ""
}

// goroutineBusy says why one goroutine of a dump is in flight, or "".
func goroutineBusy(g []byte) string {
	header, frames, _ := bytes.Cut(g, []byte("\n"))
	status, ok := goroutineStatus(string(header))
	switch {
	case !ok:
		return fmt.Sprintf("a goroutine header I cannot read: %q", header)
	case status == "IO wait" && bytes.Contains(frames, []byte("internal/poll.(*pollDesc).waitWrite")):
		return fmt.Sprintf("%s waits to write (a connect in progress, or a full send buffer): %s", header, where(frames))
	case status == "syscall" && bytes.Contains(frames, []byte("os/signal.signal_recv")):
		return "" // os/signal's loop: only a signal from outside wakes it
	case status == "syscall" && bytes.Contains(frames, []byte("runtime/pprof.profileWriter")):
		// The CPU profiler's writer (go test -cpuprofile) waits in the
		// runtime for samples the whole run: counted as work, it made
		// every wait run to its bound, and a 100 s test take 20 minutes.
		return ""
	case parked[status]:
		return ""
	}
	return fmt.Sprintf("%s %s", header, where(frames))
}

// goroutineStatus reads the state or wait reason out of a header:
//
//	goroutine 18 [IO wait, 2 minutes, locked to thread]:
//	goroutine 7 gp=0xc000007c00 m=nil [select (scan) labels:{"k": "v"}]:
func goroutineStatus(header string) (string, bool) {
	_, rest, ok := strings.Cut(header, " [")
	if !ok || !strings.HasPrefix(header, "goroutine ") {
		return "", false
	}
	if i := strings.IndexAny(rest, ",]"); i >= 0 {
		rest = rest[:i]
	} else {
		return "", false
	}
	rest, _, _ = strings.Cut(rest, " labels:{")
	for _, mark := range []string{" (durable)", " (scan)", " (leaked)"} { // printed in reverse
		rest = strings.TrimSuffix(rest, mark)
	}
	return rest, rest != ""
}

// where names, for a message, the function a goroutine is in and the one
// that started it.
func where(frames []byte) string {
	f, _, _ := bytes.Cut(frames, []byte("\n"))
	s := string(bytes.TrimSpace(f))
	if _, by, ok := bytes.Cut(frames, []byte("\ncreated by ")); ok {
		by, _, _ = bytes.Cut(by, []byte("\n"))
		s += " (created by " + string(by) + ")"
	}
	return s
}
