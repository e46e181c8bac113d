package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

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
	for _, want := range []string{"[1/9] backoff", "PASS", "SCENARIO", "9 of 9 scenarios passed"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	data, err := os.ReadFile(filepath.Join(dir, "report.json"))
	if err != nil {
		t.Fatal(err)
	}
	var run struct {
		Results []struct{ Scenario string }
	}
	if err := json.Unmarshal(data, &run); err != nil || len(run.Results) != 9 {
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
	if !strings.Contains(out, "FAIL") || !strings.Contains(out, "the open: not seen") {
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
