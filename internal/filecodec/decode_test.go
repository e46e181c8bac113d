package filecodec_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/wschaos/wschaos/internal/filecodec"
)

type section struct {
	On    bool            `yaml:"on"`
	Wait  time.Duration   `yaml:"wait"`
	Data  json.RawMessage `yaml:"data,omitempty"`
	Inner *inner          `yaml:"inner,omitempty"`
}

type inner struct {
	Need string `yaml:"need"`
}

func (i *inner) Validate() error {
	if i.Need == "" {
		return &filecodec.FieldError{Field: "need", Msg: "is required"}
	}
	return nil
}

func decode(t *testing.T, text string, skip ...string) (section, error) {
	t.Helper()
	n, err := filecodec.Parse([]byte(text))
	if err != nil {
		t.Fatal(err)
	}
	var s section
	return s, (&filecodec.Decoder{}).DecodeFields(n, &s, skip...)
}

// YAML's core schema reads True and TRUE as true; so must we.
func TestBooleansInAnyCase(t *testing.T) {
	for _, v := range []string{"true", "True", "TRUE"} {
		s, err := decode(t, "on: "+v+"\nwait: 1s\n")
		if err != nil || !s.On {
			t.Errorf("on: %s read as %v, %v; want true", v, s.On, err)
		}
	}
}

// A key the section lacks is blamed on the line that names the section.
func TestMissingKeyIsBlamedOnItsSection(t *testing.T) {
	_, err := decode(t, "wait: 1s\ninner:\n  other: x\n")
	if err == nil || !strings.HasPrefix(err.Error(), "3: unknown key") {
		t.Errorf("got %v, want the unknown key at line 3", err)
	}
	_, err = decode(t, "wait: 1s\ninner: {}\n")
	if err == nil || err.Error() != "2: inner: need: is required" {
		t.Errorf("got %v, want line 2, naming the section", err)
	}
}

// Keys the caller reads itself still count for "did you mean".
func TestSkippedKeysAreSuggested(t *testing.T) {
	_, err := decode(t, "wait: 1s\nretrys: 3\n", "retries")
	if err == nil || !strings.Contains(err.Error(), `did you mean "retries"`) {
		t.Errorf("got %v, want a suggestion of the skipped key retries", err)
	}
}

// Raw JSON data keeps its numbers exactly through a write and a read.
func TestRawNumbersSurviveTheRoundTrip(t *testing.T) {
	s, err := decode(t, "wait: 1s\ndata: {big: 9007199254740993, x: 1.5}\n")
	if err != nil {
		t.Fatal(err)
	}
	m, err := (&filecodec.Encoder{}).Encode(s)
	if err != nil {
		t.Fatal(err)
	}
	y, err := filecodec.YAML(m)
	if err != nil {
		t.Fatal(err)
	}
	back, err := decode(t, string(y))
	if err != nil {
		t.Fatalf("%v\n%s", err, y)
	}
	if string(back.Data) != string(s.Data) || !strings.Contains(string(s.Data), "9007199254740993") {
		t.Errorf("data %s came back as %s (written %s)", s.Data, back.Data, y)
	}
}
