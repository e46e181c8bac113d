package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// lib is the scenario library, from this package's directory.
func lib(name string) string { return filepath.Join("..", "..", "scenarios", "library", name) }

func runRunCmd(t *testing.T, args ...string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var out bytes.Buffer
	err := runCmd(ctx, args, &out)
	return out.String(), err
}

// referenceAdapter is the command line of this test binary as an adapter
// of the reference client.
func referenceAdapter(t *testing.T) string {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("%s=reference exec %q", testAdapterEnv, exe)
}

// The reference client plays a library file exactly as the file says.
func TestRunReferenceExact(t *testing.T) {
	out, err := runRunCmd(t, lib("close-while-waiting.txt"), "--reference", "--exact")
	if err != nil || !strings.Contains(out, "close-while-waiting") || !strings.Contains(out, "PASS") {
		t.Fatalf("exit %d (%v)\n%s", exitCode(err), err, out)
	}
}

// Flags may follow the files, as a user writes "run bug.txt --adapter
// CMD"; the file plays through an adapter on the real clock, its checks
// the verdict.
func TestRunThroughAnAdapterWithFlagsAfterTheFile(t *testing.T) {
	adapter := referenceAdapter(t)
	out, err := runRunCmd(t, lib("queue-order.txt"), "--adapter", adapter, "--profile", "queue", "--scale", "0.1")
	if err != nil || !strings.Contains(out, "queue-order") || !strings.Contains(out, "1 of 1 scenarios passed") {
		t.Fatalf("exit %d (%v)\n%s", exitCode(err), err, out)
	}
}

// A client that does nothing fails the file's checks: exit 1, the file
// and the line of the failed check named.
func TestRunFailingClientExitsOneNamingTheLine(t *testing.T) {
	// Answers every command (its numeric "id"; a payload's ids are
	// strings) and drives no client.
	idle := `echo '{"event":"ready","protocol":2,"client":"idle"}'
while read -r l; do id=$(echo "$l" | grep -o '"id":[0-9][0-9]*' | head -n 1 | cut -d: -f2); echo "{\"reply\":$id,\"ok\":true}"; done`
	out, err := runRunCmd(t, "--adapter", idle, "--profile", "queue", "--scale", "0.05", lib("queue-order.txt"))
	if exitCode(err) != exitFailed {
		t.Fatalf("exit %d (%v), want %d\n%s", exitCode(err), err, exitFailed, out)
	}
	if !strings.Contains(out, "queue-order.txt:") || !strings.Contains(out, "the scenario checks: sends made while disconnected are flushed out of order") {
		t.Errorf("the failure does not name the file, its line and its bug:\n%s", out)
	}
}

// A file for another profile is skipped with the reason; a run in which
// nothing ran does not pass.
func TestRunSkipsWithTheReason(t *testing.T) {
	out, err := runRunCmd(t, "--reference", "--profile", "queue", lib("close-while-waiting.txt"), lib("close-while-connecting.txt"))
	if err != nil {
		t.Fatalf("exit %d (%v)\n%s", exitCode(err), err, out)
	}
	if !strings.Contains(out, "SKIP  written for profile mattermost; this run's is queue") || !strings.Contains(out, "1 of 1 scenarios passed, 1 skipped") {
		t.Errorf("the skip and its reason are not shown:\n%s", out)
	}
	out, err = runRunCmd(t, "--reference", "--profile", "queue", lib("close-while-waiting.txt"))
	if exitCode(err) != exitUsage || !strings.Contains(err.Error(), "nothing ran") {
		t.Errorf("a run that skipped everything: exit %d (%v), want %d saying nothing ran\n%s", exitCode(err), err, exitUsage, out)
	}
}

// A broken adapter is reported once: the run stops at the first file.
func TestRunBrokenAdapterReportedOnce(t *testing.T) {
	out, err := runRunCmd(t, "--adapter", "echo not json; exit 0", "--profile", "queue", lib("close-while-connecting.txt"), lib("queue-bound.txt"), lib("queue-order.txt"))
	if exitCode(err) != exitAdapter {
		t.Fatalf("exit %d (%v), want %d\n%s", exitCode(err), err, exitAdapter, out)
	}
	if n := strings.Count(out, "comes before the ready event"); n != 2 { // the progress line and the summary's reason
		t.Errorf("the adapter's fault is told %d times, want once in progress and once in the summary:\n%s", n, out)
	}
	if strings.Count(out, "NOT RUN") < 2 || strings.Contains(out, "INTERRUPTED") {
		t.Errorf("the files after the first are not marked NOT RUN (and only that):\n%s", out)
	}
}

func TestRunBadCommandLinesExitTwo(t *testing.T) {
	bad := filepath.Join(t.TempDir(), "bad.txt")
	os.WriteFile(bad, []byte("# bug: b\n# profile: queue\n\nteleport\n----\n"), 0o600)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--reference"}, "name at least one scenario file"},
		{[]string{lib("close-while-connecting.txt")}, "want exactly one of --adapter CMD and --reference"},
		{[]string{lib("close-while-connecting.txt"), "--adapter", "x", "--exact"}, "--exact and --rewrite take the reference client's output in virtual time"},
		{[]string{bad, "--reference"}, "bad.txt:4: unknown command \"teleport\""},
		{[]string{lib("nope.txt"), "--reference"}, "scenario " + lib("nope.txt") + ": no such file or directory"},
		{[]string{lib("close-while-connecting.txt"), "--reference", "--expect-fail", "close: x"}, "--expect-fail close: no such file among close-while-connecting"},
		{[]string{lib("close-while-connecting.txt"), "--reference", "--jobs", "0"}, "--jobs 0"},
	} {
		out, err := runRunCmd(t, tc.args...)
		if exitCode(err) != exitUsage || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("run %q: exit %d (%v), want %d with %q\n%s", tc.args, exitCode(err), err, exitUsage, tc.want, out)
		}
	}
}

// "reconnect" is an optional command: an adapter that offers it in its
// ready line plays a file that uses it; one that does not is skipped with
// the reason, never failed.
func TestRunReconnectIsOptional(t *testing.T) {
	adapter := referenceAdapter(t)
	out, err := runRunCmd(t, lib("rapid-reconnect-one-socket.txt"), "--adapter", adapter, "--scale", "0.1")
	if err != nil || !strings.Contains(out, "1 of 1 scenarios passed") {
		t.Fatalf("through an adapter offering reconnect: exit %d (%v)\n%s", exitCode(err), err, out)
	}
	out, err = runRunCmd(t, lib("rapid-reconnect-one-socket.txt"), lib("close-while-waiting.txt"), "--adapter", idleAdapter, "--scale", "0.05")
	if !strings.Contains(out, `SKIP  the client offers no reconnect (not supported: the adapter's ready line does not offer "reconnect")`) {
		t.Errorf("through an adapter without reconnect: exit %d (%v), want a skip saying why\n%s", exitCode(err), err, out)
	}
}

// A team fills in its own file's outputs from the reference client; a file
// with none is refused on the real clock, saying how to fill it in; a
// library file runs by its name alone.
func TestRunRewriteFillsInAFileAndEmptyOutputIsRefused(t *testing.T) {
	dir := t.TempDir()
	mine := filepath.Join(dir, "mine.txt")
	os.WriteFile(mine, []byte("# bug: close while waiting to retry still reconnects\n# profile: queue\n\nfault refuse 503\n----\n\nstart\n----\n\nclose\n----\n\nstep\n----\n\ncheck dials 1\n----\n"), 0o600)

	out, err := runRunCmd(t, mine, "--adapter", idleAdapter)
	if exitCode(err) != exitFailed || !strings.Contains(out, "gives no expected output") || !strings.Contains(out, "--reference --rewrite") {
		t.Errorf("an empty file through an adapter: exit %d (%v)\n%s", exitCode(err), err, out)
	}
	if out, err = runRunCmd(t, mine, "--reference", "--rewrite"); err != nil {
		t.Fatalf("rewrite: exit %d (%v)\n%s", exitCode(err), err, out)
	}
	b, _ := os.ReadFile(mine)
	if !strings.Contains(string(b), "client check dials 1: ok") || !strings.Contains(string(b), "#1 refuse 503") {
		t.Fatalf("the file was not filled in:\n%s", b)
	}
	if out, err = runRunCmd(t, mine, "--reference", "--exact"); err != nil {
		t.Errorf("the rewritten file does not replay exactly: exit %d (%v)\n%s", exitCode(err), err, out)
	}

	// A check that fails is never written.
	os.WriteFile(mine, []byte("# bug: b\n# profile: queue\n\nstart\n----\n\ncheck dials 2\n----\n"), 0o600)
	out, err = runRunCmd(t, mine, "--reference", "--rewrite")
	if b2, _ := os.ReadFile(mine); exitCode(err) != exitFailed || strings.Contains(string(b2), "FAIL") {
		t.Errorf("rewriting a failed check: exit %d (%v), file:\n%s\n%s", exitCode(err), err, b2, out)
	}

	if out, err := runRunCmd(t, "close-while-waiting", "--reference"); err != nil || !strings.Contains(out, "1 of 1 scenarios passed") {
		t.Errorf("a library file by name: exit %d (%v)\n%s", exitCode(err), err, out)
	}
}

// A file skipped before it connects is a skip, not a failure to close a
// client that never started.
func TestRunVirtualOnlyFileSkipsThroughAnAdapter(t *testing.T) {
	out, err := runRunCmd(t, "late-pong-boundary", "close-while-waiting", "--adapter", idleAdapter, "--scale", "0.05")
	if !strings.Contains(out, "SKIP  its timing holds only on a virtual clock (# clock: virtual)") || strings.Contains(out, "closing the client") {
		t.Errorf("exit %d (%v)\n%s", exitCode(err), err, out)
	}
}

// conform --scenarios adds a team's files to the conformance run, and
// refuses one named like a scenario already in it.
func TestConformScenariosAddsATeamsFiles(t *testing.T) {
	dir := t.TempDir()
	b, err := os.ReadFile(lib("close-while-connecting.txt"))
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "our-close.txt"), b, 0o600)
	out, err := conformRun(t, "--reference", "--profile", "queue", "--scenarios", dir, "--only", "our-close")
	if err != nil || !strings.Contains(out, "our-close") || !strings.Contains(out, "1 of 1 scenarios passed") {
		t.Errorf("exit %d (%v)\n%s", exitCode(err), err, out)
	}
	os.WriteFile(filepath.Join(dir, "close.txt"), b, 0o600)
	_, err = conformRun(t, "--reference", "--profile", "queue", "--scenarios", dir)
	if exitCode(err) != exitUsage || !strings.Contains(err.Error(), "a scenario named close is already in the conformance set") {
		t.Errorf("a file named like a conformance scenario: exit %d (%v)", exitCode(err), err)
	}
}
