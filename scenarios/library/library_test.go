package library_test

import (
	"context"
	"flag"
	"fmt"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wschaos/wschaos/conform"
	"github.com/wschaos/wschaos/profile"
)

// rewrite regenerates the expected outputs of the library's files from
// what the reference client and the fake server do:
// go test ./scenarios/library -rewrite (make rewrite)
var rewrite = flag.Bool("rewrite", false, "rewrite the expected output of the scenario library's files")

func bugFiles(t *testing.T) []string {
	files, err := filepath.Glob("*.txt")
	if err != nil || len(files) == 0 {
		t.Fatalf("no scenario files here: %v", err)
	}
	return files
}

// playFile runs one file on one subject under profile p (nil: the file's
// own), in virtual time.
func playFile(t *testing.T, s *conform.File, p *profile.Profile, f conform.Factory, exact, rewrite bool) conform.Result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cfg := conform.Config{Profile: p, Virtual: true, Exact: exact, Rewrite: rewrite, Scenarios: []conform.Scenario{s.Scenario()}}
	rs, err := conform.Run(ctx, cfg, f)
	if err != nil {
		t.Fatal(err)
	}
	return rs[0]
}

func steps(r conform.Result) string {
	var b strings.Builder
	for _, st := range r.Steps {
		fmt.Fprintf(&b, "%d: %s\n", st.Line, st.Command)
		for _, l := range st.Got {
			fmt.Fprintf(&b, "    %s\n", l)
		}
	}
	return b.String()
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
	for _, path := range bugFiles(t) {
		s, err := conform.LoadFile(path)
		if err != nil {
			t.Error(err)
			continue
		}
		shapes.Add(1)
		t.Run(s.Name(), func(t *testing.T) {
			t.Parallel()
			// A file for every profile is played under each shipped profile
			// it applies to, its output the same under all; -rewrite takes
			// it from the first.
			ps := s.Profiles()
			if len(ps) == 0 {
				t.Fatalf("%s applies to no shipped profile", s.Name())
			}
			if *rewrite {
				if err := s.WriteOutputs(playFile(t, s, ps[0], conform.Reference(), true, true)); err != nil {
					t.Fatal(err)
				}
				return
			}
			ok := true
			for _, p := range ps {
				if r := playFile(t, s, p, conform.Reference(), true, false); !r.Passed {
					ok = false
					t.Errorf("the reference client fails %s under profile %s:\n%s", s.Name(), p.Name, strings.Join(r.Failures, "\n"))
				}
			}
			if !ok {
				return
			}
			for _, pr := range s.Proofs() {
				r := playFile(t, s, pr.Profile, pr.Twin.Make, false, false)
				switch {
				case r.Passed:
					ok = false
					t.Errorf("%s passed under profile %s on a client that %s: its checks do not catch its bug\n%s", s.Name(), pr.Profile.Name, pr.Twin.Bug, steps(r))
				case !strings.Contains(strings.Join(r.Failures, "\n"), s.Bug()):
					ok = false
					t.Errorf("%s failed under profile %s on a client that %s, without naming the behaviour:\n%s", s.Name(), pr.Profile.Name, pr.Twin.Bug, strings.Join(r.Failures, "\n"))
				}
			}
			if ok {
				covered.Add(1)
			}
		})
	}
}

// The examples' own files (a real client's schedule written as a file)
// replay exactly on the reference client too, so a change to the harness's
// output reaches them with the library's: -rewrite regenerates them.
func TestExampleFiles(t *testing.T) {
	files, err := filepath.Glob("../../examples/*/scenarios/*.txt")
	if err != nil || len(files) == 0 {
		t.Fatalf("no example scenario files: %v", err)
	}
	for _, path := range files {
		s, err := conform.LoadFile(path)
		if err != nil {
			t.Error(err)
			continue
		}
		t.Run(path, func(t *testing.T) {
			t.Parallel()
			r := playFile(t, s, s.Profile(), conform.Reference(), true, *rewrite)
			if *rewrite {
				if err := s.WriteOutputs(r); err != nil {
					t.Fatal(err)
				}
				return
			}
			if r.Outcome() != "PASS" {
				t.Errorf("%s fails on the reference client: %s\n%s", path, strings.Join(r.Failures, "; "), steps(r))
			}
		})
	}
}
