package quiet

import (
	"strings"
	"testing"
	"time"
)

// script is an observer that answers from a list, and counts its calls.
type script struct {
	answers []bool
	calls   int
}

func (s *script) observe([]int) (bool, string) {
	idle := s.answers[min(s.calls, len(s.answers)-1)]
	s.calls++
	if idle {
		return true, ""
	}
	return false, "busy by script"
}

func detectorWith(observe func([]int) (bool, string), gap time.Duration) *Detector {
	d := NewDetector()
	d.observe, d.gap, d.last = observe, gap, time.Time{} // observe at once
	return d
}

// Idle needs need consecutive idle observations; a busy one starts over.
func TestDetectorNeedsConsecutiveIdleObservations(t *testing.T) {
	s := &script{answers: []bool{true, true, false, true, true, true}}
	d := detectorWith(s.observe, 0)
	var got []bool
	for range 6 {
		got = append(got, d.Idle("same"))
	}
	want := []bool{false, false, false, false, false, true}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("Idle over observations %v = %v, want %v", s.answers, got, want)
		}
	}
	if d.Why() != "" {
		t.Errorf("Why after an idle verdict = %q, want empty", d.Why())
	}
}

// A change in the caller's progress starts the count over, even when
// every observation is idle.
func TestDetectorRestartsOnProgress(t *testing.T) {
	s := &script{answers: []bool{true}}
	d := detectorWith(s.observe, 0)
	for i := range 10 {
		if d.Idle(string(rune('a' + i))) {
			t.Fatalf("idle for good after %d observations, each with new progress", i+1)
		}
	}
	d.Idle("j")
	if !d.Idle("j") {
		t.Errorf("not idle after %d observations with the same progress", need)
	}
}

// Observations are at least a gap apart: calls in between do not observe.
func TestDetectorSpacesObservations(t *testing.T) {
	s := &script{answers: []bool{true}}
	d := detectorWith(s.observe, time.Hour)
	for range 5 {
		if d.Idle("same") {
			t.Fatal("idle for good after one observation")
		}
	}
	if s.calls != 1 {
		t.Errorf("%d observations within one gap, want 1", s.calls)
	}
	// A new Detector observes first a gap after it is made.
	s = &script{answers: []bool{true}}
	d = NewDetector()
	d.observe, d.gap = s.observe, time.Hour
	d.Idle("same")
	if s.calls != 0 {
		t.Errorf("a new Detector observed %d times within its first gap, want 0", s.calls)
	}
}

// Where nothing can be observed, a world is never idle: waits run to
// their bound.
func TestFallbackNeverSaysIdle(t *testing.T) {
	d := detectorWith(unsupported, 0)
	for range 3 * need {
		if d.Idle("same") {
			t.Fatal("the fallback said idle")
		}
	}
	if !strings.Contains(d.Why(), "cannot observe") {
		t.Errorf("Why = %q, want it to say it cannot observe", d.Why())
	}
}

// The status of a goroutine is read out of every header shape the
// runtime prints, and only parked ones are at rest.
func TestGoroutineStatus(t *testing.T) {
	for _, tc := range []struct {
		header string
		status string
		rest   bool
	}{
		{"goroutine 1 [running]:", "running", false},
		{"goroutine 7 [runnable]:", "runnable", false},
		{"goroutine 9 [syscall, 3 minutes]:", "syscall", false},
		{"goroutine 9 [sleep]:", "sleep", false},
		{"goroutine 9 [preempted]:", "preempted", false},
		{"goroutine 9 [GC assist wait]:", "GC assist wait", false},
		{"goroutine 18 [IO wait, 2 minutes, locked to thread]:", "IO wait", true},
		{"goroutine 18 [select (no cases)]:", "select (no cases)", true},
		{"goroutine 18 [chan receive (nil chan), 12 minutes]:", "chan receive (nil chan)", true},
		{"goroutine 5 gp=0xc000007c00 m=nil [sync.Cond.Wait (scan)]:", "sync.Cond.Wait", true},
		{`goroutine 5 [select labels:{"a": "b, c]"}]:`, "select", true},
		{"goroutine 5 [chan receive (leaked) (durable), synctest bubble 3]:", "chan receive", true},
		{"goroutine 5 [select (durable)]:", "select", true},
	} {
		got, ok := goroutineStatus(tc.header)
		if !ok || got != tc.status {
			t.Errorf("goroutineStatus(%q) = %q, %v; want %q", tc.header, got, ok, tc.status)
		}
		if rest := goroutineBusy([]byte(tc.header+"\nmain.f()\n")) == ""; rest != tc.rest {
			t.Errorf("%q at rest = %v, want %v", tc.header, rest, tc.rest)
		}
	}
	for _, bad := range []string{"", "goroutine 1", "goroutine 1 [", "created by main"} {
		if _, ok := goroutineStatus(bad); ok {
			t.Errorf("goroutineStatus(%q) read a status out of it", bad)
		}
		if goroutineBusy([]byte(bad)) == "" {
			t.Errorf("an unreadable header %q counts as at rest", bad)
		}
	}
}

// A goroutine parked in a read is at rest; one parked in a write, or in a
// system call other than os/signal's, is not.
func TestGoroutineFrames(t *testing.T) {
	for _, tc := range []struct {
		g    string
		rest bool
	}{
		{"goroutine 3 [IO wait]:\ninternal/poll.runtime_pollWait(0x7f, 0x72)\ninternal/poll.(*pollDesc).waitRead(...)\n", true},
		{"goroutine 3 [IO wait]:\ninternal/poll.runtime_pollWait(0x7f, 0x77)\ninternal/poll.(*pollDesc).waitWrite(...)\nnet.(*netFD).connect(...)\n", false},
		{"goroutine 4 [syscall]:\nos/signal.signal_recv()\nos/signal.loop()\n", true},
		{"goroutine 4 [syscall]:\nsyscall.Syscall(0x0, 0x3)\nos.(*File).Read(...)\n", false},
		{"goroutine 8 [syscall, 10 minutes]:\nruntime.notetsleepg(0x2b2c, 0xffffffffffffffff)\nruntime.(*profBuf).read(0x2b2c, 0x0)\nruntime/pprof.readProfile()\nruntime/pprof.profileWriter({0x90b5, 0x2b2c})\ncreated by runtime/pprof.StartCPUProfile in goroutine 1\n", true},
	} {
		if rest := goroutineBusy([]byte(tc.g)) == ""; rest != tc.rest {
			t.Errorf("at rest = %v, want %v:\n%s", rest, tc.rest, tc.g)
		}
	}
	// The first goroutine of a dump is the caller's, running by definition.
	dump := "goroutine 1 [running]:\nmain.main()\n\ngoroutine 2 [select]:\nmain.f()\n"
	if idle, why := restingIn([]byte(dump)); !idle {
		t.Errorf("a dump of the running caller and a parked goroutine is busy: %s", why)
	}
	if idle, _ := restingIn([]byte(dump + "\ngoroutine 3 [runnable]:\nmain.g()\n")); idle {
		t.Error("a dump with a runnable goroutine is idle")
	}
}

func TestPortOf(t *testing.T) {
	if p, err := PortOf("ws://127.0.0.1:8080/ws?x=1"); err != nil || p != 8080 {
		t.Errorf("PortOf of a server URL = %d, %v; want 8080", p, err)
	}
	for _, bad := range []string{"ws://127.0.0.1/ws", "ws://[::1", ""} {
		if p, err := PortOf(bad); err == nil {
			t.Errorf("PortOf(%q) = %d, want an error naming the URL", bad, p)
		}
	}
}

// One observation serves every Detector that may take it: one begun no
// earlier than it asks for. A later one it does not.
func TestObservationsAreShared(t *testing.T) {
	asked := time.Now()
	_, first := observeShared(asked)
	if _, again := observeShared(asked); !again.Equal(first) {
		t.Errorf("a second observation was made for a caller the first one served")
	}
	if _, later := observeShared(first.Add(time.Nanosecond)); !later.After(first) {
		t.Errorf("an observation ended at %v served a caller that wanted one begun after %v", later, first)
	}
}
