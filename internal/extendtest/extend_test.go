// Package extendtest shows, in a package of its own so no other test sees
// them, that a Go user can register a codec and a backoff family and name
// them in profile files.
package extendtest_test

import (
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/wschaos/wschaos/backoff"
	"github.com/wschaos/wschaos/profile"
)

// upper is a Go user's own envelope: a frame is the type, upper-cased,
// then a space and the payload.
type upper struct {
	Sep string `yaml:"sep"`
}

func (u upper) Encode(m profile.Message) ([]byte, error) {
	return []byte(strings.ToUpper(m.Type) + u.Sep + string(m.Data)), nil
}

func (u upper) Decode(frame []byte, from profile.Side) (profile.Message, error) {
	typ, data, _ := strings.Cut(string(frame), u.Sep)
	k := profile.Event
	if from == profile.Client {
		k = profile.Request
	}
	return profile.Message{Kind: k, Type: strings.ToLower(typ), Data: []byte(data)}, nil
}

// twice is a Go user's own backoff family: Base, then twice the last.
type twice struct {
	Base time.Duration `yaml:"base"`
}

func (t twice) Delay(n int, _ time.Duration, _ *rand.Rand) (time.Duration, bool) {
	return t.Base << (n - 1), true
}

func (t twice) Window(n int, prev time.Duration) (backoff.Window, bool) {
	d, _ := t.Delay(n, prev, nil)
	return backoff.Window{Min: d, Max: d}, true
}

func init() {
	profile.RegisterCodec("test-upper", func() profile.Codec { return &upper{} })
	backoff.Register("test-twice", func() backoff.Policy { return &twice{} })
}

// A Go user's registered codec and family are named in a file like the
// shipped ones, read with their parameters, and written back.
func TestRegisteredCodecAndFamilyAreNamedInFiles(t *testing.T) {
	const file = `name: mine
envelope:
  codec: test-upper
  sep: "|"
backoff:
  family: test-twice
  base: 250ms
  retries: 3
close:
  code: 1000
`
	p, err := profile.Parse([]byte(file), "mine.yaml")
	if err != nil {
		t.Fatal(err)
	}
	frame, _ := p.Codec.Encode(profile.Message{Kind: profile.Request, Type: "hello", Data: []byte("x")})
	if string(frame) != "HELLO|x" {
		t.Errorf("the registered codec wrote %q, want HELLO|x", frame)
	}
	if w, ok := p.Backoff.Window(3, 0); !ok || w.Min != time.Second {
		t.Errorf("the registered family's wait after failure 3 = %v, %v; want 1s", w, ok)
	}
	if _, ok := p.Backoff.Window(4, 0); ok {
		t.Errorf("retries: 3 did not wrap the registered family")
	}
	out, err := profile.YAML(p)
	if err != nil || !strings.Contains(string(out), "codec: test-upper") || !strings.Contains(string(out), "family: test-twice") {
		t.Errorf("YAML = %s, %v; want the registered names", out, err)
	}
	if _, err := profile.Parse([]byte(strings.Replace(file, "sep:", "seperator:", 1)), "mine.yaml"); err == nil ||
		!strings.Contains(err.Error(), `mine.yaml:4: unknown key "seperator"`) {
		t.Errorf("a registered codec's unknown parameter: %v", err)
	}
}
