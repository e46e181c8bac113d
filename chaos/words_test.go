package chaos_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/wschaos/wschaos/chaos"
	"github.com/wschaos/wschaos/chaos/spec"
	"github.com/wschaos/wschaos/profile"
)

// build makes the fault a line of words spells, as every reader does.
func build(t *testing.T, line string) (chaos.Fault, error) {
	t.Helper()
	name, args, opts := chaos.SplitWords(strings.Fields(line))
	for _, s := range chaos.Spellings() {
		if s.Name == name {
			return s.Make(args, opts)
		}
	}
	t.Fatalf("%q: no fault is registered as %q", line, name)
	return nil, nil
}

// Every registered fault documents itself and builds from its example,
// into a fault with at least one capability.
func TestEverySpellingBuildsItsExample(t *testing.T) {
	if len(chaos.Spellings()) < 20 {
		t.Fatalf("only %d spellings registered", len(chaos.Spellings()))
	}
	for _, s := range chaos.Spellings() {
		if s.Doc == "" || !strings.HasPrefix(s.Example, s.Name) {
			t.Errorf("%s: want a Doc and an Example that starts with the name, got %q, %q", s.Name, s.Doc, s.Example)
		}
		f, err := build(t, s.Example)
		if err != nil {
			t.Errorf("%s: example %q: %v", s.Name, s.Example, err)
			continue
		}
		_, h := f.(chaos.HandshakeFault)
		_, c := f.(chaos.ConnFault)
		_, fr := f.(chaos.FrameFault)
		if !h && !c && !fr {
			t.Errorf("%s: %v has no capability", s.Name, f)
		}
	}
}

func TestRegisterRefusesATakenNameOrAnEmptySpelling(t *testing.T) {
	for _, s := range []chaos.Spelling{
		{Name: "drop", Example: "drop", Make: func([]string, map[string]string) (chaos.Fault, error) { return nil, nil }},
		{Name: "x", Example: "x"},
		{Example: "x", Make: func([]string, map[string]string) (chaos.Fault, error) { return nil, nil }},
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("Register(%+v) did not panic", s)
				}
			}()
			chaos.Register(s)
		}()
	}
}

// Cut words are read in one place, for accept-then-close, cut-after and the
// scenario files' cut command alike.
func TestCutArgReadsEveryCutKind(t *testing.T) {
	def := chaos.Cut{Kind: chaos.CloseFrame, Code: 1000}
	for _, tc := range []struct {
		args []string
		opts map[string]string
		want string
	}{
		{nil, nil, "close 1000"},
		{[]string{"fin"}, nil, "FIN"},
		{[]string{"rst"}, nil, "RST"},
		{[]string{"black-hole"}, nil, "black hole"},
		{nil, map[string]string{"code": "4000", "reason": "bye"}, `close 4000 "bye"`},
		{[]string{"fin"}, map[string]string{"code": "1001"}, "close 1001"},
	} {
		c, err := chaos.CutArg(tc.args, 0, tc.opts, def)
		if err != nil || c.String() != tc.want {
			t.Errorf("CutArg(%q, %v) = %v, %v; want %s", tc.args, tc.opts, c, err, tc.want)
		}
	}
	_, err := chaos.CutArg([]string{"sideways"}, 0, nil, def)
	var we *chaos.WordError
	if !errors.As(err, &we) || we.Field != "args[0]" || !strings.Contains(we.Msg, "fin|rst|black-hole|code=N") {
		t.Errorf("CutArg(sideways) = %v, want an args[0] error naming the kinds", err)
	}
}

func TestParseSpansReadsAttemptRanges(t *testing.T) {
	spans, err := chaos.ParseSpans("1,3-4,7")
	if err != nil || len(spans) != 3 || spans[1] != (chaos.Span{From: 3, To: 4}) || spans[2] != (chaos.Span{From: 7, To: 7}) {
		t.Errorf("ParseSpans = %v, %v", spans, err)
	}
	for _, bad := range []string{"", "0", "3-1", "x", "1,,2", "-1"} {
		if _, err := chaos.ParseSpans(bad); err == nil {
			t.Errorf("ParseSpans(%q) gave no error", bad)
		}
	}
}

// String prints the words the parser reads: a fault built from its
// example prints the example back, and what it prints builds the same
// fault again, for every registered fault and the variants of its words.
func TestEveryFaultPrintsTheWordsThatMakeIt(t *testing.T) {
	lines := []string{
		"refuse 503", "stall forever", "stall 0s", "accept-then-close fin", "accept-then-close rst",
		"accept-then-close black-hole", "accept-then-close code=4001 reason=bye", "close-after 1m30s code=4000 reason=x",
		"cut-after 1 code=1001", "cut-after-bytes 1 black-hole",
	}
	for _, s := range chaos.Spellings() {
		lines = append(lines, s.Example)
	}
	for _, line := range lines {
		f, err := build(t, line)
		if err != nil {
			t.Errorf("%q: %v", line, err)
			continue
		}
		if f.String() != line {
			t.Errorf("%q prints %q", line, f.String())
			continue
		}
		if g, err := build(t, f.String()); err != nil || g.String() != line {
			t.Errorf("%q read back: %v, %v", line, g, err)
		}
	}
}

// A fault with selectors prints them as the words the parser reads, after
// the fault's own: the line builds the same fault again, for every
// selector, alone and together, and for faults built in Go.
func TestSelectorsPrintTheWordsThatMakeThem(t *testing.T) {
	lines := []string{
		"drop type=posted", "drop index=2", "drop dir=server", "drop dir=client", "drop every=3", "drop prob=0.5",
		"drop first=2", "drop from=2", "drop attempts=1,3-4", "drop during=10s..1m0s", "drop during=10s..",
		"drop field=data.user_id=u1", "refuse 503 retry-after=10s attempts=1-3",
		"close-after 10s code=4000 reason=bye attempts=2,4-6", "swallow-pongs every=3 first=2", "reset-handshake from=2",
		"delay 5s index=1 dir=server", "cut-after 3 rst dir=client during=1s..",
		"drop type=x index=1 dir=client every=3 prob=1 first=2 from=1 attempts=2 during=10s..1m0s",
	}
	for _, line := range lines {
		f, err := spec.Default().Line(strings.Fields(line))
		if err != nil {
			t.Errorf("%q: %v", line, err)
			continue
		}
		if f.String() != line {
			t.Errorf("%q prints %q", line, f.String())
		}
	}
	for _, f := range []chaos.Fault{
		chaos.OnAttempt(2, chaos.Dir(profile.Server, chaos.Delay(5*time.Second))),
		chaos.InAttempts([]chaos.Span{{From: 1, To: 1}, {From: 3, To: 1 << 40}}, chaos.Refuse(503)),
		chaos.During(time.Minute, 0, chaos.SwallowPongs()),
		chaos.EveryNth(2, chaos.Type("pong", chaos.Duplicate())),
		chaos.MatchField("event", "posted", chaos.Drop()),
	} {
		g, err := spec.Default().Line(strings.Fields(f.String()))
		if err != nil || g.String() != f.String() {
			t.Errorf("%q read back: %v, %v", f, g, err)
		}
	}
}
