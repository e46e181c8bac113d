package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"strings"
	"testing"
)

func TestUsageListsSubcommands(t *testing.T) {
	var out, errOut bytes.Buffer
	if err := run(nil, &out, &errOut); exitCode(err) != exitUsage {
		t.Errorf("no subcommand: %v, want exit 2", err)
	}
	if !strings.Contains(errOut.String(), "proxy ") || !strings.Contains(errOut.String(), "usage: wschaos") {
		t.Errorf("usage = %q", errOut.String())
	}
	err := run([]string{"serv"}, &out, &errOut)
	if exitCode(err) != exitUsage || !strings.Contains(err.Error(), `unknown subcommand "serv" (did you mean "serve"?)`) {
		t.Errorf("unknown subcommand: %v", err)
	}
	if err := run([]string{"help"}, &out, &errOut); !errors.Is(err, flag.ErrHelp) {
		t.Errorf("help: %v", err)
	}
}

// Help asked for, of the root or of any subcommand, is printed on stdout
// and ends with flag.ErrHelp, which main exits 0 on.
func TestHelpGoesToStdoutWithExitZero(t *testing.T) {
	for _, args := range [][]string{
		{"-h"}, {"--help"}, {"help"}, {"help", "serve"},
		{"serve", "-h"}, {"serve", "--help"}, {"conform", "-h"}, {"run", "--help"},
		{"proxy", "-h"}, {"profile", "-h"}, {"profile", "show", "--help"}, {"version", "-h"},
	} {
		var out, errOut bytes.Buffer
		err := run(args, &out, &errOut)
		if !errors.Is(err, flag.ErrHelp) {
			t.Errorf("wschaos %q: %v, want flag.ErrHelp (exit 0)", args, err)
		}
		if !strings.HasPrefix(out.String(), "usage: wschaos") {
			t.Errorf("wschaos %q: stdout %.60q, want the usage", args, out.String())
		}
	}
}

// The real process: -h exits 0 with the usage on stdout and nothing on
// stderr.
func TestMainHelpExitsZero(t *testing.T) {
	runMainIfAsked()
	for _, a := range [][]string{{"-h"}, {"serve", "-h"}, {"proxy", "--help"}} {
		args, _ := json.Marshal(a)
		cmd := exec.Command(os.Args[0], "-test.run=^TestMainHelpExitsZero$")
		cmd.Env = append(os.Environ(), mainArgsEnv+"="+string(args))
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		if err := cmd.Run(); err != nil {
			t.Errorf("wschaos %q: %v, want exit 0; stderr %q", a, err, stderr.String())
		}
		if !strings.HasPrefix(stdout.String(), "usage: wschaos") || stderr.Len() != 0 {
			t.Errorf("wschaos %q: stdout %.60q, stderr %q", a, stdout.String(), stderr.String())
		}
	}
}

// A misspelt flag gets the nearest one; a value of the wrong kind says
// what kind is wanted, with an example.
func TestFlagErrorsInTheUsersTerms(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"serve", "--tolerence", "150ms"}, "serve: unknown flag --tolerence (did you mean --tolerance?); run 'wschaos serve -h' for its flags"},
		{[]string{"serve", "--tolerance", "150"}, "serve: --tolerance 150: want a duration with its unit, e.g. 150ms, 2s or 1m30s"},
		{[]string{"serve", "--seed", "-1"}, "serve: --seed -1: want a whole number, 0 or more, e.g. 4"},
		{[]string{"serve", "--addr"}, "serve: --addr needs a value, e.g. --addr 127.0.0.1:8080"},
		{[]string{"serve", "--fault", "refuze 503"}, `serve: --fault "refuze 503" (did you mean "refuse"?): unknown fault "refuze"`},
		{[]string{"conform", "--adaptor", "x"}, "conform: unknown flag --adaptor (did you mean --adapter?)"},
		{[]string{"conform", "--reference", "--scale", "fast"}, "conform: --scale fast: want a number, e.g. 0.25"},
		{[]string{"run", "x.txt", "--late", "1"}, "run: --late 1: want a duration with its unit"},
		{[]string{"proxy", "--upstrem", "ws://h/"}, "proxy: unknown flag --upstrem (did you mean --upstream?)"},
		// The address flag is --addr on serve and --listen on the proxy.
		{[]string{"serve", "--listen", "127.0.0.1:0"}, "serve: unknown flag --listen (did you mean --addr?)"},
		{[]string{"proxy", "--addr", "127.0.0.1:0"}, "proxy: unknown flag --addr (did you mean --listen?)"},
		{[]string{"--addr", "x"}, "--addr: flags come after the subcommand"},
		{[]string{"help", "conform2"}, `unknown subcommand "conform2" (did you mean "conform"?)`},
		{[]string{"run", "close-while-waitin", "--reference"}, `scenario close-while-waitin: no such file or directory (did you mean "close-while-waiting"?)`},
		{[]string{"conform", "--reference", "--expect-fail", "close"}, `conform: --expect-fail "close": want "SCENARIO: REASON", e.g.`},
	} {
		err := run(tc.args, &bytes.Buffer{}, &bytes.Buffer{})
		if exitCode(err) != exitUsage || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("wschaos %q: exit %d, %v\nwant exit 2 and %q", tc.args, exitCode(err), err, tc.want)
		}
	}
}

func TestNearest(t *testing.T) {
	known := []string{"tolerance", "profile", "addr", "seed"}
	for word, want := range map[string]string{"tolerence": "tolerance", "profle": "profile", "adr": "addr", "zzzzzz": "", "sede": "seed"} {
		if got := nearest(word, known); got != want {
			t.Errorf("nearest(%q) = %q, want %q", word, got, want)
		}
	}
}

func TestVersionFromBuildInfo(t *testing.T) {
	var out bytes.Buffer
	if err := versionCmd(nil, &out); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(out.String(), "wschaos ") || !strings.Contains(out.String(), "go1.") {
		t.Errorf("version: %q", out.String())
	}
	bi := &debug.BuildInfo{GoVersion: "go1.26.0", Main: debug.Module{Version: "v1.2.3"}, Settings: []debug.BuildSetting{
		{Key: "vcs.revision", Value: "0123456789abcdef0123"}, {Key: "vcs.time", Value: "2026-12-07T05:00:00Z"}, {Key: "vcs.modified", Value: "true"}}}
	if got, want := versionLine(bi), "wschaos v1.2.3, commit 0123456789ab (2026-12-07T05:00:00Z) with local changes, go1.26.0"; got != want {
		t.Errorf("versionLine = %q, want %q", got, want)
	}
}

func TestProxyFlags(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "faults.json")
	os.WriteFile(good, []byte(`[{"fault":"delay","args":["5s"],"select":{"dir":"server","type":"posted"}},
		{"fault":"bandwidth","args":[1000]}]`), 0o600)
	bad := filepath.Join(dir, "bad.json")
	os.WriteFile(bad, []byte(`[{"fault":"drop","select":{"dir":"sideways"}}]`), 0o600)

	p, err := newProxyFromFlags([]string{"--upstream", "ws://127.0.0.1:1/ws", "--faults", good,
		"--profile", "mattermost", "--seed", "9", "--control", "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	if err := p.StartErr(); err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	fs := p.ListFaults()
	if len(fs) != 2 || fs[0].Fault != "delay 5s type=posted dir=server" || fs[1].Fault != "bandwidth 1000" {
		t.Errorf("faults = %+v", fs)
	}
	if p.Seed != 9 || p.Profile == nil || p.Profile.Name != "mattermost" || p.ControlURL == "" ||
		!strings.HasPrefix(p.URL, "ws://127.0.0.1:") || !strings.HasSuffix(p.URL, "/ws") {
		t.Errorf("proxy = %+v", p)
	}

	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{}, "--upstream is required"},
		{[]string{"--upstream", "ws://h/", "--profile", "irc"}, `proxy: --profile: unknown profile "irc"`},
		{[]string{"--upstream", "ws://h/", "--faults", bad}, `select.dir: "sideways"`},
		{[]string{"--upstream", "ws://h/", "--faults", filepath.Join(dir, "none.json")}, "failed to open faults file"},
		{[]string{"--upstream", "ws://h/", "extra"}, "unexpected arguments"},
	} {
		if _, err := newProxyFromFlags(tc.args); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: got %v, want %q", tc.args, err, tc.want)
		}
	}
	p2, err := newProxyFromFlags([]string{"--upstream", "http://h/"})
	if err != nil {
		t.Fatal(err)
	}
	if err := p2.StartErr(); err == nil || !strings.Contains(err.Error(), "bad upstream") {
		t.Errorf("http upstream: %v", err)
	}
}
