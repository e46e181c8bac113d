package report

import (
	"encoding/xml"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/wschaos/wschaos/conform"
)

// The JUnit XML that CI systems agree on: the shape Jenkins' schema
// describes and GitHub Actions, GitLab and Jenkins all read. A <testsuites>
// root with one suite is what most tools write, and every reader takes it.
type (
	junitSuites struct {
		XMLName  xml.Name     `xml:"testsuites"`
		Name     string       `xml:"name,attr"`
		Tests    int          `xml:"tests,attr"`
		Failures int          `xml:"failures,attr"`
		Errors   int          `xml:"errors,attr"`
		Time     string       `xml:"time,attr"`
		Suites   []junitSuite `xml:"testsuite"`
	}
	junitSuite struct {
		Name       string          `xml:"name,attr"`
		Tests      int             `xml:"tests,attr"`
		Failures   int             `xml:"failures,attr"`
		Errors     int             `xml:"errors,attr"`
		Skipped    int             `xml:"skipped,attr"`
		Time       string          `xml:"time,attr"`
		Timestamp  string          `xml:"timestamp,attr,omitempty"`
		Properties []junitProperty `xml:"properties>property,omitempty"`
		Cases      []junitCase     `xml:"testcase"`
	}
	junitProperty struct {
		Name  string `xml:"name,attr"`
		Value string `xml:"value,attr"`
	}
	junitCase struct {
		Classname string        `xml:"classname,attr"`
		Name      string        `xml:"name,attr"`
		Time      string        `xml:"time,attr"`
		Failure   *junitFailure `xml:"failure,omitempty"`
		Error     *junitFailure `xml:"error,omitempty"`
		Skipped   *junitSkipped `xml:"skipped,omitempty"`
		SystemErr *cdata        `xml:"system-err,omitempty"`
	}
	// junitSkipped marks an expected failure: known, reported, not counted.
	junitSkipped struct {
		Message string `xml:"message,attr"`
	}
	junitFailure struct {
		Message string `xml:"message,attr"`
		Type    string `xml:"type,attr"`
		Body    string `xml:",cdata"`
	}
	// cdata, like the failure body, keeps multi-line text readable in the
	// file: as character data encoding/xml would write every newline as
	// &#xA;.
	cdata struct {
		Text string `xml:",cdata"`
	}
)

// junitTimestamp is the timestamp format of the JUnit schema: ISO 8601
// without a zone, which is UTC here.
const junitTimestamp = "2006-01-02T15:04:05"

// WriteJUnit writes run as JUnit XML: one suite for the profile, one test
// case per scenario. A failed case carries its reason as the message and
// every failure plus the server's transcript as the body, since that body
// is all a CI page shows; the adapter's stderr goes to <system-err>. A
// scenario the adapter broke is an <error>, not a <failure>: the client was
// not what failed. So is a scenario interrupted (by a signal) before its
// verdict: every CI system shows an error red, where a skip may pass for
// green. The scenarios an interruption kept from running are <skipped>,
// each saying so.
func WriteJUnit(w io.Writer, run *Run) error {
	suite := junitSuite{
		Name: "wschaos conform " + clean(run.Profile),
		Time: seconds(runWall(run)),
	}
	if !run.Started.IsZero() {
		suite.Timestamp = run.Started.UTC().Format(junitTimestamp)
	}
	suite.Properties = junitProperties(run)
	for _, r := range run.Results {
		c := junitCaseOf(run.Profile, r)
		suite.Tests++
		switch {
		case c.Error != nil:
			suite.Errors++
		case c.Failure != nil:
			suite.Failures++
		case c.Skipped != nil:
			suite.Skipped++
		}
		suite.Cases = append(suite.Cases, c)
	}
	doc := junitSuites{
		Name: "wschaos conform", Tests: suite.Tests, Failures: suite.Failures,
		Errors: suite.Errors, Time: suite.Time, Suites: []junitSuite{suite},
	}
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return fmt.Errorf("failed to write the JUnit report: %w", err)
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return fmt.Errorf("failed to write the JUnit report: %w", err)
	}
	if _, err := io.WriteString(w, "\n"); err != nil {
		return fmt.Errorf("failed to write the JUnit report: %w", err)
	}
	return nil
}

// runWall is the run's wall time, or the sum of its scenarios' when the
// run did not say.
func runWall(run *Run) time.Duration {
	if run.Wall > 0 {
		return run.Wall
	}
	var d time.Duration
	for _, r := range run.Results {
		d += r.Wall
	}
	return d
}

func junitProperties(run *Run) []junitProperty {
	s := settingsOf(run.Results)
	ps := []junitProperty{
		{"client", clean(run.Client)},
		{"profile", clean(run.Profile)},
		{"time", s.Mode},
		{"scale", s.Scale},
		{"tolerance", s.Tolerance},
	}
	if run.Adapter != "" {
		ps = append(ps, junitProperty{"adapter", clean(run.Adapter)})
	}
	return ps
}

func junitCaseOf(profile string, r conform.Result) junitCase {
	c := junitCase{
		Classname: "wschaos." + clean(profile),
		Name:      clean(caseName(r)),
		Time:      seconds(r.Wall),
	}
	if r.Stderr != "" {
		c.SystemErr = &cdata{clean(r.Stderr)}
	}
	switch {
	case r.Interrupted != "":
		c.Error = &junitFailure{Message: clean(r.Interrupted), Type: "interrupted", Body: clean(failureBody(r))}
	case r.NotRun != "":
		c.Skipped = &junitSkipped{Message: clean(r.NotRun)}
	case r.Blocked != "":
		c.Error = &junitFailure{Message: clean(r.Blocked), Type: "adapter"}
	case r.Outcome() == "SKIP":
		c.Skipped = &junitSkipped{Message: clean("does not apply: " + r.Skipped)}
	case r.AdapterError != "":
		c.Error = &junitFailure{Message: clean(r.AdapterError), Type: "adapter", Body: clean(failureBody(r))}
	case r.Outcome() == "XFAIL":
		c.Skipped = &junitSkipped{Message: clean("expected failure (" + r.ExpectedFailure + "): " + reason(r))}
	case r.Outcome() == "XPASS":
		c.Failure = &junitFailure{Message: clean("passed, though expected to fail (" + r.ExpectedFailure + "): the bug may be fixed; drop --expect-fail"),
			Type: "unexpected-pass", Body: clean(failureBody(r))}
	case !r.Passed:
		c.Failure = &junitFailure{Message: clean(reason(r)), Type: "conformance", Body: clean(failureBody(r))}
	}
	return c
}

// adapterErrors counts the scenarios the adapter broke, interrupted ones
// aside.
func adapterErrors(run *Run) int {
	n := 0
	for _, r := range run.Results {
		if r.AdapterError != "" && r.Interrupted == "" {
			n++
		}
	}
	return n
}

// caseName is "scenario: checks", the line a CI page lists.
func caseName(r conform.Result) string {
	if r.Checks == "" {
		return r.Scenario
	}
	return r.Scenario + ": " + r.Checks
}

// reason is the one line that says why r failed, even when the result
// left Reason empty.
func reason(r conform.Result) string {
	switch {
	case r.Reason != "":
		return r.Reason
	case len(r.Failures) > 0:
		return r.Failures[0]
	}
	return "failed"
}

func failureBody(r conform.Result) string {
	var b strings.Builder
	fails := r.Failures
	if len(fails) == 0 {
		fails = []string{reason(r)}
	}
	for _, f := range fails {
		b.WriteString(f + "\n")
	}
	if r.Transcript != "" {
		b.WriteString("\ntranscript:\n" + strings.TrimRight(r.Transcript, "\n") + "\n")
	}
	return b.String()
}
