package spec_test

import (
	"errors"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/wschaos/wschaos/chaos"
	"github.com/wschaos/wschaos/chaos/spec"
)

type sel = map[string]string

func TestBuildMakesEachFault(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		sel  sel
		want string
	}{
		{"refuse", []string{"503"}, nil, "refuse 503"},
		{"refuse", []string{"503"}, sel{"retry-after": "10s"}, "refuse 503 retry-after=10s"},
		{"stall", nil, nil, "stall forever"},
		{"stall", []string{"forever"}, nil, "stall forever"},
		{"stall", []string{"5s"}, nil, "stall 5s"},
		{"reset-handshake", nil, nil, "reset-handshake"},
		{"accept-then-close", nil, nil, "accept-then-close code=1000"},
		{"accept-then-close", []string{"fin"}, nil, "accept-then-close fin"},
		{"accept-then-close", nil, sel{"code": "4001"}, "accept-then-close code=4001"},
		{"close-after", []string{"10s"}, nil, "close-after 10s code=1001"},
		{"close-after", []string{"10s"}, sel{"code": "4000", "reason": "bye"}, `close-after 10s code=4000 reason=bye`},
		{"fin-after", []string{"1s"}, nil, "fin-after 1s"},
		{"rst-after", []string{"1s"}, nil, "rst-after 1s"},
		{"black-hole-after", []string{"45s"}, nil, "black-hole-after 45s"},
		{"new-session-on-resume", nil, nil, "new-session-on-resume"},
		{"drop", nil, nil, "drop"},
		{"duplicate", nil, nil, "duplicate"},
		{"reorder", nil, nil, "reorder"},
		{"swallow-pongs", nil, nil, "swallow-pongs"},
		{"delay", []string{"5s"}, nil, "delay 5s"},
		{"jitter", []string{"100ms"}, nil, "jitter 100ms"},
		{"delay-pongs", []string{"29.999s"}, nil, "delay-pongs 29.999s"},
		{"seq-gap", []string{"3"}, nil, "seq-gap 3"},
		{"seq-duplicate", []string{"3"}, nil, "seq-duplicate 3"},
		{"seq-swap", []string{"3"}, nil, "seq-swap 3"},
		{"new-hello-after", []string{"4"}, nil, "new-hello-after 4"},
		{"flood-before-pongs", []string{"10"}, nil, "flood-before-pongs 10"},
	} {
		f, err := spec.Default().Build(tc.name, tc.args, tc.sel)
		if err != nil || f.String() != tc.want {
			t.Errorf("Build(%q, %q, %v) = %v, %v; want %q", tc.name, tc.args, tc.sel, f, err, tc.want)
		}
	}
}

func TestDefaultKnowsEveryRegisteredFault(t *testing.T) {
	var want []string
	for _, s := range chaos.Spellings() {
		want = append(want, s.Name)
	}
	if got := spec.Default().Names(); !slices.Equal(got, want) {
		t.Errorf("Names() = %q, want %q", got, want)
	}
}

func TestBuildAimsWithEachSelector(t *testing.T) {
	for _, tc := range []struct {
		sel  sel
		want string
	}{
		{sel{"type": "posted"}, "drop type=posted"},
		{sel{"index": "2"}, "drop index=2"},
		{sel{"dir": "server"}, "drop dir=server"},
		{sel{"dir": "client"}, "drop dir=client"},
		{sel{"every": "2"}, "drop every=2"},
		{sel{"prob": "0.5"}, "drop prob=0.5"},
		{sel{"first": "3"}, "drop first=3"},
		{sel{"from": "2"}, "drop from=2"},
		{sel{"attempts": "2"}, "drop attempts=2"},
		{sel{"attempts": "1,3-4"}, "drop attempts=1,3-4"},
		{sel{"attempts": "2,5-1000000000"}, "drop attempts=2,5-1000000000"},
		{sel{"during": "10s..1m"}, "drop during=10s..1m0s"},
		{sel{"during": "10s.."}, "drop during=10s.."},
		// All at once: the narrowest selector sits innermost.
		{
			sel{"during": "10s..1m", "attempts": "2", "from": "1", "first": "2", "prob": "1", "every": "3", "dir": "client", "index": "1", "type": "x"},
			"drop type=x index=1 dir=client every=3 prob=1 first=2 from=1 attempts=2 during=10s..1m0s",
		},
	} {
		f, err := spec.Default().Build("drop", nil, tc.sel)
		if err != nil || f.String() != tc.want {
			t.Errorf("Build(drop, %v) = %v, %v; want %q", tc.sel, f, err, tc.want)
		}
	}
}

func TestBuildErrorsNameTheField(t *testing.T) {
	for _, tc := range []struct {
		name        string
		args        []string
		sel         sel
		field, want string
	}{
		{"", nil, nil, "fault", "missing (known: accept-then-close, "},
		{"explode", nil, nil, "fault", `unknown fault "explode" (known: `},
		{"refuse", nil, nil, "args[0]", "missing an HTTP status"},
		{"refuse", []string{"soon"}, nil, "args[0]", `"soon" is not an HTTP status`},
		{"refuse", []string{"42"}, nil, "args[0]", "42 is not an HTTP status"},
		{"refuse", []string{"503"}, sel{"retry-after": "later"}, "select.retry-after", `"later" is not a duration`},
		{"stall", []string{"-1s"}, nil, "args[0]", `"-1s" is not a duration`},
		{"delay", nil, nil, "args[0]", "missing a duration"},
		{"delay-pongs", []string{"30"}, nil, "args[0]", `"30" is not a duration`},
		{"close-after", []string{"1s"}, sel{"code": "99"}, "select.code", `"99": want a close code a client may receive: 1000-1003, 1007-1013 or 3000-4999`},
		{"accept-then-close", nil, sel{"code": "x"}, "select.code", "want a close code"},
		{"seq-gap", []string{"three"}, nil, "args[0]", `"three" is not a seq`},
		{"flood-before-pongs", nil, nil, "args[0]", "missing a count"},
		{"drop", nil, sel{"atempts": "1"}, "select.atempts", "unknown selector (known: field, type, index, dir, every, prob, first, from, attempts, during)"},
		{"drop", nil, sel{"index": "0"}, "select.index", `"0": want a frame number from 1`},
		{"drop", nil, sel{"dir": "up"}, "select.dir", `"up": want "client" or "server"`},
		{"drop", nil, sel{"every": "0"}, "select.every", `"0": want a positive count`},
		{"drop", nil, sel{"prob": "2"}, "select.prob", `"2": want a probability in [0, 1]`},
		{"drop", nil, sel{"prob": "NaN"}, "select.prob", `"NaN": want a probability in [0, 1]`},
		{"seq-gap", []string{"-3"}, nil, "args[0]", "-3: want a seq from 0"},
		{"flood-before-pongs", []string{"0"}, nil, "args[0]", "0: want a count from 1"},
		{"drop", nil, sel{"first": "x"}, "select.first", "want a positive count"},
		{"drop", nil, sel{"from": "-1"}, "select.from", "want a positive count"},
		{"drop", nil, sel{"attempts": "3-1"}, "select.attempts", `"3-1": want attempt numbers`},
		{"drop", nil, sel{"during": "1m..10s"}, "select.during", `"1m..10s": want FROM..TO`},
		{"fin-after", []string{"1s"}, sel{"type": "x"}, "select.type", "selects frames, but fin-after 1s is not a frame fault"},
		{"refuse", []string{"503"}, sel{"dir": "server"}, "select.dir", "is not a frame fault"},
	} {
		_, err := spec.Default().Build(tc.name, tc.args, tc.sel)
		var se *spec.Error
		if !errors.As(err, &se) || se.Field != tc.field || !strings.Contains(se.Msg, tc.want) {
			t.Errorf("Build(%q, %q, %v) error %v, want field %q and %q", tc.name, tc.args, tc.sel, err, tc.field, tc.want)
		}
		if err != nil && err.Error() != tc.field+": "+se.Msg {
			t.Errorf("Error() = %q, want the field first", err)
		}
	}
}

func TestBuildLeavesTheSelectorsMapAlone(t *testing.T) {
	s := sel{"code": "4000", "reason": "bye", "attempts": "1"}
	if _, err := spec.Default().Build("close-after", []string{"1s"}, s); err != nil {
		t.Fatal(err)
	}
	if len(s) != 3 {
		t.Errorf("Build consumed the caller's map: %v", s)
	}
}

func TestABuilderExtendsACopyOfDefault(t *testing.T) {
	b := spec.Default()
	b.Makers["nothing"] = func([]string, map[string]string) (chaos.Fault, error) { return chaos.Drop(), nil }
	b.Makers["new-hello-after"] = func([]string, map[string]string) (chaos.Fault, error) {
		return nil, spec.Errorf("fault", "not here")
	}
	b.Selectors = append([]spec.Selector{{
		Key:    "even",
		Frames: true,
		Aim: func(f chaos.Fault, v string) (chaos.Fault, error) {
			return chaos.Match(func(fr chaos.Frame) bool { return fr.Index%2 == 0 }, f), nil
		},
	}}, b.Selectors...)

	if f, err := b.Build("nothing", nil, sel{"even": "", "dir": "server"}); err != nil || f.String() != "drop match=func dir=server" {
		t.Errorf("extended Build = %v, %v", f, err)
	}
	if _, err := b.Build("new-hello-after", []string{"1"}, nil); err == nil || err.Error() != "fault: not here" {
		t.Errorf("overridden maker gave %v", err)
	}
	if _, err := b.Build("drop", nil, sel{"even": "", "type": "x"}); err != nil {
		t.Errorf("an added frame selector on a frame fault: %v", err)
	}
	if _, err := b.Build("fin-after", []string{"1s"}, sel{"even": ""}); err == nil || !strings.Contains(err.Error(), "select.even: selects frames") {
		t.Errorf("an added frame selector on a conn fault: %v", err)
	}
	if _, err := b.Build("drop", nil, sel{"colour": "red"}); err == nil || !strings.Contains(err.Error(), "(known: even, field, type,") {
		t.Errorf("unknown selector error %v should list the added one", err)
	}

	// The default is untouched: a fresh one knows none of it.
	d := spec.Default()
	if _, ok := d.Makers["nothing"]; ok || len(d.Selectors) != 10 {
		t.Errorf("Default() shares state with an extended copy: %q, %d selectors", d.Names(), len(d.Selectors))
	}
	if f, err := d.Build("new-hello-after", []string{"1"}, nil); err != nil || f.String() != "new-hello-after 1" {
		t.Errorf("default new-hello-after = %v, %v", f, err)
	}
}

func TestIntArgAndCloseCodeHelpMakers(t *testing.T) {
	if n, err := chaos.IntArg([]string{"a", "7"}, 1, "a count"); n != 7 || err != nil {
		t.Errorf("IntArg = %d, %v", n, err)
	}
	var se *spec.Error
	if _, err := chaos.IntArg([]string{"a"}, 1, "a count"); !errors.As(err, &se) || se.Field != "args[1]" {
		t.Errorf("IntArg past the end: %v, want field args[1]", err)
	}
	s := sel{"code": "4001"}
	if c, err := spec.CloseCode(s, 1000); c != 4001 || err != nil || len(s) != 0 {
		t.Errorf("CloseCode = %d, %v, left %v", c, err, s)
	}
	if c, err := spec.CloseCode(sel{}, 1001); c != 1001 || err != nil {
		t.Errorf("CloseCode default = %d, %v", c, err)
	}
}

func TestWordsSplitsNameArgsAndSelectors(t *testing.T) {
	name, args, sel := spec.Words(strings.Fields("close-after 10s code=1001 attempts=1-3"))
	if name != "close-after" || len(args) != 1 || args[0] != "10s" || sel["code"] != "1001" || sel["attempts"] != "1-3" || len(sel) != 2 {
		t.Fatalf("Words = %q %q %v", name, args, sel)
	}
	if name, _, sel := spec.Words(nil); name != "" || sel == nil {
		t.Fatalf("Words(nil) = %q, %v; want no name and an empty map", name, sel)
	}
}

// A close code a client may not receive (1004-1006, 1014 for gorilla, 1015, 1016-2999) breaks
// the client with "bad close code" instead of testing its reconnect: it is
// refused where the fault is read, in scenario files and the API alike.
func TestCloseCodesAreThoseAClientMayReceive(t *testing.T) {
	for _, c := range []int{1000, 1001, 1002, 1003, 1007, 1011, 1013, 3000, 4000, 4999} {
		for _, name := range []string{"close-after", "accept-then-close"} {
			if _, err := spec.Default().Build(name, []string{"1s"}, sel{"code": strconv.Itoa(c)}); err != nil {
				t.Errorf("%s code=%d: %v", name, c, err)
			}
		}
	}
	for _, c := range []string{"999", "1004", "1005", "1006", "1014", "1015", "1016", "2500", "2999", "5000", "x"} {
		for _, name := range []string{"close-after", "accept-then-close"} {
			_, err := spec.Default().Build(name, []string{"1s"}, sel{"code": c})
			var se *spec.Error
			if !errors.As(err, &se) || se.Field != "select.code" || !strings.Contains(se.Msg, "1000-1003, 1007-1013 or 3000-4999") {
				t.Errorf("%s code=%s: %v, want select.code naming the allowed ranges", name, c, err)
			}
		}
	}
}

// A reason longer than a close frame carries (123 bytes) would be cut
// without a word; one not UTF-8 would make the client fail the connection
// with 1007. Both are refused.
func TestCloseReasonsTooLongOrNotUTF8AreRefused(t *testing.T) {
	ok := strings.Repeat("é", 61) + "x" // 123 bytes
	if f, err := spec.Default().Build("close-after", []string{"1s"}, sel{"reason": ok}); err != nil || !strings.Contains(f.String(), ok) {
		t.Errorf("a 123-byte reason: %v, %v", f, err)
	}
	for _, bad := range []string{ok + "y", strings.Repeat("x", 500), "\xff"} {
		_, err := spec.Default().Build("close-after", []string{"1s"}, sel{"reason": bad})
		var se *spec.Error
		if !errors.As(err, &se) || se.Field != "select.reason" {
			t.Errorf("reason of %d bytes: %v, want an error on select.reason", len(bad), err)
		}
	}
	_, err := spec.Default().Build("close-after", []string{"1s"}, sel{"reason": ok + "y"})
	if err == nil || !strings.Contains(err.Error(), "124 bytes: a close frame carries at most 123") {
		t.Errorf("error %v should say the length and the limit", err)
	}
}
