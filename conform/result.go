package conform

import (
	"time"

	"github.com/wschaos/wschaos/transcript"
)

// Result is the outcome of one scenario, with everything a report shows.
type Result struct {
	Scenario string `json:"scenario"`
	Profile  string `json:"profile"`
	// Checks says in one line what the scenario checks.
	Checks string `json:"checks"`
	Passed bool   `json:"passed"`
	// Reason is the first failure, the line a summary shows; Failures
	// has them all.
	Reason   string   `json:"reason,omitempty"`
	Failures []string `json:"failures,omitempty"`

	Client  string        `json:"client,omitempty"` // as the subject named itself
	Virtual bool          `json:"virtual"`
	Scale   float64       `json:"scale"`
	Seed    uint64        `json:"seed"`
	Wall    time.Duration `json:"wall_ns"`
	// End is the scenario's last instant on its clock, since the server
	// started: the width of its timeline.
	End time.Duration `json:"end_ns"`

	// Marks are the server's transcript as a timeline; Waits the judged
	// reconnect waits; Events what the client reported.
	Marks      []Mark  `json:"marks"`
	Waits      []Wait  `json:"waits,omitempty"`
	Events     []Event `json:"events,omitempty"`
	Transcript string  `json:"transcript"`
	Stderr     string  `json:"stderr,omitempty"`
	// AdapterError: the adapter could not start or broke the protocol; the
	// failure is the adapter's, not the client's.
	AdapterError string    `json:"adapter_error,omitempty"`
	Tolerance    Tolerance `json:"tolerance"`
	// ExpectedFailure, when set, is why this scenario is known to fail on
	// this client (a bug kept upstream, conform --expect-fail): its failure
	// is expected, and its passing is the surprise.
	ExpectedFailure string `json:"expected_failure,omitempty"`
	// Interrupted, when set, says why the run was stopped while this
	// scenario ran (a signal): it did not finish, so it neither passed nor
	// failed, and a wait cut short must never read as a quiet client.
	Interrupted string `json:"interrupted,omitempty"`
	// NotRun, when set, says why this scenario never started: the run was
	// interrupted before it.
	NotRun string `json:"not_run,omitempty"`
	// Blocked, when set, says why the scenario never started although the
	// run went on: the adapter could not start for an earlier one, and
	// would fail every scenario alike.
	Blocked string `json:"blocked,omitempty"`
	// Skipped, when set, says why the scenario does not apply to this
	// client: its profile lacks what the scenario needs, or the client a
	// capability it uses.
	Skipped string `json:"skipped,omitempty"`
	// Steps are a scenario file's commands, each with the output the file
	// expects and the output seen.
	Steps []Step `json:"steps,omitempty"`
	// Commands are what the scenario asked the client (through an
	// adapter, the lines written to it), with its replies.
	Commands []Command `json:"commands,omitempty"`
	// unmade: the factory failed, so no subject ran (an adapter that could
	// not start); a run stops there rather than fail every scenario alike.
	unmade bool
}

// Outcome is PASS, FAIL, XFAIL (failed, as expected), XPASS (passed,
// though expected to fail: the bug may be fixed), INTERRUPTED (stopped
// before its verdict) or NOT RUN.
func (r Result) Outcome() string {
	switch {
	case r.Interrupted != "":
		return "INTERRUPTED"
	case r.NotRun != "" || r.Blocked != "":
		return "NOT RUN"
	case r.Skipped != "" && r.Passed:
		return "SKIP"
	case r.ExpectedFailure == "" && r.Passed:
		return "PASS"
	case r.ExpectedFailure == "":
		return "FAIL"
	case r.Passed:
		return "XPASS"
	}
	return "XFAIL"
}

// AsExpected reports whether the outcome is the one expected: a pass, or
// a failure the caller said to expect. An adapter error never is, nor a
// scenario interrupted or not run: nothing was checked.
func (r Result) AsExpected() bool {
	o := r.Outcome()
	return r.AdapterError == "" && (o == "PASS" || o == "XFAIL" || o == "SKIP")
}

// Mark is one transcript entry on the timeline.
type Mark struct {
	At      time.Duration `json:"at_ns"`
	Attempt int           `json:"attempt"`
	Kind    string        `json:"kind"` // the transcript's kind: dial, refuse, open, close, recv, send, fault...
	Text    string        `json:"text"`
}

// Wait is one reconnect wait judged against the profile's window.
type Wait struct {
	Attempt int           `json:"attempt"` // the attempt it led to
	Failure int           `json:"failure"` // the failure count it follows
	From    time.Duration `json:"from_ns"` // the end of the previous attempt
	Waited  time.Duration `json:"waited_ns"`
	// Min and Max are the profile's window; Lo and Hi the same widened by
	// the tolerance, which is what was checked.
	Min    time.Duration `json:"min_ns"`
	Max    time.Duration `json:"max_ns"`
	Lo     time.Duration `json:"lo_ns"`
	Hi     time.Duration `json:"hi_ns"`
	OK     bool          `json:"ok"`
	GaveUp bool          `json:"gave_up,omitempty"` // the profile had given up: no dial was due
	Note   string        `json:"note,omitempty"`
}

// Tolerance widens timing windows in real time. Zero in virtual time.
type Tolerance struct {
	// Early: how much sooner than its window a wait may be seen.
	Early time.Duration `json:"early_ns"`
	// Late plus LateRatio of the window's upper bound: how much later.
	Late      time.Duration `json:"late_ns"`
	LateRatio float64       `json:"late_ratio"`
}

// DefaultTolerance is what wschaos conform uses unless told otherwise; see
// docs/adapter.md for why each number.
var DefaultTolerance = Tolerance{Early: 50 * time.Millisecond, Late: 500 * time.Millisecond, LateRatio: 0.5}

// widen returns the checked bounds of the window [lo, hi].
func (t Tolerance) widen(lo, hi time.Duration) (time.Duration, time.Duration) {
	return max(0, lo-t.Early), hi + t.Late + time.Duration(float64(hi)*t.LateRatio)
}

// marks turns transcript entries into timeline marks.
func marks(es []transcript.Entry) []Mark {
	out := make([]Mark, 0, len(es))
	for _, e := range es {
		out = append(out, Mark{At: e.At, Attempt: e.Attempt, Kind: string(e.Kind), Text: e.String()})
	}
	return out
}
