package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/wschaos/wschaos/backoff"
	"github.com/wschaos/wschaos/profile"
)

// profileRun runs `wschaos profile args...` and returns its stdout, its
// stderr and its exit code.
func profileRun(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	var out, errOut bytes.Buffer
	err := profileCmd(args, &out, &errOut)
	if errors.Is(err, flag.ErrHelp) {
		return out.String(), errOut.String(), exitUsage
	}
	return out.String(), errOut.String(), exitCode(err)
}

// A hook lists the names with awk '{print $1}': each line must start with
// a shipped name, in Names order, and there must be no header line.
func TestProfileListIsOneLinePerShippedProfileNameFirst(t *testing.T) {
	out, _, code := profileRun(t, "list")
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
	var names []string
	for _, l := range lines {
		f := strings.Fields(l)
		if len(f) < 2 {
			t.Fatalf("line %q: want NAME  DESCRIPTION", l)
		}
		names = append(names, f[0])
		if want := profile.ByName(f[0]).Description; !strings.HasSuffix(l, want) {
			t.Errorf("line %q does not end with the profile's description %q", l, want)
		}
	}
	if !reflect.DeepEqual(names, profile.Names()) {
		t.Errorf("first column = %v, want %v", names, profile.Names())
	}
}

func TestProfileShowPrintsTheProfileThenItsSchedule(t *testing.T) {
	out, _, code := profileRun(t, "show", "reconnecting-websocket")
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	for _, want := range []string{
		"name: reconnecting-websocket\n",
		"  base_max: 5s\n",
		"# the base is drawn once per client from [1s, 5s)",
		"# failure 1: wait [1s, 5s]\n",
		"# failure 2: wait [1.3s, 6.5s]\n",
		"# failure 4: wait [2.197s, 10s]\n",
		"# failure 10: wait [10s, 10s]\n",
		"# cap: reached at failure 10; every later failure waits [10s, 10s] too\n",
		"# never gives up",
		"# the failure count goes back to 0 once a connection has stayed up 5s",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("profile show lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "failure 11:") {
		t.Errorf("the schedule is constant from failure 10, yet more is printed:\n%s", out)
	}
	// The whole output is a profile file: the schedule is comments.
	p, err := profile.Parse([]byte(out), "show.yaml")
	if err != nil {
		t.Fatalf("the output of profile show does not load: %v", err)
	}
	if want := profile.ByName("reconnecting-websocket"); !reflect.DeepEqual(p, want) {
		t.Errorf("profile show's output loads as\n%+v\nwant\n%+v", p, want)
	}
}

func TestProfileShowSaysWhenItGivesUp(t *testing.T) {
	out, _, _ := profileRun(t, "show", "queue")
	for _, want := range []string{
		"# failure 3: wait [4s, 4s]\n",
		"# failure 5: wait [16s, 16s]\n",
		"# failure 6: gives up\n",
		"# gives up at failure 6: once 5 reconnects in a row have failed, it stops (retries: 5)\n",
		"# cap: none reached before it gives up\n",
		"# the failure count goes back to 0 as soon as a connection opens\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("profile show queue lacks %q:\n%s", want, out)
		}
	}
}

func TestProfileShowReadsAFile(t *testing.T) {
	dir := t.TempDir()
	f := filepath.Join(dir, "mine.yaml")
	src, _ := profile.ShippedSource("phoenix")
	os.WriteFile(f, bytes.Replace(src, []byte("name: phoenix"), []byte("name: mine"), 1), 0o600)
	out, _, code := profileRun(t, "show", f)
	if code != 0 || !strings.HasPrefix(out, "name: mine\n") || !strings.Contains(out, "# failure 10: wait [5s, 5s]") {
		t.Fatalf("exit %d:\n%s", code, out)
	}
}

// describeSchedule on schedules no shipped profile has.
func TestDescribeSchedule(t *testing.T) {
	ms := time.Millisecond
	for _, tc := range []struct {
		name      string
		pol       backoff.Policy
		want, not []string
	}{
		{"uncapped", backoff.Exponential{Base: time.Second, Factor: 2},
			[]string{"failure 10: wait [8m32s, 8m32s]", "cap: none; the wait keeps growing", "never gives up"},
			[]string{"failure 11:", "cap: reached"}},
		{"decorrelated", backoff.Decorrelated{Base: 100 * ms, Cap: 10 * time.Second},
			[]string{"each wait is drawn from a range set by the wait before it", "failure 1: wait [100ms, 300ms]",
				"failure 2: wait [100ms, 900ms]", "cap: reached at failure 5; every later failure waits [100ms, 10s] too"},
			nil},
		{"gives up at once", backoff.Limit{Policy: backoff.Steps{Delays: []time.Duration{time.Second}}, Attempts: 0},
			[]string{"failure 1: gives up", "gives up at failure 1: once 0 reconnects"}, []string{"failure 1: wait"}},
		{"settles late", backoff.Exponential{Base: ms, Factor: 1.01, Max: 300 * time.Second},
			[]string{"failure 10: wait [1.094ms, 1.094ms]", "… failures 11 to", "cap: reached at failure 1269"},
			[]string{"failure 11: wait"}},
		{"cap before giving up", backoff.Limit{Policy: backoff.Steps{Delays: []time.Duration{time.Second, 2 * time.Second}}, Attempts: 4},
			[]string{"failure 4: wait [2s, 2s]", "failure 5: gives up", "cap: reached at failure 2, at [2s, 2s]"}, nil},
		{"per-client draw, not exponential", backoff.Limit{Policy: backoff.Exponential{Base: time.Second, BaseMax: 2 * time.Second, Factor: 1}, Attempts: 3},
			[]string{"the base is drawn once per client from [1s, 2s)"}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := profile.QueueProfile()
			p.Backoff = tc.pol
			got := strings.Join(describeSchedule(p), "\n") + "\n"
			for _, w := range tc.want {
				if !strings.Contains(got, w) {
					t.Errorf("lacks %q:\n%s", w, got)
				}
			}
			for _, n := range tc.not {
				if strings.Contains(got, n) {
					t.Errorf("has %q:\n%s", n, got)
				}
			}
		})
	}
}

func TestProfileCheck(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.yaml")
	src, _ := profile.ShippedSource("graphql-ws")
	os.WriteFile(good, src, 0o600)
	bad := filepath.Join(dir, "bad.yaml")
	os.WriteFile(bad, []byte("name: bad\nenvelope:\n  codec: json\n  type: type\nbackoff:\n  family: exponential\n  base: 1s\n  factor: 2\nheartbeat:\n  mode: client\n  intervall: 30s\n"), 0o600)

	out, errOut, code := profileRun(t, "check", good)
	if code != 0 || out != good+": ok (profile graphql-ws)\n" || errOut != "" {
		t.Errorf("check good: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	out, errOut, code = profileRun(t, "check", bad)
	want := bad + `:11: unknown key "intervall" (did you mean "interval"?)`
	if code != exitUsage || out != "" || !strings.HasPrefix(errOut, want) || strings.Count(errOut, "\n") != 1 {
		t.Errorf("check bad: exit %d, stdout %q, stderr %q; want exit 2 and %q alone", code, out, errOut, want)
	}
	out, errOut, code = profileRun(t, "check", good, bad)
	if code != exitUsage || !strings.Contains(out, "good.yaml: ok") || !strings.HasPrefix(errOut, want) {
		t.Errorf("check good bad: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
}

// The example written in docs/profiles.md from reconnecting-websocket's
// README is a valid profile, and says what the shipped one says.
func TestExampleProfileFromTheDocsChecks(t *testing.T) {
	f := filepath.Join("..", "..", "examples", "profiles", "reconnecting-websocket-defaults.yaml")
	out, errOut, code := profileRun(t, "check", f)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if want := f + ": ok (profile reconnecting-websocket-defaults)\n"; out != want {
		t.Errorf("stdout %q, want %q", out, want)
	}
	mine, _ := profile.Load(f)
	shipped := profile.ByName("reconnecting-websocket")
	mine.Name, mine.Description = shipped.Name, shipped.Description
	if !reflect.DeepEqual(mine, shipped) {
		t.Errorf("written from the README:\n%+v\nread from the source:\n%+v", mine, shipped)
	}
	doc, err := os.ReadFile(filepath.Join("..", "..", "docs", "profiles.md"))
	if err != nil {
		t.Fatal(err)
	}
	example, _ := os.ReadFile(f)
	if !bytes.Contains(doc, example) {
		t.Errorf("docs/profiles.md does not show %s as it is", f)
	}
}

// Every whole profile in docs/profiles.md loads, and every schedule the
// page shows is what profile show prints for the profile above it, or for
// the file its command names.
func TestProfilesDocExamples(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join("..", "..", "docs", "profiles.md"))
	if err != nil {
		t.Fatal(err)
	}
	blocks := strings.Split(string(doc), "```")
	var last *profile.Profile
	profiles, schedules := 0, 0
	for i := 1; i < len(blocks); i += 2 {
		lang, body, _ := strings.Cut(blocks[i], "\n")
		switch {
		case lang == "yaml" && strings.Contains("\n"+body, "\nname: "):
			p, err := profile.Parse([]byte(body), fmt.Sprintf("docs/profiles.md block %d", i/2+1))
			if err != nil {
				t.Errorf("%v\n%s", err, body)
				continue
			}
			last, profiles = p, profiles+1
		case lang == "" && strings.Contains(body, "# failure 1:"):
			p := last
			if cmd, _, _ := strings.Cut(body, "\n"); strings.Contains(cmd, "profile show ") {
				f := strings.Fields(cmd)
				if p, err = profile.Load(filepath.Join("..", "..", f[len(f)-1])); err != nil {
					t.Fatal(err)
				}
			}
			got := "\n" + strings.Join(describeSchedule(p), "\n") + "\n"
			for _, line := range strings.Split(body, "\n") {
				if l, ok := strings.CutPrefix(line, "# "); ok && !strings.Contains(got, "\n"+l+"\n") {
					t.Errorf("docs/profiles.md shows %q for %s; profile show does not print it:%s", line, p.Name, got)
				}
			}
			schedules++
		}
	}
	if profiles < 2 || schedules < 2 {
		t.Errorf("found %d profiles and %d schedules in docs/profiles.md, want at least 2 of each", profiles, schedules)
	}
}

// conform takes a file as serve does, and defaults to the same profile.
func TestConformProfileFlag(t *testing.T) {
	f := filepath.Join(t.TempDir(), "mine.yaml")
	src, _ := profile.ShippedSource("queue")
	os.WriteFile(f, src, 0o600)
	fromFile, err := conformRun(t, "--list", "--profile", f)
	if err != nil || fromFile == "" {
		t.Fatalf("conform --list --profile %s: %v\n%s", f, err, fromFile)
	}
	if byDefault, _ := conformRun(t, "--list"); byDefault != fromFile {
		t.Errorf("conform --list without --profile lists\n%s\nwant the %s profile's\n%s", byDefault, defaultProfile, fromFile)
	}
	if _, err := conformRun(t, "--list", "--profile", "quee"); exitCode(err) != exitUsage || !strings.Contains(err.Error(), `did you mean "queue"?`) {
		t.Errorf("conform --profile quee: exit %d, %v", exitCode(err), err)
	}
}

func TestProfileUsage(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{nil, "want a subcommand"},
		{[]string{"frobnicate"}, `unknown subcommand "frobnicate"`},
		{[]string{"show"}, "want one profile"},
		{[]string{"show", "quee"}, `did you mean "queue"?`},
		{[]string{"check"}, "want a profile file"},
		{[]string{"list", "extra"}, "unexpected arguments"},
		{[]string{"list", "--x"}, "profile list: unknown flag --x; run 'wschaos profile list -h' for its flags"},
	} {
		var out, errOut bytes.Buffer
		err := profileCmd(tc.args, &out, &errOut)
		if exitCode(err) != exitUsage || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("profile %q: exit %d, %v; want exit 2 and %q", tc.args, exitCode(err), err, tc.want)
		}
	}
	for _, args := range [][]string{nil, {"nope"}} {
		var out, errOut bytes.Buffer
		profileCmd(args, &out, &errOut)
		if !strings.HasPrefix(errOut.String(), "usage: wschaos profile list") {
			t.Errorf("profile %q: stderr %q, want the usage", args, errOut.String())
		}
	}
	// Help asked for is an answer, not an error: on stdout.
	for _, args := range [][]string{{"-h"}, {"--help"}, {"show", "-h"}} {
		var out, errOut bytes.Buffer
		profileCmd(args, &out, &errOut)
		if !strings.HasPrefix(out.String(), "usage: wschaos profile list") || errOut.Len() != 0 {
			t.Errorf("profile %q: stdout %q, stderr %q; want the usage on stdout", args, out.String(), errOut.String())
		}
	}
	if err := profileCmd([]string{"-h"}, &bytes.Buffer{}, &bytes.Buffer{}); !errors.Is(err, flag.ErrHelp) {
		t.Errorf("profile -h: %v, want flag.ErrHelp", err)
	}
}

// mainArgsEnv carries the arguments of a re-run of this test binary that
// runs main, so a test sees the real exit code and stderr.
const mainArgsEnv = "WSCHAOS_TEST_MAIN_ARGS"

// runMainIfAsked, in a re-run of this test binary, runs main with the
// arguments mainArgsEnv carries and exits as main does; otherwise it
// returns at once.
func runMainIfAsked() {
	args := os.Getenv(mainArgsEnv)
	if args == "" {
		return
	}
	var a []string
	json.Unmarshal([]byte(args), &a)
	os.Args = append([]string{"wschaos"}, a...)
	main()
	os.Exit(0)
}

func TestMainProfileCheckExitsTwoWithFileLine(t *testing.T) {
	runMainIfAsked()
	bad := filepath.Join(t.TempDir(), "bad.yaml")
	os.WriteFile(bad, []byte("name: bad\nenvelope:\n  codec: jsn\n"), 0o600)
	args, _ := json.Marshal([]string{"profile", "check", bad})
	cmd := exec.Command(os.Args[0], "-test.run=^TestMainProfileCheckExitsTwoWithFileLine$")
	cmd.Env = append(os.Environ(), mainArgsEnv+"="+string(args))
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 2 {
		t.Fatalf("wschaos profile check %s: %v, want exit status 2\nstderr: %s", bad, err, stderr.String())
	}
	want := bad + `:3: envelope: unknown codec "jsn" (did you mean "json"?); known: json, json-array, text` + "\n"
	if stderr.String() != want || stdout.Len() != 0 {
		t.Errorf("stderr %q, stdout %q; want stderr %q alone", stderr.String(), stdout.String(), want)
	}
}
