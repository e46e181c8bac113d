package bench

import (
	"flag"
	"fmt"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

var suiteRuns = flag.Int("suite-runs", 0,
	"TestSuiteWallTime: how many times to run each part of the scenario suite (0: skip)")

// suiteParts are the scenario suite's parts, timed apart: the specs on
// the reference client, the same specs on the buggy twins (whose proofs
// end once a wait finds the world idle, see internal/quiet), and the whole
// suite as `go tool ginkgo .` runs it.
var suiteParts = []struct{ name, filter string }{
	{"reference", "!twin"},
	{"twins", "twin"},
	{"all", ""},
}

// ginkgoRan is Ginkgo's summary line: "Ran 120 of 340 Specs in 12.3 seconds".
var ginkgoRan = regexp.MustCompile(`Ran (\d+) of (\d+) Specs in ([\d.]+) seconds`)

// TestSuiteWallTime times `go tool ginkgo .` at the repository root, the
// reference specs and the twins apart and then the whole suite, each
// -suite-runs times in turn (so the parts share the machine's moods), and
// prints each part's median wall time and Ginkgo's own time for its
// specs (without the build):
//
//	go test ./bench -run TestSuiteWallTime -v -timeout 60m -args -suite-runs=3
func TestSuiteWallTime(t *testing.T) {
	if *suiteRuns <= 0 {
		t.Skip("run with -args -suite-runs=N to time the scenario suite")
	}
	walls := make([][]float64, len(suiteParts))
	specsTimes := make([][]float64, len(suiteParts))
	counts := make([]string, len(suiteParts))
	for run := 1; run <= *suiteRuns; run++ {
		for i, part := range suiteParts {
			args := []string{"tool", "ginkgo", "--no-color"}
			if part.filter != "" {
				args = append(args, "--label-filter="+part.filter)
			}
			cmd := exec.Command("go", append(args, ".")...)
			cmd.Dir = ".."
			start := time.Now()
			out, err := cmd.CombinedOutput()
			wall := time.Since(start)
			if err != nil {
				t.Fatalf("%s: go %s: %v\n%s", part.name, strings.Join(cmd.Args[1:], " "), err, tail(out))
			}
			m := ginkgoRan.FindSubmatch(out)
			if m == nil {
				t.Fatalf("%s: no %q line in Ginkgo's output:\n%s", part.name, ginkgoRan, tail(out))
			}
			secs, _ := strconv.ParseFloat(string(m[3]), 64)
			walls[i] = append(walls[i], wall.Seconds())
			specsTimes[i] = append(specsTimes[i], secs)
			counts[i] = fmt.Sprintf("%s of %s specs", m[1], m[2])
			t.Logf("run %d %-9s wall %6.1f s, specs %6.1f s (%s)", run, part.name, wall.Seconds(), secs, counts[i])
		}
	}
	for i, part := range suiteParts {
		t.Logf("median %-9s wall %6.1f s, specs %6.1f s (%s, %d runs)", part.name,
			median(walls[i]), median(specsTimes[i]), counts[i], *suiteRuns)
	}
}

// tail is the end of a command's output, enough to see why it failed.
func tail(out []byte) string {
	const keep = 4000
	if len(out) > keep {
		out = out[len(out)-keep:]
	}
	return string(out)
}
