package report

import (
	"bytes"
	"embed"
	"encoding/json"
	"fmt"
	"html/template"
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/wschaos/wschaos/conform"
)

// The page and its timeline picture are html/template templates, so every
// piece of text from the client or the server is escaped for the context
// it lands in, SVG included.
//
//go:embed report.html.tmpl timeline.svg.tmpl
var templates embed.FS

var page = template.Must(template.New("report.html.tmpl").Funcs(template.FuncMap{
	// n writes a coordinate: a tenth of a unit is finer than a screen shows.
	"n": func(v float64) string { return strconv.FormatFloat(v, 'f', 1, 64) },
	// add offsets a coordinate in the template, which has no arithmetic.
	"add": func(a, b float64) float64 { return a + b },
}).ParseFS(templates, "*.tmpl"))

// WriteHTML writes run as one self-contained HTML page: styles inline, the
// timelines inline SVG, no script and nothing fetched, so the file can be
// archived by CI and opened anywhere.
func WriteHTML(w io.Writer, run *Run) error {
	// Render to memory first: a template error must not leave half a page.
	var b bytes.Buffer
	if err := page.Execute(&b, newPage(run)); err != nil {
		return fmt.Errorf("failed to render the HTML report: %w", err)
	}
	if _, err := b.WriteTo(w); err != nil {
		return fmt.Errorf("failed to write the HTML report: %w", err)
	}
	return nil
}

// pageView is Run as the page shows it: text cleaned, durations formatted.
type pageView struct {
	Client, Profile, Adapter, Started, Wall string
	// Timing is how the windows were widened, and the calibration's
	// figures: lines of text.
	Timing                           []string
	Settings                         settings
	Total, Failed, Succeeded, Broken int
	Passed                           bool
	// Verdict is PASS, FAIL or INTERRUPTED: an interrupted run did not
	// fail its client, and did not pass it either.
	Verdict   string
	Scenarios []scenarioView
}

type scenarioView struct {
	ID, Name, Checks, Reason string
	AdapterError             string // the adapter failed, not the client
	Failures                 []string
	Passed                   bool
	Verdict                  string // as the summary table shows it: PASS, FAIL, ERROR, INTERRUPTED...
	GaveUp                   bool   // a wait came after the profile gave up: the legend explains the band
	Wall, End, Seed          string
	Settings                 settings
	Timeline                 timeline
	Waits                    []waitView
	Events                   []eventView
	Commands                 []commandView
	Transcript, Stderr       string
	// Steps: a scenario file's commands, what each was expected to bring
	// and what it brought.
	Steps []stepView
}

type waitView struct {
	Attempt, Failure   int
	From, Waited       string
	Window, Checked    string
	OK, GaveUp, Dialed bool
	Note               string
}

type eventView struct {
	At, Kind, Detail string
}

// commandView is a command given to the client and its reply.
type commandView struct {
	At, Command, Reply, After string
	OK                        bool
}

func newPage(run *Run) pageView {
	p := pageView{
		Client: clean(run.Client), Profile: clean(run.Profile), Adapter: clean(run.Adapter),
		Wall:     human(runWall(run)),
		Settings: settingsOf(run.Results),
		Total:    len(run.Results), Failed: run.Failed(), Succeeded: len(run.Results) - run.Failed(),
		Passed: run.Passed(), Broken: adapterErrors(run), Verdict: "FAIL",
	}
	switch {
	case run.Interrupted() != "":
		p.Verdict = "INTERRUPTED"
	case p.Passed:
		p.Verdict = "PASS"
	}
	if p.Client == "" {
		p.Client = "unnamed client"
	}
	if run.Timing != nil {
		for _, l := range strings.Split(run.Timing.String(), "\n") {
			p.Timing = append(p.Timing, clean(l))
		}
	}
	if !run.Started.IsZero() {
		p.Started = run.Started.Format("2006-01-02 15:04:05 MST")
	}
	for i, r := range run.Results {
		p.Scenarios = append(p.Scenarios, newScenario(i, r))
	}
	return p
}

func newScenario(i int, r conform.Result) scenarioView {
	s := scenarioView{
		ID:   fmt.Sprintf("scenario-%d", i+1),
		Name: clean(r.Scenario), Checks: clean(r.Checks),
		Passed: r.Passed, AdapterError: clean(r.AdapterError), Verdict: verdictOf(r),
		Wall: human(r.Wall), End: human(r.End), Seed: strconv.FormatUint(r.Seed, 10),
		Settings:   settingsFor(r),
		Timeline:   newTimeline(r),
		Transcript: clean(strings.TrimRight(r.Transcript, "\n")),
		Stderr:     clean(strings.TrimRight(r.Stderr, "\n")),
	}
	if !r.Passed {
		// Each failure is shown once: in the list, or as the reason when
		// there is no list. An adapter's failure has its own paragraph,
		// so it is not listed again.
		s.Reason = clean(reason(r))
		for _, f := range r.Failures {
			if f != r.AdapterError {
				s.Failures = append(s.Failures, clean(f))
			}
		}
		if r.AdapterError != "" && len(s.Failures) == 0 {
			s.Reason = ""
		}
	}
	for _, c := range r.Commands {
		s.Commands = append(s.Commands, commandView{At: human(c.At), Command: clean(c.Command), Reply: clean(c.Reply),
			After: human(c.ReplyAt - c.At), OK: c.OK})
	}
	for _, w := range r.Waits {
		s.GaveUp = s.GaveUp || w.GaveUp
		s.Waits = append(s.Waits, waitView{
			Attempt: w.Attempt, Failure: w.Failure,
			From: human(w.From), Waited: human(w.Waited),
			Window: window(w.Min, w.Max), Checked: window(w.Lo, w.Hi),
			OK: w.OK, GaveUp: w.GaveUp, Dialed: dialed(r.Marks, w.Attempt),
			Note: clean(w.Note),
		})
	}
	for _, st := range r.Steps {
		s.Steps = append(s.Steps, stepView{Line: st.Line, Command: clean(st.Command),
			Want: clean(strings.Join(st.Want, "\n")), Got: clean(strings.Join(st.Got, "\n")),
			Same: slices.Equal(st.Want, st.Got)})
	}
	for _, e := range r.Events {
		s.Events = append(s.Events, eventView{At: human(e.At), Kind: clean(string(e.Kind)), Detail: clean(eventDetail(e))})
	}
	return s
}

// stepView is one command of a scenario file, expected beside seen.
type stepView struct {
	Line      int
	Command   string
	Want, Got string
	Same      bool
}

// verdictOf is a scenario's outcome as the page shows it: an adapter's
// fault is an ERROR, unless the run was interrupted first.
func verdictOf(r conform.Result) string {
	if o := r.Outcome(); r.AdapterError == "" || o == "INTERRUPTED" || o == "NOT RUN" {
		return o
	}
	return "ERROR"
}

// eventDetail is the part of an event that says what happened.
func eventDetail(e conform.Event) string {
	switch e.Kind {
	case conform.EventState:
		return e.State
	case conform.EventMessage:
		var b bytes.Buffer
		if json.Compact(&b, e.Payload) != nil {
			b.Reset()
			b.Write(e.Payload)
		}
		return strings.TrimSpace(e.Type + " " + b.String())
	}
	return e.Message
}
