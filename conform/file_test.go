package conform

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wschaos/wschaos/profile"
)

const goodHeader = `# bug: something goes wrong
# report: somewhere #1
# profile: queue
# twin: queue-lifo
`

func TestParseScriptErrorsSayFileLineAndWhat(t *testing.T) {
	for _, tc := range []struct {
		name, text, want string
	}{
		{"no bug line", "# report: x\n# profile: queue\n# twin: queue-lifo\n\nstart\n----\n", `f.txt:1: header: no "# bug:" line`},
		{"empty report", "# bug: b\n# report:\n# profile: queue\n# twin: queue-lifo\n\nstart\n----\n", `f.txt:2: report: cite where the bug was reported`},
		{"unknown requirement", "# bug: b\n# requires: queue, resmue\n\nstart\n----\n", `f.txt:2: requires "resmue": unknown (known: `},
		{"misspelt requirement", "# bug: b\n# requires: hearbeat\n\nstart\n----\n", `(did you mean "heartbeat"?)`},
		{"unknown twin", "# bug: b\n# report: r\n# profile: queue\n# twin: nope\n\nstart\n----\n", `f.txt:4: header: unknown twin "nope" (known: `},
		{"misspelt header key", "# bug: b\n# report: r\n# twins: queue-lifo\n# profle: queue\n\nstart\n----\n", `f.txt:3: unknown header key "twins" (did you mean "twin"?)`},
		{"misspelt key after others", "# bug: b\n# report: r\n# twin: queue-lifo\n# profile: queue\n# sede: 3\n\nstart\n----\n", `f.txt:5: unknown header key "sede" (did you mean "seed"?)`},
		{"command where output is expected", goodHeader + "\nstart\n----\n+0s        #1 dial /ws\nstep\n----\n", `f.txt:9: "step" stands where the output of "start" (line 6) is expected: put a blank line before it`},
		{"unknown profile", "# bug: b\n# report: r\n# profile: discord\n# twin: queue-lifo\n\nstart\n----\n", `f.txt:3: profile "discord" is not one of queue, mattermost`},
		{"misspelt profile", "# bug: b\n# report: r\n# twin: queue-lifo\n# seed: 1\n# profile: mattermots\n\nstart\n----\n", `f.txt:5: profile "mattermots" is not one of queue, mattermost, graphql-ws, phoenix, reconnecting-websocket, signalr, nor a file in . (did you mean "mattermost"?)`},
		{"no such profile file", "# bug: b\n# report: r\n# twin: queue-lifo\n# profile: profiles/mine.yaml\n\nstart\n----\n", `f.txt:4: profile "profiles/mine.yaml": no such file in .`},
		{"absolute profile path", "# bug: b\n# report: r\n# twin: queue-lifo\n# profile: /dev/zero\n\nstart\n----\n", `f.txt:4: profile "/dev/zero": want a shipped profile's name, or a path relative to the scenario file`},
		{"profile is a directory", "# bug: b\n# report: r\n# twin: queue-lifo\n# profile: testdata\n\nstart\n----\n", `f.txt:4: profile "testdata": testdata is not a regular file`},
		{"bad profile option", "# bug: b\n# report: r\n# profile: queue limit=x\n# twin: queue-lifo\n\nstart\n----\n", `f.txt:3: profile option limit="x"`},
		{"bad seed", "# bug: b\n# report: r\n# seed: -1\n", `f.txt:3: seed "-1" is not a non-negative integer`},
		{"bad jitter", "# bug: b\n# jitter: some\n", `f.txt:2: jitter "some"`},
		{"bad clock", "# bug: b\n# clock: real\n", `f.txt:2: clock "real": want "virtual"`},
		{"unknown command", goodHeader + "\nstart\n----\n\nteleport\n----\n", `f.txt:9: unknown command "teleport" (known: `},
		{"missing separator", goodHeader + "\nstart\nstep\n----\n", `f.txt:6: command "start" must be followed by a line "----"`},
		{"unknown fault", goodHeader + "\nfault explode\n----\n", `f.txt:6: unknown fault "explode" (known: `},
		{"bad fault argument", goodHeader + "\nfault refuse soon\n----\n", `f.txt:6: fault refuse: args[0]: "soon" is not an HTTP status`},
		{"bad HTTP status", goodHeader + "\nfault refuse 42\n----\n", `f.txt:6: fault refuse: args[0]: 42 is not an HTTP status`},
		{"misspelt selector", goodHeader + "\nfault refuse 503 atempts=1\n----\n", `f.txt:6: fault refuse: select.atempts: unknown selector (known: `},
		{"frame selector on a conn fault", goodHeader + "\nfault fin-after 1s type=x\n----\n", `f.txt:6: fault fin-after: select.type: selects frames, but fin-after 1s is not a frame fault`},
		{"bad attempts", "" + goodHeader + "\nfault refuse 503 attempts=3-1\n----\n", `fault refuse: select.attempts: "3-1": want attempt numbers`},
		{"bad duration", goodHeader + "\nfault delay-pongs 30\n----\n", `"30" is not a duration`},
		{"unknown check", goodHeader + "\ncheck vibes\n----\n", `f.txt:6: unknown check "vibes"`},
		{"step with argument", goodHeader + "\nstep 5\n----\n", `f.txt:6: step takes no arguments`},
		{"no commands", goodHeader, `no commands`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseFile("f.txt", tc.text)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want one containing %q", err, tc.want)
			}
		})
	}
}

func TestParseScriptReadsCommandsAndOutputs(t *testing.T) {
	text := goodHeader + "# seed: 9\n# free text: not a key\n\n# a comment\nstart\n----\n+0s line one\n+0s line two\n\nstep\n----\n"
	s, err := ParseFile("f.txt", text)
	if err != nil {
		t.Fatal(err)
	}
	if s.header.seed != 9 || s.header.bug != "something goes wrong" || len(s.cmds) != 2 {
		t.Fatalf("parsed %+v", s)
	}
	if got := s.cmds[0].want; len(got) != 2 || got[1] != "+0s line two" || s.cmds[0].line != 9 {
		t.Fatalf("first command %+v at line %d", s.cmds[0].want, s.cmds[0].line)
	}
	got := s.rewritten([][]string{{"+1s new"}, {"+2s also new"}})
	want := goodHeader + "# seed: 9\n# free text: not a key\n\n# a comment\nstart\n----\n+1s new\n\nstep\n----\n+2s also new\n"
	if got != want {
		t.Fatalf("rewritten:\n%s\nwant:\n%s", got, want)
	}
}

func TestParseScriptReadsWindowsLineEndsAsTheSameFile(t *testing.T) {
	text := goodHeader + "\nstart\n----\n+0s line one\n\nstep\n----\n+1s line two\n"
	lf, err := ParseFile("f.txt", text)
	if err != nil {
		t.Fatal(err)
	}
	crlf, err := ParseFile("f.txt", strings.ReplaceAll(text, "\n", "\r\n"))
	if err != nil {
		t.Fatal(err)
	}
	if len(crlf.cmds) != len(lf.cmds) {
		t.Fatalf("with CRLF line ends: %d commands, want %d", len(crlf.cmds), len(lf.cmds))
	}
	for i, c := range crlf.cmds {
		if c.verb != lf.cmds[i].verb || c.line != lf.cmds[i].line || strings.Join(c.want, "|") != strings.Join(lf.cmds[i].want, "|") {
			t.Errorf("command %d with CRLF line ends: %q at line %d wanting %q; want %q at line %d wanting %q",
				i+1, c.verb, c.line, c.want, lf.cmds[i].verb, lf.cmds[i].line, lf.cmds[i].want)
		}
	}
}

func TestDiffMarksWhatDiffers(t *testing.T) {
	got := diff([]string{"a", "b", "c"}, []string{"a", "x", "c"})
	for _, line := range []string{"      a", "    - b", "    + x", "      c"} {
		if !strings.Contains(got, line+"\n") && !strings.HasSuffix(got, line) {
			t.Fatalf("diff\n%s\nlacks %q", got, line)
		}
	}
}

func TestEveryLibraryFileParsesAndIsDocumented(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join("..", "docs", "bugs.md"))
	if err != nil {
		t.Fatal(err)
	}
	files := bugFiles()
	if len(files) < 20 {
		t.Fatalf("the bug library has %d files, want at least 20", len(files))
	}
	for _, f := range files {
		s, err := LoadFile(f)
		if err != nil {
			t.Error(err)
			continue
		}
		if !strings.Contains(string(doc), filepath.Base(f)) || !strings.Contains(string(doc), s.header.bug) {
			t.Errorf("docs/bugs.md has no row for %s (%s)", filepath.Base(f), s.header.bug)
		}
		// The library's files are held to more than a team's own: each
		// cites where its bug was seen and names a twin that has it.
		if len(s.header.reports) == 0 {
			t.Errorf(`%s: no "# report:" line citing where the bug was reported`, f)
		}
		if len(s.header.twins) == 0 {
			t.Errorf(`%s: no "# twin:" line: every file of the library must be shown to fail on a client with its bug`, f)
		}
	}
}

// "# profile:" names a profile file relative to the scenario file, so a
// scenario and the profile of the client it was written for travel
// together; a bad file is told at the header's line, with the file's own
// line.
func TestScriptProfileFileRelativeToTheScenario(t *testing.T) {
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "bugs", "profiles"), 0o755)
	src, ok := profile.ShippedSource("reconnecting-websocket")
	if !ok {
		t.Fatal("no shipped reconnecting-websocket")
	}
	mine := bytes.Replace(src, []byte("name: reconnecting-websocket"), []byte("name: my-client"), 1)
	os.WriteFile(filepath.Join(dir, "bugs", "profiles", "my-client.yaml"), mine, 0o600)
	os.WriteFile(filepath.Join(dir, "bugs", "profiles", "broken.yaml"), []byte("name: broken\nenvelope:\n  codec: jsno\n"), 0o600)

	header := "# bug: b\n# report: r\n# twin: queue-lifo\n# profile: %s\n\nstart\n----\n"
	path := filepath.Join(dir, "bugs", "one.txt")
	s, err := ParseFile(path, fmt.Sprintf(header, "profiles/my-client.yaml limit=3"))
	if err != nil {
		t.Fatal(err)
	}
	p, err := buildProfile(s.dir(), s.header.profile, s.header.options)
	if err != nil || p.Name != "my-client" || p.Queue.Limit != 3 {
		t.Fatalf("buildProfile = %+v, %v; want my-client's profile with limit 3", p, err)
	}

	// The same header from another directory names no file.
	if _, err := ParseFile(filepath.Join(dir, "one.txt"), fmt.Sprintf(header, "profiles/my-client.yaml")); err == nil ||
		!strings.Contains(err.Error(), "one.txt:4: profile \"profiles/my-client.yaml\": no such file in "+dir) {
		t.Errorf("from the parent directory: %v", err)
	}
	_, err = ParseFile(path, fmt.Sprintf(header, "profiles/broken.yaml"))
	want := path + ":4: " + filepath.Join(dir, "bugs", "profiles", "broken.yaml") + `:3: envelope: unknown codec "jsno" (did you mean "json"?)`
	if err == nil || !strings.HasPrefix(err.Error(), want) {
		t.Errorf("broken profile file: %v\nwant %s", err, want)
	}
}

// On the real clock a command waits for the lines the file says it brings,
// counted by kind: attempts, what the client sent, its states, and the
// events it delivered, so a check after "emit" sees the events arrive.
func TestLineKindCountsWhatAStepBrings(t *testing.T) {
	for line, want := range map[string]string{
		"+4.39s #2 dial /ws?connection_id=conn-1":                      "dial",
		"+0s        #1 close 1005 by client":                           "close",
		`+0s        #1 recv {"action":"ping","seq":1}`:                 "recv",
		"+0s        client reconnecting":                               "reconnecting",
		`+4.39s client got posted {"n":3}`:                             "got posted",
		`+0s        client got hello {"connection_id":"conn-1"}`:       "got hello",
		`+0s        client got reply {"text":"pong"}`:                  "",
		`+0s        #1 send {"event":"posted","seq":1,"data":{"n":1}}`: "",
		"+0s        client check dials 1: ok":                          "",
	} {
		got, _, ok := lineKind(line)
		if got != want || ok != (want != "") {
			t.Errorf("lineKind(%q) = %q, %v; want %q", line, got, ok, want)
		}
	}
}

// Arguments the player would only refuse mid-run are refused when the file
// is read, with the line.
func TestParseFileChecksArgumentsOfEveryCommand(t *testing.T) {
	for _, tc := range []struct{ cmd, want string }{
		{"send a when=open", `f.txt:6: send: when="open": the one state a send can wait for is when=connected`},
		{"send a ttl=3", `f.txt:6: send: unknown option "ttl=3"`},
		{"send type=x", `f.txt:6: send: name at least one message id`},
		{"emit 3-1", `f.txt:6: "3-1": want a number or a range like 1-5`},
		{"emit 1 2", `f.txt:6: emit: want one number or range`},
		{"emit 1 kind=x", `f.txt:6: emit: unknown option "kind=x"`},
		{"cut sideways", `f.txt:6: code=`},
		{"cut", `f.txt:6: want one of fin, rst, black-hole, code=N`},
	} {
		_, err := ParseFile("f.txt", goodHeader+"\n"+tc.cmd+"\n----\n")
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: error %v, want one containing %q", tc.cmd, err, tc.want)
		}
	}
}

// Each requirement holds for a profile that has the feature and names
// what one without it lacks.
func TestRequirementsTellWhatAProfileLacks(t *testing.T) {
	queue, mattermost := profile.QueueProfile(), profile.MattermostProfile()
	for _, tc := range []struct {
		req        string
		has, lacks *profile.Profile
		why        string
	}{
		{"queue", queue, mattermost, "profile mattermost has no offline queue"},
		{"queue-limit", queue, mattermost, "profile mattermost's queue has no bound"},
		{"resume", mattermost, queue, "profile queue does not resume sessions"},
		{"retry-limit", queue, mattermost, "profile mattermost never gives up"},
		{"close-code", queue, mattermost, "profile mattermost's close sends no code"},
		{"code-on-connect", mattermost, queue, "profile queue reports a close's code only in the close frame, not on the next connect URL"},
		{"heartbeat", queue, profile.ByName("reconnecting-websocket"), "profile reconnecting-websocket's client sends no heartbeat"},
	} {
		if got := requirements[tc.req](tc.has); got != "" {
			t.Errorf("%s on %s: %q, want it met", tc.req, tc.has.Name, got)
		}
		if got := requirements[tc.req](tc.lacks); got != tc.why {
			t.Errorf("%s on %s: %q, want %q", tc.req, tc.lacks.Name, got, tc.why)
		}
	}
	f, err := ParseFile("f.txt", "# bug: b\n# requires: resume\n\nstart\n----\n")
	if err != nil {
		t.Fatal(err)
	}
	if got := f.Scenario().Why(queue); got != "requires resume: profile queue does not resume sessions" {
		t.Errorf("a file requiring resume under queue: %q", got)
	}
}
