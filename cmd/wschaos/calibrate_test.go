package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wschaos/wschaos/conform/report"
)

// An adapter without calibrate runs on the fixed defaults, and the
// summary and the JSON report say they are a fallback; --late given on
// the command line wins, and says so.
func TestConformCalibrateFallbackIsSaid(t *testing.T) {
	dir := t.TempDir()
	adapter := referenceAdapter(t)
	out, err := conformRun(t, "--profile", "queue", "--scale", "0.05", "--only", "close", "--adapter", adapter, "--report-dir", dir)
	if err != nil {
		t.Fatalf("exit %d: %v\n%s", exitCode(err), err, out)
	}
	if want := "tolerance: -50ms/+500ms+50% (the fixed defaults, a fallback): the adapter offers no calibrate command"; !strings.Contains(out, want) {
		t.Errorf("the output does not say %q:\n%s", want, out)
	}
	f, err := os.Open(filepath.Join(dir, "report.json"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	run, err := report.ReadJSON(f)
	if err != nil {
		t.Fatal(err)
	}
	if run.Timing == nil || run.Timing.Source != "defaults" || !strings.Contains(run.Timing.Note, "no calibrate") {
		t.Errorf("report.json timing: %+v", run.Timing)
	}
	html, err := os.ReadFile(filepath.Join(dir, "report.html"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(html), "the fixed defaults, a fallback") {
		t.Errorf("report.html does not say the tolerance is the fallback")
	}
	out, err = conformRun(t, "--profile", "queue", "--scale", "0.05", "--only", "close", "--adapter", adapter, "--late", "300ms")
	if err != nil {
		t.Fatalf("exit %d: %v\n%s", exitCode(err), err, out)
	}
	if want := "tolerance: -50ms/+300ms+50% (from the command line)"; !strings.Contains(out, want) {
		t.Errorf("the output does not say %q:\n%s", want, out)
	}
}

// --herd takes 2 to conform.MaxHerd adapter processes, and an adapter.
func TestConformHerdFlag(t *testing.T) {
	for _, args := range [][]string{
		{"--adapter", "x", "--herd", "1"},
		{"--adapter", "x", "--herd", "1000"},
		{"--reference", "--herd", "5"},
	} {
		if _, err := conformRun(t, args...); exitCode(err) != exitUsage {
			t.Errorf("%q: exit %d (%v), want %d", args, exitCode(err), err, exitUsage)
		}
	}
	out, err := conformRun(t, "--profile", "queue", "--scale", "0.05", "--only", "close", "--herd", "2", "--adapter", referenceAdapter(t))
	if err != nil || !strings.Contains(out, "[2/2] herd") || !strings.Contains(out, "SKIP  the profile has no jitter") {
		t.Errorf("exit %d (%v), want the herd skipped for a profile without jitter:\n%s", exitCode(err), err, out)
	}
}
