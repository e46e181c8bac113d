package report

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

func TestJSONRoundTrips(t *testing.T) {
	run := sampleRun()
	var b bytes.Buffer
	if err := WriteJSON(&b, run); err != nil {
		t.Fatal(err)
	}
	got, err := ReadJSON(&b)
	if err != nil {
		t.Fatal(err)
	}
	if !got.Started.Equal(run.Started) {
		t.Errorf("started %v, want %v", got.Started, run.Started)
	}
	got.Started = run.Started
	if !reflect.DeepEqual(got, run) {
		t.Errorf("read back a different run:\n got %+v\nwant %+v", got, run)
	}
}

func TestJSONFieldsInAFixedOrderWithTotals(t *testing.T) {
	var b bytes.Buffer
	if err := WriteJSON(&b, sampleRun()); err != nil {
		t.Fatal(err)
	}
	text := b.String()
	order := []string{`"client"`, `"profile"`, `"adapter"`, `"started"`, `"wall_ns": 11800000000`,
		`"wall": "11.8s"`, `"passed": false`, `"scenarios": 2`, `"failed": 1`, `"results"`}
	at := 0
	for _, field := range order {
		i := strings.Index(text[at:], field)
		if i < 0 {
			t.Fatalf("%s missing or out of order in\n%s", field, text[:min(len(text), 400)])
		}
		at += i
	}
	if !strings.Contains(text, `"wall": "3.215s"`) {
		t.Error("a result lacks its wall time as text")
	}
	if !strings.Contains(text, "\n  \"results\": [\n    {") {
		t.Error("the JSON is not indented by two spaces")
	}
	var generic map[string]any
	if err := json.Unmarshal(b.Bytes(), &generic); err != nil {
		t.Fatalf("not JSON: %v", err)
	}
}

// The transcript is a list of its entries, one line each, not one string.
func TestJSONTranscriptIsAListOfEntries(t *testing.T) {
	run := sampleRun()
	var b bytes.Buffer
	if err := WriteJSON(&b, run); err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Results []struct {
			Transcript []string `json:"transcript"`
		} `json:"results"`
	}
	if err := json.Unmarshal(b.Bytes(), &doc); err != nil {
		t.Fatalf("transcript is not a list: %v", err)
	}
	want := strings.Split(strings.TrimRight(run.Results[0].Transcript, "\n"), "\n")
	if got := doc.Results[0].Transcript; !reflect.DeepEqual(got, want) || len(got) < 2 {
		t.Errorf("transcript %q, want %q", got, want)
	}
}
