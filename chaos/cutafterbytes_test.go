package chaos_test

import (
	"strings"
	"testing"

	"github.com/wschaos/wschaos/chaos"
	"github.com/wschaos/wschaos/profile"
)

// The connection is cut once, right after the frame that reaches the
// count, and each connection counts its own bytes.
func TestCutAfterBytesCutsOnceTheCountIsReached(t *testing.T) {
	f, err := build(t, "cut-after-bytes 10 code=4000 reason=cap")
	if err != nil {
		t.Fatal(err)
	}
	for attempt := 1; attempt <= 2; attempt++ {
		l := link(attempt)
		var cuts []string
		l.Cut = func(c chaos.Cut) { cuts = append(cuts, c.String()) }
		var passed int
		for i, data := range []string{"abcd", "efgh", "ijkl", "mnop"} {
			out := f.(chaos.FrameFault).Frame(l, chaos.Frame{Dir: profile.Server, Index: i + 1, Data: []byte(data)})
			passed += len(out)
			if i == 1 && len(cuts) != 0 {
				t.Fatalf("attempt %d: cut after 8 bytes: %q", attempt, cuts)
			}
		}
		if passed != 4 || strings.Join(cuts, ";") != `close 4000 "cap"` {
			t.Errorf("attempt %d: passed %d frames, cuts %q; want all 4 passed and one close 4000 after the third", attempt, passed, cuts)
		}
	}
	if got := f.String(); got != `cut-after-bytes 10 code=4000 reason=cap` {
		t.Errorf("String() = %q", got)
	}
}

func TestCutAfterBytesWords(t *testing.T) {
	for line, want := range map[string]string{
		"cut-after-bytes 5":            "cut-after-bytes 5 fin",
		"cut-after-bytes 5 rst":        "cut-after-bytes 5 rst",
		"cut-after-bytes 5 black-hole": "cut-after-bytes 5 black-hole",
	} {
		if f, err := build(t, line); err != nil || f.String() != want {
			t.Errorf("%s: %v, %v; want %s", line, f, err, want)
		}
	}
	for line, field := range map[string]string{
		"cut-after-bytes":          "args[0]",
		"cut-after-bytes 0":        "args[0]",
		"cut-after-bytes 5 gently": "args[1]",
		"cut-after-bytes 5 code=1": "select.code",
	} {
		if _, err := build(t, line); err == nil || !strings.HasPrefix(err.Error(), field+":") {
			t.Errorf("%s: error %v, want one on %s", line, err, field)
		}
	}
}
