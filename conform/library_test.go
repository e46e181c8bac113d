package conform

import (
	"flag"
	"fmt"
	"path/filepath"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
)

// rewrite regenerates the expected outputs of the library's files from
// what the reference client and the fake server do:
// go test ./conform -run TestLibrary -rewrite
var rewrite = flag.Bool("rewrite", false, "rewrite the expected output of the scenario library's files")

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

// Every file of the library passes on the reference client, its output
// exactly as the file gives it, and fails on each twin it names, by its
// checks alone: a check that catches a twin catches the same bug in any
// client, behind an adapter too, where no output is compared.
func TestLibrary(t *testing.T) {
	var shapes, covered atomic.Int32
	t.Cleanup(func() {
		if !*rewrite {
			t.Logf("scenario library: %d of %d bug shapes covered (passing on the reference client, failing on their twins)",
				covered.Load(), shapes.Load())
		}
	})
	for _, path := range bugFiles() {
		s, err := LoadFile(path)
		if err != nil {
			t.Error(err)
			continue
		}
		shapes.Add(1)
		t.Run(s.Name(), func(t *testing.T) {
			t.Parallel()
			r := playFile(t, s, Reference(), true, *rewrite)
			if *rewrite {
				if err := s.WriteOutputs(r); err != nil {
					t.Fatal(err)
				}
				return
			}
			if !r.Passed {
				t.Fatalf("the reference client fails %s:\n%s", s.Name(), strings.Join(r.Failures, "\n"))
			}
			ok := true
			for _, name := range s.header.twins {
				tw := twins[name]
				r := playFile(t, s, tw.Make, false, false)
				switch {
				case r.Passed:
					ok = false
					t.Errorf("%s passed on a client that %s: its checks do not catch its bug\n%s", s.Name(), tw.Bug, steps(r))
				case !strings.Contains(strings.Join(r.Failures, "\n"), s.header.bug):
					ok = false
					t.Errorf("%s failed on a client that %s, without naming the behaviour:\n%s", s.Name(), tw.Bug, strings.Join(r.Failures, "\n"))
				}
			}
			if ok {
				covered.Add(1)
			}
		})
	}
}

func steps(r Result) string {
	var b strings.Builder
	for _, st := range r.Steps {
		fmt.Fprintf(&b, "%d: %s\n", st.Line, st.Command)
		for _, l := range st.Got {
			fmt.Fprintf(&b, "    %s\n", l)
		}
	}
	return b.String()
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
