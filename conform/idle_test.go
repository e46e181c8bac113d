package conform

import (
	"strings"
	"testing"
	"time"

	"github.com/wschaos/wschaos/internal/quiet"
)

// A wait for an effect that cannot come fails as soon as client and
// server are idle, not at its bound, and says so after its own message:
// only the idle verdict adds errIdle to it.
func TestAnIdleWorldEndsAWaitAtOnce(t *testing.T) {
	if !quiet.Supported {
		t.Skip("cannot observe goroutines and sockets on this system")
	}
	f, err := ParseFile("never.txt", "# bug: a line that never comes\n# profile: queue\n\nstart\n----\n+0s        #1 dial /ws\n+0s        never\n")
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	rs, err := Run(ctx(t), Config{Virtual: true, Exact: true, Seed: 1, Scenarios: []Scenario{f.Scenario()}}, Reference())
	if err != nil {
		t.Fatal(err)
	}
	r := rs[0]
	if r.Passed {
		t.Fatalf("passed a file whose output never comes\n%s", r.Transcript)
	}
	if want := "its output differs (" + errIdle.Error() + ")"; !strings.Contains(r.Reason, want) {
		t.Errorf("failed with %q; want %q", r.Reason, want)
	}
	if d := time.Since(start); d >= patience {
		t.Errorf("took %v: the idle world did not end the wait before its bound, %v", d, patience)
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
