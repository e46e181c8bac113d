package main

import (
	"os"
	"regexp"
	"strings"
	"testing"
)

// The README's first screen is what a new user runs: exactly the two
// set-up commands, then the install line, whose path must be this
// command's; the exit codes it lists must be the ones the commands use.
func TestREADMEFirstScreenAndExitCodes(t *testing.T) {
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	readme := string(b)
	blocks := regexp.MustCompile("(?s)```sh\n(.*?)```").FindAllStringSubmatch(readme, 2)
	if len(blocks) < 2 {
		t.Fatal("fewer than two sh blocks")
	}
	var first []string
	for _, l := range strings.Split(strings.TrimSpace(blocks[0][1]), "\n") {
		first = append(first, strings.Fields(l)[0]+" "+strings.Fields(l)[1])
	}
	if strings.Join(first, "; ") != "go run; make test" {
		t.Errorf("first block runs %q, want the two set-up commands", first)
	}
	mod, _ := os.ReadFile("../../go.mod")
	path := strings.Fields(strings.SplitN(string(mod), "\n", 2)[0])[1] + "/cmd/wschaos@latest"
	if got := strings.TrimSpace(blocks[1][1]); !strings.HasPrefix(got, "go install "+path+" ") {
		t.Errorf("second block %q, want go install %s", got, path)
	}
	for _, code := range []string{"| 1 |", "| 2 |", "| 3 |", "| 4 | cannot listen"} {
		if !strings.Contains(readme, code) {
			t.Errorf("the README's exit codes lack %q", code)
		}
	}
	if exitListen != 4 || exitFailed != 1 || exitUsage != 2 || exitAdapter != 3 {
		t.Error("the exit codes changed: update the README's table")
	}
	if lic, err := os.ReadFile("../../LICENSE"); err != nil || !strings.Contains(string(lic), "Copyright (c) 2026 The wschaos authors") {
		t.Errorf("LICENSE: %v", err)
	}
}
