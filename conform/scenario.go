package conform

import (
	"time"

	"github.com/wschaos/wschaos/chaos"
	"github.com/wschaos/wschaos/profile"
	"github.com/wschaos/wschaos/transcript"
)

// Scenario is one conformance check: the server's faults and a script of
// what the application does, with the checks of what follows.
type Scenario struct {
	// Name is short and stable: reports and --only use it.
	Name string
	// Checks says in one line what a client must do to pass.
	Checks string
	// Applies reports whether the scenario makes sense for a profile; nil
	// means every profile.
	Applies func(p *profile.Profile) bool
	// Faults are the server's, for the scaled profile and the tolerance
	// (t.Profile(), t.Tolerance()).
	Faults func(t *T) []chaos.Fault
	// Run plays the scenario.
	Run func(t *T)
	// Why, when set, says why the scenario does not apply to a profile,
	// for the skip's line in the output and the reports.
	Why func(p *profile.Profile) string
	// Profile, when set, is the profile the scenario was written for: it
	// runs under it when the run names none.
	Profile *profile.Profile
	// file is the scenario file this scenario plays, if it is one.
	file *File
}

// File returns the scenario file s plays, or nil for a Go scenario.
func (s Scenario) File() *File { return s.file }

// AppliesTo reports whether s runs for p.
func (s Scenario) AppliesTo(p *profile.Profile) bool { return s.Applies == nil || s.Applies(p) }

// All is every scenario, in the order they run.
func All() []Scenario {
	return []Scenario{
		backoffScenario,
		resetScenario,
		closeScenario,
		heartbeatScenario,
		deadLinkScenario,
		queueOrderScenario,
		queueBoundScenario,
		errorStateScenario,
		resumeScenario,
		newIDScenario,
		seqGapScenario,
		stalledHandshakeScenario,
		handshakeScenario,
		serverPingScenario,
		fatalCloseScenario,
		resetAfterUptimeScenario,
	}
}

// window is the profile's wait after failure n, and whether it retries.
func wait(p *profile.Profile, n int) (time.Duration, bool) {
	w, ok := p.Backoff.Window(n, 0)
	return w.Max, ok
}

// ofKind counts entries of kind k.
func ofKind(es []transcript.Entry, k transcript.Kind) int {
	n := 0
	for _, e := range es {
		if e.Kind == k {
			n++
		}
	}
	return n
}

// closeOf returns the close entry of attempt n.
func closeOf(es []transcript.Entry, n int) (transcript.Entry, bool) {
	for _, e := range es {
		if e.Kind == transcript.KindClose && e.Attempt == n {
			return e, true
		}
	}
	return transcript.Entry{}, false
}
