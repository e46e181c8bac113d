package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/wschaos/wschaos/conform"
)

// testAdapterEnv makes this test binary an adapter of the reference
// client, for tests that run wschaos conform as a process.
const testAdapterEnv = "WSCHAOS_TEST_ADAPTER"

func TestMain(m *testing.M) {
	if os.Getenv(testAdapterEnv) != "" {
		if err := conform.ServeAdapter(os.Stdin, os.Stdout, "reference via adapter", conform.Reference()); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func conformRun(t *testing.T, args ...string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var out bytes.Buffer
	err := conformCmd(ctx, args, &out)
	return out.String(), err
}

func exitCode(err error) int {
	var ee *exitError
	if errors.As(err, &ee) {
		return ee.code
	}
	if err != nil {
		return -1
	}
	return 0
}

func TestConformBadFlagsExitTwo(t *testing.T) {
	for _, args := range [][]string{
		{},                                   // neither --adapter nor --reference
		{"--reference", "--adapter", "x"},    // both
		{"--reference", "--profile", "nope"}, // unknown profile
		{"--adapter", "x", "--scale", "0"},   // no time at all
		{"--adapter", "x", "--late", "-1s"},  // negative tolerance
		{"--reference", "--only", "no-such"}, // unknown scenario
		{"--adapter", "node", "adapter.js"},  // unquoted command line
	} {
		_, err := conformRun(t, args...)
		if exitCode(err) != exitUsage {
			t.Errorf("%q: exit %d (%v), want %d", args, exitCode(err), err, exitUsage)
		}
	}
}

// The reference client passes, and the reports are written: JSON that
// reads back, JUnit and HTML.
func TestConformReferencePassesAndWritesReports(t *testing.T) {
	dir := t.TempDir()
	out, err := conformRun(t, "--reference", "--profile", "mattermost", "--report-dir", dir)
	if err != nil {
		t.Fatalf("exit %d: %v\n%s", exitCode(err), err, out)
	}
	// The scenarios share the cores, so progress lines come as each ends;
	// the summary is in the set's order.
	for _, want := range []string{"/15]  backoff", "PASS", "SCENARIO", "15 of 15 scenarios passed"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	// Every verdict stands in one column, [9/15] and [10/15] alike.
	column := -1
	for _, line := range strings.Split(out, "\n") {
		at := strings.Index(line, " PASS ")
		if !strings.HasPrefix(line, "[") || at < 0 {
			continue
		}
		if column >= 0 && at != column {
			t.Errorf("verdict at column %d, not %d as above: %q\n%s", at, column, line, out)
		}
		column = at
	}
	if column < 0 {
		t.Errorf("no progress line with a verdict:\n%s", out)
	}
	data, err := os.ReadFile(filepath.Join(dir, "report.json"))
	if err != nil {
		t.Fatal(err)
	}
	var run struct {
		Results []struct{ Scenario string }
	}
	if err := json.Unmarshal(data, &run); err != nil || len(run.Results) != 15 {
		t.Errorf("report.json: %v, %d results", err, len(run.Results))
	}
	for _, f := range []string{"junit.xml", "report.html"} {
		if st, err := os.Stat(filepath.Join(dir, f)); err != nil || st.Size() == 0 {
			t.Errorf("%s: %v", f, err)
		}
	}
}

// A shell adapter that answers every command and drives no client: the
// client never connects, so the scenario fails with exit code 1.
const idleAdapter = `echo '{"event":"ready","protocol":2,"client":"idle"}'
while read -r l; do id=$(echo "$l" | sed 's/.*"id":\([0-9]*\).*/\1/'); echo "{\"reply\":$id,\"ok\":true}"; done`

func TestConformFailingClientExitsOne(t *testing.T) {
	out, err := conformRun(t, "--adapter", idleAdapter, "--only", "close", "--scale", "0.05")
	if exitCode(err) != exitFailed {
		t.Fatalf("exit %d (%v), want %d\n%s", exitCode(err), err, exitFailed, out)
	}
	if !strings.Contains(out, "FAIL") || !strings.Contains(out, "`await state connected`: FAIL: 0 of 1 seen") {
		t.Errorf("the failure is not explained:\n%s", out)
	}
}

func TestConformBrokenAdapterExitsThree(t *testing.T) {
	out, err := conformRun(t, "--adapter", "echo not json; exit 0", "--only", "close")
	if exitCode(err) != exitAdapter {
		t.Fatalf("exit %d (%v), want %d\n%s", exitCode(err), err, exitAdapter, out)
	}
	if !strings.Contains(err.Error(), "not a JSON object") {
		t.Errorf("the adapter's fault is not named: %v", err)
	}
}

// --expect-fail keeps a client with a known bug green while that bug is
// the only failure, says so in every report, and fails the run the day
// the scenario passes or another one fails.
func TestConformExpectFail(t *testing.T) {
	dir := t.TempDir()
	out, err := conformRun(t, "--adapter", idleAdapter, "--only", "close", "--scale", "0.05",
		"--expect-fail", "close: never connects (a test stub)", "--report-dir", dir)
	if exitCode(err) != 0 {
		t.Fatalf("exit %d (%v) with the one failure expected, want 0\n%s", exitCode(err), err, out)
	}
	for _, want := range []string{"XFAIL", "expected to fail: never connects (a test stub)", "0 of 1 scenarios passed, 1 failed as expected"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	junit, _ := os.ReadFile(filepath.Join(dir, "junit.xml"))
	if !strings.Contains(string(junit), `skipped="1"`) || !strings.Contains(string(junit), `<skipped message="expected failure (never connects (a test stub))`) {
		t.Errorf("junit.xml does not mark the expected failure as skipped:\n%s", junit)
	}

	out, err = conformRun(t, "--reference", "--profile", "queue", "--only", "close", "--expect-fail", "close: believed broken")
	if exitCode(err) != exitFailed || !strings.Contains(out, "XPASS") || !strings.Contains(out, "the bug may be fixed") {
		t.Errorf("an expected failure that passed: exit %d (%v), want %d and XPASS\n%s", exitCode(err), err, exitFailed, out)
	}

	out, err = conformRun(t, "--adapter", idleAdapter, "--only", "close,heartbeat", "--scale", "0.05", "--expect-fail", "close: never connects")
	if exitCode(err) != exitFailed {
		t.Errorf("another scenario failed beside the expected one: exit %d (%v), want %d\n%s", exitCode(err), err, exitFailed, out)
	}

	for _, bad := range []string{"close", "close:", "no-such-scenario: why", "seq-gap: queue has no resume"} {
		if _, err := conformRun(t, "--reference", "--profile", "queue", "--expect-fail", bad); exitCode(err) != exitUsage {
			t.Errorf("--expect-fail %q: exit %d (%v), want %d", bad, exitCode(err), err, exitUsage)
		}
	}
}

// SIGTERM in the middle of a scenario (a CI job's timeout) never turns
// into a pass: exit 143, the scenario INTERRUPTED in junit.xml, the rest
// listed as not run, and the summary says so. SIGINT (Ctrl-C) exits 130.
func TestConformSIGTERMMidScenarioExits143(t *testing.T) {
	runMainIfAsked()
	for _, tc := range []struct {
		sig  syscall.Signal
		code int
	}{{syscall.SIGTERM, 143}, {syscall.SIGINT, 130}} {
		t.Run(signalName(tc.sig), func(t *testing.T) { conformInterrupted(t, tc.sig, tc.code) })
	}
}

func conformInterrupted(t *testing.T, sig syscall.Signal, code int) {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	args, _ := json.Marshal([]string{"conform", "--profile", "queue", "--scale", "1", "--report-dir", dir,
		"--adapter", fmt.Sprintf("%s=reference exec %q", testAdapterEnv, exe)})
	cmd := exec.Command(exe, "-test.run=^TestConformSIGTERMMidScenarioExits143$")
	cmd.Env = append(os.Environ(), mainArgsEnv+"="+string(args))
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var out strings.Builder // written by the copier until copied is closed
	started := make(chan struct{})
	copied := make(chan struct{})
	go func() {
		defer close(copied)
		buf, seen := make([]byte, 4096), false
		for {
			n, err := stdout.Read(buf) // the progress line ends only with its verdict
			out.Write(buf[:n])
			if !seen && strings.Contains(out.String(), "[1/") {
				close(started)
				seen = true
			}
			if err != nil {
				return
			}
		}
	}()
	select {
	case <-started:
	case <-time.After(20 * time.Second):
		cmd.Process.Kill()
		t.Fatal("the first scenario did not start")
	}
	time.Sleep(time.Second) // well inside the first scenario, at scale 1
	cmd.Process.Signal(sig)
	done := make(chan error, 1)
	go func() { <-copied; done <- cmd.Wait() }()
	select {
	case err = <-done:
	case <-time.After(30 * time.Second):
		cmd.Process.Kill()
		t.Fatalf("conform did not end within 30s of %s", signalName(sig))
	}
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != code {
		t.Errorf("exit: %v, want exit status %d\nstdout:\n%s\nstderr:\n%s", err, code, out.String(), stderr.String())
	}
	for _, want := range []string{"INTERRUPTED", "NOT RUN", "INTERRUPTED: 1 scenario cut short, 11 not run"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("stdout lacks %q:\n%s", want, out.String())
		}
	}
	if !strings.Contains(stderr.String(), "interrupted by "+signalName(sig)) {
		t.Errorf("stderr does not name the signal: %s", stderr.String())
	}
	junit, _ := os.ReadFile(filepath.Join(dir, "junit.xml"))
	for _, want := range []string{`type="interrupted"`, "was interrupted by " + signalName(sig) + " before it finished", `<skipped message="not run: the run was interrupted by ` + signalName(sig) + `">`} {
		if !strings.Contains(string(junit), want) {
			t.Errorf("junit.xml lacks %s:\n%s", want, junit)
		}
	}
}

// The reference client's scenarios run in virtual time, so by default
// they share the cores; an adapter's stay one at a time, and --jobs wins
// over either default.
func TestConformJobsDefault(t *testing.T) {
	cores := min(runtime.NumCPU(), maxReferenceJobs)
	for _, tc := range []struct {
		args []string
		want int
	}{
		{[]string{"--reference"}, cores},
		{[]string{"--reference", "--jobs", "1"}, 1},
		{[]string{"--adapter", "node a.js"}, 1},
		{[]string{"--adapter", "node a.js", "--jobs", "2"}, 2},
	} {
		f := newCheckFlags("conform", "")
		if err := f.fs.Parse(tc.args); err != nil {
			t.Fatal(err)
		}
		if err := f.validate(); err != nil || *f.jobs != tc.want {
			t.Errorf("%q: --jobs %d, %v; want %d", tc.args, *f.jobs, err, tc.want)
		}
	}
}
