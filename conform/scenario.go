package conform

import (
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

// File returns the scenario file s plays, or nil for a scenario built in
// Go (a Go client's own, or a test's).
func (s Scenario) File() *File { return s.file }

// AppliesTo reports whether s runs for p.
func (s Scenario) AppliesTo(p *profile.Profile) bool { return s.Applies == nil || s.Applies(p) }

// All is the conformance set, every profile's, in the order it runs: the
// library's files written for every profile (no "# profile:" line), in
// name order, each skipped where its "# requires:" says.
func All() []Scenario { return conformanceFiles() }

// closeOf returns the close entry of attempt n.
func closeOf(es []transcript.Entry, n int) (transcript.Entry, bool) {
	for _, e := range es {
		if e.Kind == transcript.KindClose && e.Attempt == n {
			return e, true
		}
	}
	return transcript.Entry{}, false
}
