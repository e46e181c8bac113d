package report

import (
	"bytes"
	"html/template"
	"strings"
	"testing"

	"github.com/wschaos/wschaos/conform"
)

func TestHTMLWritesATimelinePerScenario(t *testing.T) {
	var b bytes.Buffer
	if err := WriteHTML(&b, sampleRun()); err != nil {
		t.Fatal(err)
	}
	page := b.String()
	if got := strings.Count(page, "<svg "); got != 2 {
		t.Errorf("%d svg elements, want one per scenario (2)", got)
	}
	for _, want := range []string{
		`class="timeline" id="timeline-scenario-1" data-scenario="backoff-grows"`,
		`data-scenario="gives-up"`,
		`<details class="transcript">`,
		`<a href="#scenario-2">gives-up</a>`,
		"2 scenarios: 1 passed, 1 failed",
		"attempt #7 dialed 250ms after failure 6",
	} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %q", want)
		}
	}
}

func TestHTMLIsSelfContained(t *testing.T) {
	var b bytes.Buffer
	if err := WriteHTML(&b, sampleRun()); err != nil {
		t.Fatal(err)
	}
	page := b.String()
	for _, bad := range []string{"<script", "<link", " src=", "@import"} {
		if strings.Contains(page, bad) {
			t.Errorf("page contains %q: it must need nothing from outside", bad)
		}
	}
}

func TestHTMLEscapesHostileText(t *testing.T) {
	run := sampleRun()
	r := &run.Results[1]
	r.Scenario = `gives-up"><img src=x onerror=alert(1)>`
	r.Reason = `<script>alert("reason")</script>`
	r.Failures = append(r.Failures, `</pre><script>alert("failure")</script>`)
	r.Marks[0].Text = `dial </title><script>alert("mark")</script>`
	r.Transcript += "</pre><script>alert('transcript')</script>\n"
	r.Stderr = "\x00\x07</details><script>alert(2)</script>"
	var b bytes.Buffer
	if err := WriteHTML(&b, run); err != nil {
		t.Fatal(err)
	}
	page := b.String()
	for _, bad := range []string{"<script", "<img", "\x00", "\x07", "\x1b"} {
		if strings.Contains(page, bad) {
			t.Errorf("page contains %q unescaped", bad)
		}
	}
	if !strings.Contains(page, "&lt;/pre&gt;&lt;script&gt;alert(&#34;failure&#34;)&lt;/script&gt;") {
		t.Error("the failure is not on the page, escaped")
	}
	r.Failures = nil // then the reason is what is shown
	b.Reset()
	if err := WriteHTML(&b, run); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), "&lt;script&gt;alert(&#34;reason&#34;)&lt;/script&gt;") {
		t.Error("the reason is not on the page, escaped")
	}
}

func TestHTMLNamesTheAdapterWhenItBroke(t *testing.T) {
	run := sampleRun()
	run.Results[1].AdapterError = "line 3: not a JSON object"
	var b bytes.Buffer
	if err := WriteHTML(&b, run); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{">ERROR</span>", "The adapter failed, not necessarily the client: line 3: not a JSON object", "(1 broken by the adapter)"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("page lacks %q", want)
		}
	}
}

// Each failure's text is on the page once: the summary links to the
// scenario, whose list says it. (It was in the summary, the reason line
// and the list.)
func TestHTMLSaysEachFailureOnce(t *testing.T) {
	run := sampleRun()
	var b bytes.Buffer
	if err := WriteHTML(&b, run); err != nil {
		t.Fatal(err)
	}
	page := b.String()
	for _, f := range run.Results[1].Failures {
		if n := strings.Count(page, template.HTMLEscapeString(f)); n != 1 {
			t.Errorf("%q is on the page %d times, want once", f, n)
		}
	}
	if !strings.Contains(page, `<a href="#scenario-2">3 failures, below</a>`) {
		t.Error("the summary does not link to the failures")
	}
	// An adapter's failure, which the result also lists first, is said
	// once, as the adapter's.
	run.Results[1].AdapterError = "line 3: not a JSON object"
	run.Results[1].Failures = append([]string{"line 3: not a JSON object"}, run.Results[1].Failures...)
	b.Reset()
	if err := WriteHTML(&b, run); err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(b.String(), "line 3: not a JSON object"); n != 1 {
		t.Errorf("the adapter's failure is on the page %d times, want once", n)
	}
}

// The commands given to the client and its replies are drawn on the
// timeline, in a row of their own, and listed.
func TestHTMLShowsTheCommandsAndReplies(t *testing.T) {
	run := sampleRun()
	run.Results[1].Commands = []conform.Command{
		{At: 0, ReplyAt: 2 * ms, Command: "connect ws://127.0.0.1:41237/ws", Reply: "ok", OK: true},
		{At: 300 * ms, ReplyAt: 301 * ms, Command: `send chat {"id":"m1"}`, Reply: "queue full", OK: false},
	}
	var b bytes.Buffer
	if err := WriteHTML(&b, run); err != nil {
		t.Fatal(err)
	}
	page := b.String()
	svg := page[strings.Index(page, `id="timeline-scenario-2"`):]
	svg = svg[:strings.Index(svg, "</svg>")]
	for _, want := range []string{
		`<text class="row-label" x="54.0" y="19" text-anchor="end">client</text>`,
		`<g class="command ok">`, "<title>&#43;0s connect ws://127.0.0.1:41237/ws\n→ ok, after 2ms</title>",
		`<g class="command bad">`, "send chat {&#34;id&#34;:&#34;m1&#34;}\n→ queue full, after 1ms",
	} {
		if !strings.Contains(svg, want) {
			t.Errorf("timeline lacks %q", want)
		}
	}
	for _, want := range []string{"<h3>Commands to the client</h3>", `<td class="mono">connect ws://127.0.0.1:41237/ws</td>`, `<span class="bad">queue full</span>`} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	// Two commands at one instant: the second's label would be drawn over
	// the first's, so only its shape and title are.
	run.Results[1].Commands[1].At, run.Results[1].Commands[1].ReplyAt = 0, ms
	b.Reset()
	if err := WriteHTML(&b, run); err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(b.String(), `text-anchor="middle">send</text>`); n != 0 || strings.Count(b.String(), `text-anchor="middle">connect</text>`) != 1 {
		t.Errorf("overlapping command labels drawn (%d send labels)", n)
	}
	if strings.Contains(page[:strings.Index(page, `id="timeline-scenario-2"`)], "Commands to the client") {
		t.Error("a scenario with no commands lists them")
	}
}
