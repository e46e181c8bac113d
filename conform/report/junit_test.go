package report

import (
	"bytes"
	"encoding/xml"
	"strings"
	"testing"

	"github.com/wschaos/wschaos/conform"
)

// The JUnit document as a CI system reads it.
type (
	readSuites struct {
		XMLName  xml.Name    `xml:"testsuites"`
		Tests    int         `xml:"tests,attr"`
		Failures int         `xml:"failures,attr"`
		Errors   int         `xml:"errors,attr"`
		Suites   []readSuite `xml:"testsuite"`
	}
	readSuite struct {
		Name     string     `xml:"name,attr"`
		Tests    int        `xml:"tests,attr"`
		Failures int        `xml:"failures,attr"`
		Errors   int        `xml:"errors,attr"`
		Time     string     `xml:"time,attr"`
		Cases    []readCase `xml:"testcase"`
	}
	readCase struct {
		Classname string       `xml:"classname,attr"`
		Name      string       `xml:"name,attr"`
		Time      string       `xml:"time,attr"`
		Failure   *readFailure `xml:"failure"`
		Error     *readFailure `xml:"error"`
		SystemErr string       `xml:"system-err"`
	}
	readFailure struct {
		Message string `xml:"message,attr"`
		Type    string `xml:"type,attr"`
		Body    string `xml:",chardata"`
	}
)

func readJUnit(t *testing.T, run *Run) readSuites {
	t.Helper()
	var b bytes.Buffer
	if err := WriteJUnit(&b, run); err != nil {
		t.Fatal(err)
	}
	var doc readSuites
	if err := xml.Unmarshal(b.Bytes(), &doc); err != nil {
		t.Fatalf("the JUnit report does not parse: %v\n%s", err, b.String())
	}
	return doc
}

func TestJUnitCountsAndFailures(t *testing.T) {
	doc := readJUnit(t, sampleRun())
	if doc.Tests != 2 || doc.Failures != 1 || len(doc.Suites) != 1 {
		t.Fatalf("testsuites: %d tests, %d failures, %d suites; want 2, 1, 1", doc.Tests, doc.Failures, len(doc.Suites))
	}
	s := doc.Suites[0]
	if s.Name != "wschaos conform queue" || s.Tests != 2 || s.Failures != 1 || s.Time != "11.800" {
		t.Errorf("testsuite %q: %d tests, %d failures, time %s", s.Name, s.Tests, s.Failures, s.Time)
	}
	if len(s.Cases) != 2 {
		t.Fatalf("%d test cases, want 2", len(s.Cases))
	}
	pass, fail := s.Cases[0], s.Cases[1]
	if pass.Classname != "wschaos.queue" || pass.Name != "backoff-grows: each failed reconnect doubles the wait, from 250ms" || pass.Time != "3.215" {
		t.Errorf("passing case: %+v", pass)
	}
	if pass.Failure != nil {
		t.Error("the passing case has a failure")
	}
	if fail.Failure == nil {
		t.Fatal("the failing case has no failure")
	}
	if want := failing().Reason; fail.Failure.Message != want || fail.Failure.Type != "conformance" {
		t.Errorf("failure message %q type %q, want %q conformance", fail.Failure.Message, fail.Failure.Type, want)
	}
	for _, want := range append(failing().Failures, "transcript:", "+7.733s    #7 dial /ws") {
		if !strings.Contains(fail.Failure.Body, want) {
			t.Errorf("failure body lacks %q", want)
		}
	}
	if !strings.Contains(fail.SystemErr, "warn retry in 9ms") || pass.SystemErr != "" {
		t.Errorf("system-err: passing %q, failing %q", pass.SystemErr, fail.SystemErr)
	}
}

func TestJUnitReplacesWhatXMLForbids(t *testing.T) {
	run := sampleRun()
	r := &run.Results[1]
	r.Reason = "bad \x00byte\x07 and ]]> <tag> & \"quote\"\nsecond line"
	r.Failures = []string{"\x1b[31mred\x1b[0m \x0b\x0c\ufffe\xff]]>"}
	r.Stderr = "nul\x00 esc\x1b bell\x07 ]]> end"
	doc := readJUnit(t, run)
	f := doc.Suites[0].Cases[1]
	if want := "bad \uFFFDbyte\uFFFD and ]]> <tag> & \"quote\"\nsecond line"; f.Failure.Message != want {
		t.Errorf("message %q, want %q", f.Failure.Message, want)
	}
	if want := "red \uFFFD\uFFFD\uFFFD\uFFFD]]>\n"; !strings.HasPrefix(f.Failure.Body, want) {
		t.Errorf("body starts %q, want %q", f.Failure.Body[:min(len(f.Failure.Body), 40)], want)
	}
	if want := "nul\uFFFD esc\uFFFD bell\uFFFD ]]> end"; f.SystemErr != want {
		t.Errorf("system-err %q, want %q", f.SystemErr, want)
	}
}

func TestJUnitAdapterErrorIsAnError(t *testing.T) {
	run := sampleRun()
	r := &run.Results[1]
	r.AdapterError = "line 3: not a JSON object"
	doc := readJUnit(t, run)
	s := doc.Suites[0]
	if doc.Errors != 1 || doc.Failures != 0 || s.Errors != 1 || s.Failures != 0 {
		t.Errorf("errors %d/%d, failures %d/%d: want the broken scenario an error, not a failure", doc.Errors, s.Errors, doc.Failures, s.Failures)
	}
	c := s.Cases[1]
	if c.Failure != nil || c.Error == nil || c.Error.Message != r.AdapterError || c.Error.Type != "adapter" {
		t.Errorf("case: failure %+v, error %+v", c.Failure, c.Error)
	}
}

// interruptedRun is sampleRun stopped by SIGTERM in its second scenario,
// with a third never started.
func interruptedRun() *Run {
	run := sampleRun()
	cut := &run.Results[1]
	cut.Interrupted = "gives-up was interrupted by SIGTERM before it finished: no verdict"
	cut.Reason = cut.Interrupted
	cut.Failures = append([]string{cut.Interrupted}, cut.Failures...)
	why := "not run: the run was interrupted by SIGTERM"
	run.Results = append(run.Results, conform.Result{Scenario: "close", Profile: "queue", NotRun: why, Reason: why, Failures: []string{why}})
	return run
}

// An interrupted scenario is an <error> (red on every CI page), one never
// run is <skipped> saying why, and neither counts as a failure of the
// client.
func TestJUnitMarksAnInterruptedRun(t *testing.T) {
	var b bytes.Buffer
	if err := WriteJUnit(&b, interruptedRun()); err != nil {
		t.Fatal(err)
	}
	doc := readJUnit(t, interruptedRun())
	s := doc.Suites[0]
	if s.Tests != 3 || s.Failures != 0 || s.Errors != 1 || !strings.Contains(b.String(), `skipped="1"`) {
		t.Errorf("suite: %d tests, %d failures, %d errors; want 3, 0, 1 and one skipped\n%s", s.Tests, s.Failures, s.Errors, b.String())
	}
	if e := s.Cases[1].Error; e == nil || e.Type != "interrupted" || !strings.Contains(e.Message, "interrupted by SIGTERM") {
		t.Errorf("the interrupted scenario: error %+v, failure %+v", e, s.Cases[1].Failure)
	}
	if !strings.Contains(b.String(), `<skipped message="not run: the run was interrupted by SIGTERM">`) {
		t.Errorf("the scenario not run is not marked skipped:\n%s", b.String())
	}
}

func TestJSONAndHTMLSayTheRunWasInterrupted(t *testing.T) {
	var j, h bytes.Buffer
	if err := WriteJSON(&j, interruptedRun()); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"passed": false`, `"interrupted": "gives-up was interrupted by SIGTERM`, `"not_run": "not run: the run was interrupted by SIGTERM"`} {
		if !strings.Contains(j.String(), want) {
			t.Errorf("report.json lacks %s", want)
		}
	}
	if err := WriteHTML(&h, interruptedRun()); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"<title>wschaos conform: example-client 1.4.0, queue: INTERRUPTED</title>", ">INTERRUPTED</span> gives-up", ">NOT RUN</span> close"} {
		if !strings.Contains(h.String(), want) {
			t.Errorf("report.html lacks %s", want)
		}
	}
}
