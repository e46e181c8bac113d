package scenarios

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	"github.com/onsi/ginkgo/v2/types"
	. "github.com/onsi/gomega"
)

// rewrite regenerates the expected outputs of scenario files from what the
// reference client and the fake server do: go test . -rewrite
var rewrite = flag.Bool("rewrite", false, "rewrite the expected output of scenario files")

// bugDir holds the bug library: one scenario file per real-world bug.
func bugDir() string {
	_, here, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(here), "testdata", "bugs")
}

// bugFiles lists the library; a file that does not parse is a failing spec
// of its own, with the error naming file and line.
func bugFiles() []string {
	files, err := filepath.Glob(filepath.Join(bugDir(), "*.txt"))
	if err != nil || len(files) == 0 {
		panic(fmt.Sprintf("scenarios: no scenario files in %s: %v", bugDir(), err))
	}
	return files
}

var _ = Describe("Bug library", Label("bug"), func() {
	for _, path := range bugFiles() {
		name := strings.TrimSuffix(filepath.Base(path), ".txt")
		s, err := loadScript(path)
		if err != nil {
			It(name, Label(name), func() { Fail(err.Error()) })
			continue
		}
		labels := Label(append([]string{name, s.header.profile}, s.header.labels...)...)
		Describe(name, labels, func() {
			It(s.header.bug, func(ctx SpecContext) {
				r := &scriptRun{s: s, ctx: ctx, rewrite: *rewrite, wait: scriptWait}
				got, err := r.play()
				if *rewrite && err == nil {
					Expect(os.WriteFile(path, []byte(s.rewritten(got)), 0o644)).To(Succeed())
					return
				}
				Expect(err).NotTo(HaveOccurred())
			}, SpecTimeout(2*specTimeout))

			for _, name := range s.header.twins {
				t := twinsByName[name]
				It("fails on a client that "+t.bug, Label("twin"), func(ctx SpecContext) {
					if *rewrite {
						Skip("rewriting: twins are checked against the rewritten file on the next run")
					}
					r := &scriptRun{s: s, ctx: ctx, wait: twinWait,
						opts: []worldOption{t.opt, func(c *worldConfig) { c.wait, c.twin = twinWait, true }}}
					_, err := r.play()
					Expect(err).To(HaveOccurred(), "%s passed on a client that %s: it does not catch its bug", path, t.bug)
					Expect(err.Error()).To(ContainSubstring(s.header.bug), "the failure must name the behaviour")
					AddReportEntry("how the twin fails", err.Error(), ReportEntryVisibilityFailureOrVerbose)
				}, SpecTimeout(2*specTimeout))
			}
		})
	}
})

// Reported once the suite is done: how much of the library ran and held.
var _ = ReportAfterSuite("bug library coverage", func(r Report) {
	shapes, proven := map[string]bool{}, map[string]bool{}
	for _, sr := range r.SpecReports {
		if !slices.Contains(sr.Labels(), "bug") || len(sr.ContainerHierarchyTexts) < 2 {
			continue
		}
		file := sr.ContainerHierarchyTexts[1]
		if slices.Contains(sr.Labels(), "twin") {
			proven[file] = proven[file] || sr.State.Is(types.SpecStatePassed)
		} else {
			shapes[file] = sr.State.Is(types.SpecStatePassed)
		}
	}
	covered := 0
	for file, passed := range shapes {
		if passed && proven[file] {
			covered++
		}
	}
	if len(shapes) > 0 {
		fmt.Printf("\nbug library: %d of %d bug shapes covered (passing on the reference client, failing on their twins)\n",
			covered, len(shapes))
	}
})

// expectsFail is a scenario file that expects a failed check.
const expectsFail = `# bug: a file that expects a failed check
# report: none
# profile: queue
# seed: 1
# twin: queue-lifo
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

var _ = Describe("Scenario files", Label("bug"), func() {
	for _, rewrite := range []bool{false, true} {
		It(fmt.Sprintf("fail on a failed check even when the file expects its FAIL line (rewrite %v)", rewrite), func(ctx SpecContext) {
			s, err := parseScript("expects-fail.txt", expectsFail)
			Expect(err).NotTo(HaveOccurred())
			r := &scriptRun{s: s, ctx: ctx, rewrite: rewrite, wait: scriptWait}
			_, err = r.play()
			Expect(err).To(MatchError(ContainSubstring("check dials 2: FAIL: dials: 1, want 2")),
				"a failed check must fail the run, and -rewrite must refuse to write it")
		}, SpecTimeout(specTimeout))
	}
})
