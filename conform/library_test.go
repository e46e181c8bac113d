package conform

import (
	"fmt"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// libraryDir holds the scenario library: one file per real-world bug.
func libraryDir() string {
	_, here, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(here), "..", "scenarios", "library")
}

// bugFiles lists the library.
func bugFiles() []string {
	files, err := filepath.Glob(filepath.Join(libraryDir(), "*.txt"))
	if err != nil || len(files) == 0 {
		panic(fmt.Sprintf("conform: no scenario files in %s: %v", libraryDir(), err))
	}
	return files
}

// playFile runs one file on one subject, in virtual time.
func playFile(t *testing.T, s *File, f Factory, exact, rewrite bool) Result {
	t.Helper()
	cfg := Config{Virtual: true, Exact: exact, Rewrite: rewrite, Scenarios: []Scenario{s.Scenario()}}
	rs, err := Run(ctx(t), cfg, f)
	if err != nil {
		t.Fatal(err)
	}
	return rs[0]
}

// expectsFail is a scenario file that expects a failed check.
const expectsFail = `# bug: a file that expects a failed check
# profile: queue
# seed: 1
#
# The client dials once here, so "check dials 2" fails.

start
----
+0s        #1 dial /ws
+0s        #1 open
+0s        client connecting
+0s        client connected

check dials 2
----
+0s        client check dials 2: FAIL: dials: 1, want 2
`

// A failed check fails the run even when the file expects its FAIL line,
// and -rewrite refuses to write it.
func TestFileExpectingAFailedCheckFails(t *testing.T) {
	s, err := ParseFile("expects-fail.txt", expectsFail)
	if err != nil {
		t.Fatal(err)
	}
	for _, rw := range []bool{false, true} {
		r := playFile(t, s, Reference(), true, rw)
		if r.Passed || !strings.Contains(strings.Join(r.Failures, "\n"), "check dials 2`: FAIL: dials: 1, want 2") {
			t.Errorf("rewrite %v: passed %v, failures %q; want the failed check to fail the run", rw, r.Passed, r.Failures)
		}
	}
}
