package report

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/wschaos/wschaos/conform"
)

// jsonRun is Run as WriteJSON writes it: Run's fields in Run's order, plus
// what a reader of the file would otherwise compute (totals, durations as
// text). ReadJSON ignores the additions.
type jsonRun struct {
	Client    string          `json:"client"`
	Profile   string          `json:"profile"`
	Adapter   string          `json:"adapter,omitempty"`
	Timing    *conform.Timing `json:"timing,omitempty"`
	Started   time.Time       `json:"started"`
	WallNS    int64           `json:"wall_ns"`
	Wall      string          `json:"wall"`
	Passed    bool            `json:"passed"`
	Scenarios int             `json:"scenarios"`
	Failed    int             `json:"failed"`
	Results   []jsonResult    `json:"results"`
}

// jsonResult is a conform.Result as its own tags write it, plus its wall
// time as text, with the transcript as a list of its lines (one entry
// each), which a tool can index and filter without splitting text.
type jsonResult struct {
	conform.Result
	Wall       string   `json:"wall"`
	Transcript []string `json:"transcript"`
}

// transcriptLines is a transcript as its list of entries.
func transcriptLines(s string) []string {
	s = strings.TrimRight(s, "\n")
	if s == "" {
		return []string{}
	}
	return strings.Split(s, "\n")
}

// WriteJSON writes run as indented JSON. Field order is fixed by the
// types, so two runs diff cleanly; durations are integer nanoseconds (the
// _ns fields), with text beside the ones a person looks for.
func WriteJSON(w io.Writer, run *Run) error {
	out := jsonRun{
		Client: run.Client, Profile: run.Profile, Adapter: run.Adapter, Timing: run.Timing,
		Started: run.Started, WallNS: int64(run.Wall), Wall: human(run.Wall),
		Passed: run.Passed(), Scenarios: len(run.Results), Failed: run.Failed(),
		Results: make([]jsonResult, 0, len(run.Results)),
	}
	for _, r := range run.Results {
		out.Results = append(out.Results, jsonResult{Result: r, Wall: human(r.Wall), Transcript: transcriptLines(r.Transcript)})
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false) // the file is read as JSON, never pasted into HTML
	if err := enc.Encode(out); err != nil {
		return fmt.Errorf("failed to write the JSON report: %w", err)
	}
	return nil
}

// ReadJSON reads a run back from what WriteJSON wrote, so the other
// reports can be written again from a saved file.
func ReadJSON(r io.Reader) (*Run, error) {
	var in struct {
		Run
		Results []struct {
			conform.Result
			Transcript []string `json:"transcript"`
		} `json:"results"`
	}
	if err := json.NewDecoder(r).Decode(&in); err != nil {
		return nil, fmt.Errorf("failed to read the JSON report: %w", err)
	}
	run := in.Run
	run.Results = make([]conform.Result, 0, len(in.Results))
	for _, res := range in.Results {
		if len(res.Transcript) > 0 {
			res.Result.Transcript = strings.Join(res.Transcript, "\n") + "\n"
		}
		run.Results = append(run.Results, res.Result)
	}
	// Indenting the file indented the event payloads too; compact them
	// back to what the client sent.
	for i := range run.Results {
		for j, e := range run.Results[i].Events {
			if len(e.Payload) == 0 {
				continue
			}
			var b bytes.Buffer
			if err := json.Compact(&b, e.Payload); err == nil {
				run.Results[i].Events[j].Payload = b.Bytes()
			}
		}
	}
	return &run, nil
}
