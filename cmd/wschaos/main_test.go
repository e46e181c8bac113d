package main

import (
	"bytes"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestUsageListsSubcommands(t *testing.T) {
	var out bytes.Buffer
	if err := run(nil, &out); err == nil {
		t.Error("no subcommand: want an error")
	}
	if !strings.Contains(out.String(), "proxy ") || !strings.Contains(out.String(), "usage: wschaos") {
		t.Errorf("usage = %q", out.String())
	}
	out.Reset()
	if err := run([]string{"nope"}, &out); err == nil || !strings.Contains(err.Error(), `unknown subcommand "nope"`) {
		t.Errorf("unknown subcommand: %v", err)
	}
	if err := run([]string{"help"}, &out); !errors.Is(err, flag.ErrHelp) {
		t.Errorf("help: %v", err)
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
	if len(fs) != 2 || fs[0].Fault != "server frames: type posted: delay 5s" || fs[1].Fault != "bandwidth 1000" {
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
