package conform

import (
	"bytes"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// sweepPatience bounds the sweep of what an adapter left running: every
// process it kills is gone within a scheduler tick or two.
const sweepPatience = 2 * time.Second

var subreaper sync.Once

// becomeSubreaper makes this process the child subreaper of what it
// starts: a descendant of an adapter orphaned by its parent's exit (a
// `cmd &` in the adapter's script) is re-parented here, not to init, so
// the sweep can reap it once killed.
func becomeSubreaper() {
	subreaper.Do(func() { unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) })
}

// sweep kills every process that carries marker in its environment (each
// descendant of one adapter, in its process group or not, setsid or not,
// whatever it did with its stdout) and reaps those re-parented here,
// until none is left or sweepPatience is up. A descendant that cleared
// its environment escapes it; the process group kill still reaches it
// unless it left the group too.
func sweep(marker string) {
	me := os.Getpid()
	killed := map[int]bool{} // killed, not yet known to be gone
	for deadline := time.Now().Add(sweepPatience); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		for _, pid := range marked(marker, me) {
			unix.Kill(pid, unix.SIGKILL)
			killed[pid] = true
		}
		for pid := range killed {
			ppid, state, ok := procStat(pid)
			switch {
			case !ok: // gone: reaped by its parent, or by init
				delete(killed, pid)
			case ppid == me && state == 'Z':
				var ws unix.WaitStatus
				if got, _ := unix.Wait4(pid, &ws, unix.WNOHANG, nil); got == pid {
					delete(killed, pid)
				}
			}
		}
		if len(killed) == 0 && len(marked(marker, me)) == 0 {
			return
		}
	}
}

// marked lists the live processes, other than me, whose environment holds
// marker (a zombie's reads empty).
func marked(marker string, me int) []int {
	dir, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	want := []byte(marker + "\x00")
	var out []int
	for _, e := range dir {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == me {
			continue
		}
		env, err := os.ReadFile("/proc/" + e.Name() + "/environ")
		if err != nil {
			continue
		}
		if bytes.HasPrefix(env, want) || bytes.Contains(env, append([]byte{0}, want...)) {
			out = append(out, pid)
		}
	}
	return out
}

// procStat reads a process's parent and state from /proc; ok is false once
// it is gone.
func procStat(pid int) (ppid int, state byte, ok bool) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, 0, false
	}
	// pid (comm) state ppid ...: comm may hold spaces and parentheses.
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	f := strings.Fields(s[i+1:])
	if i < 0 || len(f) < 2 {
		return 0, 0, false
	}
	ppid, _ = strconv.Atoi(f[1])
	return ppid, f[0][0], true
}
