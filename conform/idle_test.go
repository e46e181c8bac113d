package conform

import (
	"strings"
	"testing"

	"github.com/wschaos/wschaos/internal/flaw"
	"github.com/wschaos/wschaos/internal/quiet"
	"github.com/wschaos/wschaos/profile"
)

// A wait for an effect that cannot come fails as soon as client and
// server are idle, not at its bound, and says so after its own message:
// only the idle verdict adds errIdle to it.
func TestAnIdleWorldEndsAWaitAtOnce(t *testing.T) {
	if !quiet.Supported {
		t.Skip("cannot observe goroutines and sockets on this system")
	}
	cfg := Config{Profile: profile.ByName("mattermost"), Virtual: true, Seed: 1, Only: []string{"new-id"}}
	rs, err := Run(ctx(t), cfg, referenceWith(flaw.Set{NoResyncOnNewID: true}))
	if err != nil {
		t.Fatal(err)
	}
	r := rs[0]
	if r.Passed {
		t.Fatalf("passed a client that takes a new id without a resync\n%s", r.Transcript)
	}
	if want := "the resync: never came (" + errIdle.Error() + ")"; !strings.Contains(r.Reason, want) {
		t.Errorf("failed with %q; want %q", r.Reason, want)
	}
}

// Only a world all in this process is judged idle: an adapter's client
// runs in another process, and real time runs on its own.
func TestOnlyInProcessWorldsAreObserved(t *testing.T) {
	for _, tc := range []struct {
		virtual bool
		subj    Subject
		want    bool
	}{
		{true, &reference{}, true},
		{false, &reference{}, false},
		{true, &process{}, false},
		{false, &process{}, false},
	} {
		if got := inProcess(tc.virtual, tc.subj); got != tc.want {
			t.Errorf("inProcess(virtual %v, %T) = %v, want %v", tc.virtual, tc.subj, got, tc.want)
		}
	}
}
