package conform

import (
	"bytes"
	"fmt"
	"os"
	"strconv"
	"testing"

	"github.com/wschaos/wschaos/profile"
)

// Nothing the adapter started outlives its scenario: not a child whose
// stdout is not the adapter's (which would not hold the scenario open),
// nor one that left the adapter's session and process group with setsid.
// Each is killed, and reaped: no zombie is left either.
func TestAdapterDescendantsDoNotSurvive(t *testing.T) {
	a := testAdapter(t, "reference")
	// Durations no other process uses (this test's pid in the fraction), so
	// a run of the tests beside this one cannot pass for its leftovers.
	detached, setsid := fmt.Sprintf("3141.%d", os.Getpid()), fmt.Sprintf("3142.%d", os.Getpid())
	a.Command = "sleep " + detached + " >/dev/null 2>&1 & setsid sleep " + setsid + " >/dev/null 2>&1 & " + a.Command
	rs, err := Run(ctx(t), realConfig(profile.QueueProfile(), "close"), a.Factory())
	if err != nil {
		t.Fatal(err)
	}
	if !rs[0].Passed {
		t.Fatalf("the scenario failed: %s", rs[0].Reason)
	}
	for _, p := range leftovers(t, detached, setsid) {
		t.Error(p)
	}
}

// leftovers lists the live processes whose command line holds one of
// args, and this process's zombie children.
func leftovers(t *testing.T, args ...string) []string {
	t.Helper()
	dir, err := os.ReadDir("/proc")
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range dir {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		cmdline, _ := os.ReadFile("/proc/" + e.Name() + "/cmdline")
		for _, a := range args {
			if bytes.Contains(cmdline, []byte("\x00"+a+"\x00")) {
				out = append(out, fmt.Sprintf("still running: pid %d: %s", pid, bytes.ReplaceAll(cmdline, []byte{0}, []byte{' '})))
			}
		}
		if ppid, state, ok := procStat(pid); ok && ppid == os.Getpid() && state == 'Z' {
			out = append(out, fmt.Sprintf("a zombie child: pid %d", pid))
		}
	}
	return out
}
