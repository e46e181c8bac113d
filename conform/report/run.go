package report

import (
	"time"

	"github.com/wschaos/wschaos/conform"
)

// Run is one conformance run of one client against one profile: what every
// report is written from. Its JSON form is what WriteJSON writes, less the
// derived fields (totals, durations as text) that ReadJSON ignores.
type Run struct {
	// Client names the client, as its adapter's ready event did.
	Client  string `json:"client"`
	Profile string `json:"profile"`
	// Adapter is the command line that started the client, empty for a Go
	// client run in process.
	Adapter string `json:"adapter,omitempty"`
	// Timing is how the real-clock windows were widened and why: the
	// adapter's calibration, the fixed defaults as a fallback, or flags.
	// Nil in virtual time.
	Timing  *conform.Timing  `json:"timing,omitempty"`
	Started time.Time        `json:"started"`
	Wall    time.Duration    `json:"wall_ns"`
	Results []conform.Result `json:"results"`
}

// Failed returns how many scenarios did not end as expected: failed, or
// passed where a failure was expected (conform.Result.AsExpected).
func (r *Run) Failed() int {
	n := 0
	for _, res := range r.Results {
		if !res.AsExpected() {
			n++
		}
	}
	return n
}

// ExpectedFailures returns how many scenarios failed as expected.
func (r *Run) ExpectedFailures() int {
	n := 0
	for _, res := range r.Results {
		if res.Outcome() == "XFAIL" && res.AdapterError == "" {
			n++
		}
	}
	return n
}

// Passed reports whether every scenario passed. A run with no scenarios
// did not pass: it checked nothing.
func (r *Run) Passed() bool { return len(r.Results) > 0 && r.Failed() == 0 }

// Interrupted says how the run was cut short (a signal) before every
// scenario had its verdict, or is empty when it was not.
func (r *Run) Interrupted() string {
	for _, res := range r.Results {
		if res.Interrupted != "" || res.NotRun != "" {
			return res.Interrupted + res.NotRun
		}
	}
	return ""
}
