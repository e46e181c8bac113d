package conform

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/wschaos/wschaos/profile"
	"github.com/wschaos/wschaos/transcript"
)

// An await's words are checked when the file is read, with the line.
func TestParseFileChecksAwait(t *testing.T) {
	for _, tc := range []struct{ cmd, want string }{
		{"await", `f.txt:6: await what? (known: close, delivered, dial, open, ping, pong, refuse, sent, state)`},
		{"await dials 2", `f.txt:6: await "dials": unknown`},
		{"await dial two", `f.txt:6: await dial: "two" is not a count`},
		{"await dial 2 3", `f.txt:6: await dial: want at most a count after it`},
		{"await state asleep", `f.txt:6: await state: name a state`},
		{"send fill=all", `f.txt:6: send: unknown option "fill=all"`},
	} {
		_, err := ParseFile("f.txt", goodHeader+"\n"+tc.cmd+"\n----\n")
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: error %v, want one containing %q", tc.cmd, err, tc.want)
		}
	}
	for _, ok := range []string{"await dial", "await state gave-up 2", "await retries profile", "await sent queue", "send fill=queue"} {
		if _, err := ParseFile("f.txt", goodHeader+"\n"+ok+"\n----\n"); err != nil {
			t.Errorf("%q: %v", ok, err)
		}
	}
}

// A twin scoped to a profile (@PROFILE) is for a file written for every
// profile, and names a shipped one; its proofs run under that profile
// only, an unscoped twin's under every profile the file applies to.
func TestTwinScopedToAProfile(t *testing.T) {
	for _, tc := range []struct{ header, want string }{
		{"# bug: b\n# profile: queue\n# twin: no-jitter@mattermost\n", `f.txt:3: header: twin no-jitter@mattermost: @PROFILE scopes a twin of a file for every profile`},
		{"# bug: b\n# twin: no-jitter@discord\n", `f.txt:2: header: twin no-jitter@discord: @PROFILE`},
		{"# bug: b\n# twin: nope@queue\n", `f.txt:2: header: unknown twin "nope"`},
	} {
		_, err := ParseFile("f.txt", tc.header+"\nstart\n----\n")
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: error %v, want one containing %q", tc.header, err, tc.want)
		}
	}
	f, err := ParseFile("f.txt", "# bug: b\n# requires: resume\n# twin: no-jitter@mattermost, no-resync\n\nstart\n----\n")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, pr := range f.Proofs() {
		got = append(got, pr.Name+"@"+pr.Profile.Name)
	}
	if want := "no-jitter@mattermost no-resync@mattermost"; strings.Join(got, " ") != want {
		t.Errorf("proofs %q, want %q", got, want)
	}
}

// A file for every profile shows only its own lines, untimed: the same
// output under every profile. A file for one profile keeps its timeline.
func TestFileForEveryProfileShowsNoTimeline(t *testing.T) {
	generic := "# bug: b\n# seed: 1\n\nstart\n----\n\nawait state connected\n----\nclient await state connected: ok\n"
	f, err := ParseFile("f.txt", generic)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range profile.Names() {
		rs, err := Run(ctx(t), Config{Profile: profile.ByName(name), Virtual: true, Exact: true, Seed: 1, Scenarios: []Scenario{f.Scenario()}}, Reference())
		if err != nil {
			t.Fatal(err)
		}
		if !rs[0].Passed {
			t.Errorf("%s: %s", name, strings.Join(rs[0].Failures, "\n"))
		}
	}
	own, err := ParseFile("f.txt", "# bug: b\n# profile: queue\n# seed: 1\n\nstart\n----\n")
	if err != nil {
		t.Fatal(err)
	}
	rs, err := Run(ctx(t), Config{Virtual: true, Rewrite: true, Seed: 1, Scenarios: []Scenario{own.Scenario()}}, Reference())
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(rs[0].Steps[0].Got, "\n"); !strings.Contains(got, "+0s        #1 dial /ws") {
		t.Errorf("a file for profile queue shows %q, want its timeline", got)
	}
}

// The profile's words in a fault line are put in when the file runs, and
// stand in for parse-time checks before.
func TestProfileWordsInFaults(t *testing.T) {
	graphql := &T{p: profile.ByName("graphql-ws"), scale: 1}
	got := strings.Join(profileWords([]string{"accept-then-close", "code=fatal", "type=handshake-reply"}, graphql), " ")
	if want := "accept-then-close code=4004 type=connection_ack"; got != want {
		t.Errorf("graphql-ws: %q, want %q", got, want)
	}
	if got := profileWords([]string{"delay-pongs", "pong-lag"}, &T{p: profile.QueueProfile(), scale: 1}); !leftOut(got) {
		t.Errorf("queue has no timeout rule: %q should be left out", got)
	}
	phoenix := profile.ByName("phoenix")
	if got := profileWords([]string{"delay-pongs", "pong-lag"}, &T{p: phoenix, scale: 1}); got[1] != "18s" || leftOut(got) {
		t.Errorf("phoenix: %q, want 60 %% of its 30 s timeout", got)
	}
}

// A file for every profile, in a run that names no profile (the whole
// library on the reference client), is skipped with the reason, and the
// others of the run still run.
func TestFileForEveryProfileSkippedWithoutAProfile(t *testing.T) {
	generic, err := ParseFile("any.txt", "# bug: b\n\nstart\n----\n")
	if err != nil {
		t.Fatal(err)
	}
	own, err := ParseFile("own.txt", "# bug: b\n# profile: queue\n\nstart\n----\n")
	if err != nil {
		t.Fatal(err)
	}
	rs, err := Run(ctx(t), Config{Virtual: true, Seed: 1, Scenarios: []Scenario{generic.Scenario(), own.Scenario()}}, Reference())
	if err != nil {
		t.Fatal(err)
	}
	if rs[0].Skipped != "written for every profile, and the run gives none: give one with --profile" || rs[1].Skipped != "" || !rs[1].Passed {
		t.Errorf("results %+v, want the first skipped with the reason and the second run", rs)
	}
}

// queue-bound.txt fills the queue while the client is refused. On the
// real clock the fill is a round trip per message; the refusals must keep
// the client offline that long at the smallest scale the docs recommend,
// or the retry opens mid-fill and the send a full queue must refuse goes
// out (a refusal count fixed at three, 350 ms at --scale 0.05, did).
func TestQueueBoundRefusedForTheFill(t *testing.T) {
	f, err := LoadFile("../scenarios/library/queue-bound.txt")
	if err != nil {
		t.Fatal(err)
	}
	for _, base := range []*profile.Profile{profile.QueueProfile(), mustProfile(t, "../examples/profiles/queue-jitter.yaml")} {
		for _, scale := range []float64{0.05, 0.25, 1} {
			p, err := base.Scaled(scale)
			if err != nil {
				t.Fatal(err)
			}
			tt := &T{p: p, scale: scale}
			var refused int
			for _, c := range f.cmds {
				if c.verb != "fault" {
					continue
				}
				for _, w := range profileWords(c.args, tt) {
					if a, ok := strings.CutPrefix(w, "attempts=1-"); ok {
						refused = atoiOr(t, a)
					}
				}
			}
			var offline time.Duration
			for n := 1; n <= refused; n++ {
				w, ok := p.Backoff.Window(n, 0)
				if !ok {
					t.Fatalf("%s at %v: %d refusals: the client gives up at failure %d and never opens", base.Name, scale, refused, n)
				}
				offline += w.Min
			}
			if need := fillBudget(p); offline < need {
				t.Errorf("%s at scale %v: the client is refused for %v after the first refusal (%d attempts); filling %d messages needs %v",
					base.Name, scale, offline, refused, p.Queue.Limit, need)
			}
		}
	}
}

func atoiOr(t *testing.T, s string) int {
	t.Helper()
	n, err := strconv.Atoi(s)
	if err != nil {
		t.Fatalf("attempts=1-%s: not a count", s)
	}
	return n
}

func mustProfile(t *testing.T, path string) *profile.Profile {
	t.Helper()
	p, err := profile.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// A redial at once can reach the server before the close it follows:
// "check delays profile" reads it as a wait of 0, not as no wait at all.
func TestDelaysProfileSeesARedialThatBeatItsClose(t *testing.T) {
	es := []transcript.Entry{
		{At: 0, Attempt: 1, Kind: transcript.KindDial, URL: "/ws"},
		{At: 0, Attempt: 1, Kind: transcript.KindOpen},
		{At: 60 * time.Second, Attempt: 2, Kind: transcript.KindDial, URL: "/ws"},
		{At: 60 * time.Second, Attempt: 2, Kind: transcript.KindOpen},
		{At: 60*time.Second + time.Millisecond, Attempt: 1, Kind: transcript.KindClose, Code: 4000, By: profile.Client},
	}
	tt := &T{p: profile.QueueProfile()}
	ws := tt.judge(endsBeforeRedial(es), false)
	if len(ws) != 1 || ws[0].OK || ws[0].Waited != 0 {
		t.Fatalf("waits %+v, want one of 0, out of the profile's window", ws)
	}
	if got := ws[0].describe(); !strings.Contains(got, "it came too soon") {
		t.Errorf("%q should say the retry came too soon", got)
	}
}
