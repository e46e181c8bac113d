package report

import (
	"bytes"
	"strings"
	"testing"
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
	if !strings.Contains(page, "&lt;script&gt;alert(&#34;reason&#34;)&lt;/script&gt;") {
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
