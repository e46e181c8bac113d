package conform

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/wschaos/wschaos/internal/flaw"
	"github.com/wschaos/wschaos/profile"
)

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return c
}

// The reference client passes every scenario of both profiles, exactly,
// on the virtual clock.
func TestReferencePassesInVirtualTime(t *testing.T) {
	for _, name := range profile.Names() {
		t.Run(name, func(t *testing.T) {
			rs, err := Run(ctx(t), Config{Profile: profile.ByName(name), Virtual: true, Seed: 1}, Reference())
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range rs {
				if !r.Passed {
					t.Errorf("%s: %s\n%s", r.Scenario, strings.Join(r.Failures, "\n"), r.Transcript)
				}
			}
		})
	}
}

// proof is a client with one bug for a Go scenario, and the words its
// failure must use.
type proof struct {
	name     string
	scenario string
	profile  string
	make     Factory
	want     string
}

// changed is the reference client following a changed copy of the
// profile it is checked against.
func changed(change func(p *profile.Profile)) Factory { return misconfigured("", change).Make }

// Every scenario fails on a client with the bug it names, and says why.
func TestScenariosFailOnTheirBugs(t *testing.T) {
	twins := []proof{
		{"resumes from the last seen event", "resume", "mattermost", referenceWith(flaw.Set{ResumeFromLastSeen: true}), "want \"conn-1\" and 4"},
		{"no resync on a new id", "new-id", "mattermost", referenceWith(flaw.Set{NoResyncOnNewID: true}), "the resync: the client did not report it"},
		{"keeps the seq on a new id", "new-id", "mattermost", referenceWith(flaw.Set{KeepSeqOnNewID: true}), "its expected seq was not reset"},
		{"no seq check", "seq-gap", "mattermost", referenceWith(flaw.Set{NoSeqCheck: true}), "the close on the gap"},
		{"error code in the frame, not the query", "seq-gap", "mattermost", referenceWith(flaw.Set{CloseCodeInFrame: true}), "it put 4001 in the close frame"},
	}
	covered := map[string]bool{}
	for _, tw := range twins {
		covered[tw.scenario] = true
		t.Run(tw.scenario+"/"+tw.profile+"/"+tw.name, func(t *testing.T) {
			t.Parallel()
			cfg := Config{Profile: profile.ByName(tw.profile), Virtual: true, Seed: 1, Only: []string{tw.scenario}}
			rs, err := Run(ctx(t), cfg, tw.make)
			if err != nil {
				t.Fatal(err)
			}
			if rs[0].Passed {
				t.Fatalf("passed a client that %s\n%s", tw.name, rs[0].Transcript)
			}
			if !strings.Contains(strings.Join(rs[0].Failures, "\n"), tw.want) {
				t.Errorf("failed, but without naming the behaviour (want %q in):\n%s", tw.want, strings.Join(rs[0].Failures, "\n"))
			}
		})
	}
	for _, s := range goScenarios() { // the files are proven by the library's test
		if !covered[s.Name] {
			t.Errorf("scenario %s has no twin proving it fails on its bug", s.Name)
		}
	}
}
