package chaos

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/wschaos/wschaos/profile"
)

// Spelling is how a fault is written in words: the scenario files'
// `fault close-after 10s code=1001`, `wschaos serve --fault`, the proxy's
// JSON specs and the README's table all read the one Spelling each fault
// registers beside its type, so a new fault is one file and its test.
type Spelling struct {
	// Name is the fault's first word: "close-after".
	Name string
	// Usage is the words after the name, for docs: "D [code=N] [reason=TEXT]".
	Usage string
	// Doc says what the fault does to a client, in one sentence, for docs.
	Doc string
	// Example is a whole line in canonical words: the fault built from it
	// prints it back as its String(). The registry's tests and the docs'
	// table build it.
	Example string
	// OwnsSessions marks a fault only a server that owns the sessions can
	// make (a new connection id, a new hello): the proxy refuses it.
	OwnsSessions bool
	// Make builds the fault from the words after its name.
	Make Maker
}

// Maker builds one fault from its positional args. It removes the options
// it reads (code, reason, retry-after) from opts, which is the caller's
// own copy; the caller aims the fault with the selectors left in it.
type Maker func(args []string, opts map[string]string) (Fault, error)

var (
	registryMu sync.RWMutex
	registry   = map[string]Spelling{}
)

// Register adds a fault's spelling; each fault calls it from an init in
// its own file. It panics on a spelling without a name, maker or example,
// or on a name taken twice: both are mistakes of the program, found at
// start.
func Register(s Spelling) {
	if s.Name == "" || s.Make == nil || s.Example == "" {
		panic(fmt.Sprintf("chaos: Register(%q): a spelling needs a Name, Make and Example", s.Name))
	}
	registryMu.Lock()
	defer registryMu.Unlock()
	if _, dup := registry[s.Name]; dup {
		panic(fmt.Sprintf("chaos: Register(%q): the name is taken", s.Name))
	}
	registry[s.Name] = s
}

// Spellings returns every registered spelling, sorted by name.
func Spellings() []Spelling {
	registryMu.RLock()
	defer registryMu.RUnlock()
	out := make([]Spelling, 0, len(registry))
	for _, k := range slices.Sorted(maps.Keys(registry)) {
		out = append(out, registry[k])
	}
	return out
}

// WordError is a fault in words that cannot be built; Field names the part
// that is wrong: "fault", "args[N]" or "select.KEY".
type WordError struct {
	Field string
	Msg   string
}

func (e *WordError) Error() string { return e.Field + ": " + e.Msg }

// WordErrorf returns a *WordError on field with a formatted message.
func WordErrorf(field, format string, args ...any) *WordError {
	return &WordError{Field: field, Msg: fmt.Sprintf(format, args...)}
}

// SplitWords splits a fault written as words, "refuse 503 attempts=1-3",
// into its name, positional arguments and key=value options and
// selectors. No words give an empty name.
func SplitWords(words []string) (name string, args []string, opts map[string]string) {
	opts = map[string]string{}
	if len(words) == 0 {
		return "", nil, opts
	}
	for _, w := range words[1:] {
		if k, v, ok := strings.Cut(w, "="); ok {
			opts[k] = v
		} else {
			args = append(args, w)
		}
	}
	return words[0], args, opts
}

// TakeOpt removes and returns option k of opts.
func TakeOpt(opts map[string]string, k string) (string, bool) {
	v, ok := opts[k]
	delete(opts, k)
	return v, ok
}

// IntArg reads args[i] as an integer; what says what it should be ("a
// count") in the error.
func IntArg(args []string, i int, what string) (int, error) {
	field := fmt.Sprintf("args[%d]", i)
	if len(args) <= i {
		return 0, WordErrorf(field, "missing %s", what)
	}
	n, err := strconv.Atoi(args[i])
	if err != nil {
		return 0, WordErrorf(field, "%q is not %s", args[i], what)
	}
	return n, nil
}

// CountArg reads args[i] as a count from 1.
func CountArg(args []string, i int, what string) (int, error) {
	n, err := IntArg(args, i, what)
	if err == nil && n < 1 {
		err = WordErrorf(fmt.Sprintf("args[%d]", i), "%d: want %s from 1", n, what)
	}
	return n, err
}

// DurationArg reads args[i] as a non-negative Go duration.
func DurationArg(args []string, i int) (time.Duration, error) {
	field := fmt.Sprintf("args[%d]", i)
	if len(args) <= i {
		return 0, WordErrorf(field, "missing a duration like 45s")
	}
	d, err := ParseDuration(args[i])
	if err != nil {
		return 0, WordErrorf(field, "%q is not a duration like 45s or 29.999s", args[i])
	}
	return d, nil
}

// ParseDuration reads a non-negative Go duration.
func ParseDuration(s string) (time.Duration, error) {
	d, err := time.ParseDuration(s)
	if err == nil && d < 0 {
		err = fmt.Errorf("negative duration %v", d)
	}
	return d, err
}

// ParseRange reads "N" or "LO-HI", both ends included: the one reading of
// the attempt ranges of selectors and scenario files.
func ParseRange(v string) (lo, hi int, err error) {
	a, b, isRange := strings.Cut(v, "-")
	lo, err1 := strconv.Atoi(a)
	hi, err2 := lo, error(nil)
	if isRange {
		hi, err2 = strconv.Atoi(b)
	}
	if err1 != nil || err2 != nil || hi < lo {
		return 0, 0, fmt.Errorf("%q: want a number or a range like 1-5", v)
	}
	return lo, hi, nil
}

// ParseSpans reads attempt numbers "2", "1,3" or "2-4" as Spans.
func ParseSpans(v string) ([]Span, error) {
	var spans []Span
	for part := range strings.SplitSeq(v, ",") {
		lo, hi, err := ParseRange(part)
		if err != nil || lo < 1 {
			return nil, fmt.Errorf("%q: want attempt numbers like 2, 1,3 or 2-4", v)
		}
		spans = append(spans, Span{From: lo, To: hi})
	}
	return spans, nil
}

// spanWords writes spans as ParseSpans reads them.
func spanWords(spans []Span) string {
	strs := make([]string, len(spans))
	for i, s := range spans {
		if s.To <= s.From {
			strs[i] = strconv.Itoa(s.From)
		} else {
			strs[i] = fmt.Sprintf("%d-%d", s.From, s.To)
		}
	}
	return strings.Join(strs, ",")
}

// CloseCode takes option code from opts: a WebSocket close code a client
// may receive (ValidCloseCode), def if there is none.
func CloseCode(opts map[string]string, def profile.StatusCode) (profile.StatusCode, error) {
	v, ok := TakeOpt(opts, "code")
	if !ok {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || !ValidCloseCode(n) {
		return 0, WordErrorf("select.code", "%q: want a close code a client may receive: %s", v, closeCodeRanges)
	}
	return profile.StatusCode(n), nil
}

// closeCodeRanges says in words what ValidCloseCode accepts.
const closeCodeRanges = "1000-1003, 1007-1013 or 3000-4999"

// ValidCloseCode reports whether a server may send code in a close frame:
// RFC 6455 7.4 (1000-1003, 1007-1011), the IANA registry's 1012-1013, and
// the application range 3000-4999. 1004 is reserved, 1005, 1006 and 1015
// are what an endpoint reports when no code, no close frame or no TLS
// came, and 1016-2999 are unassigned: a client that checks (Node's ws,
// browsers) fails the connection on any of them instead of reconnecting
// as the fault meant it to. 1014 (Bad Gateway) is in the registry, but
// gorilla/websocket, and so the reference client and many Go clients,
// refuses it on receipt as a protocol error: it is left out too.
func ValidCloseCode(code int) bool {
	switch {
	case code >= 1000 && code <= 1003, code >= 1007 && code <= 1013:
		return true
	}
	return code >= 3000 && code <= 4999
}

// MaxCloseReason is the longest close reason, in bytes, a close frame
// carries: 125 bytes of control frame payload less the 2-byte code.
const MaxCloseReason = 123

// CloseReason takes option reason from opts, "" if there is none. A reason
// longer than MaxCloseReason is refused rather than cut where no one sees
// it, and one not UTF-8 too: a client fails the connection with 1007 on it.
func CloseReason(opts map[string]string) (string, error) {
	v, _ := TakeOpt(opts, "reason")
	if len(v) > MaxCloseReason {
		return "", WordErrorf("select.reason", "%d bytes: a close frame carries at most %d", len(v), MaxCloseReason)
	}
	if !utf8.ValidString(v) {
		return "", WordErrorf("select.reason", "%q is not UTF-8, which a close reason must be", v)
	}
	return v, nil
}

// cutWordsUsage is what CutArg reads, for docs and errors.
const cutWordsUsage = "fin|rst|black-hole|code=N [reason=TEXT]"

// CutArg reads how to cut, the one reading of cut words: option code=N
// (with reason=TEXT) is a close frame; else args[i] is "fin", "rst" or
// "black-hole"; with neither, def with defCode as its close code.
func CutArg(args []string, i int, opts map[string]string, def Cut) (Cut, error) {
	if _, ok := opts["code"]; ok || def.Kind == CloseFrame && len(args) <= i {
		code, err := CloseCode(opts, def.Code)
		if err != nil {
			return Cut{}, err
		}
		reason, err := CloseReason(opts)
		if reason == "" && err == nil {
			reason = def.Reason
		}
		return Cut{Kind: CloseFrame, Code: code, Reason: reason}, err
	}
	if len(args) <= i {
		return def, nil
	}
	for k, w := range cutWords {
		if args[i] == w && k != CloseFrame {
			return Cut{Kind: k}, nil
		}
	}
	return Cut{}, WordErrorf(fmt.Sprintf("args[%d]", i), "%q: want %s", args[i], cutWordsUsage)
}

// cutWords are the words of the cut kinds but a close frame, which is
// written code=N.
var cutWords = map[CutKind]string{FIN: "fin", RST: "rst", BlackHole: "black-hole"}

// Words writes c as CutArg reads it: "fin", "code=1001 reason=bye". A
// reason with a space cannot be written in one word; it is quoted, which
// a scenario file reads back with the quotes.
func (c Cut) Words() string {
	if c.Kind != CloseFrame {
		return cutWords[c.Kind]
	}
	s := fmt.Sprintf("code=%d", c.Code)
	if c.Reason != "" {
		r := c.Reason
		if strings.ContainsAny(r, " \t\n") {
			r = strconv.Quote(r)
		}
		s += " reason=" + r
	}
	return s
}

// plain makes a fault without arguments.
func plain(f Fault) Maker {
	return func([]string, map[string]string) (Fault, error) { return f, nil }
}

// durationMaker makes a fault of one duration argument.
func durationMaker[F Fault](mk func(time.Duration) F) Maker {
	return func(args []string, _ map[string]string) (Fault, error) {
		d, err := DurationArg(args, 0)
		if err != nil {
			return nil, err
		}
		return mk(d), nil
	}
}

// seqMaker makes a fault of one seq argument.
func seqMaker[F Fault](mk func(int64) F) Maker {
	return func(args []string, _ map[string]string) (Fault, error) {
		n, err := IntArg(args, 0, "a seq")
		if err != nil {
			return nil, err
		}
		if n < 0 {
			return nil, WordErrorf("args[0]", "%d: want a seq from 0 (no event has a negative one)", n)
		}
		return mk(int64(n)), nil
	}
}

// countCutMaker makes a fault of a count from 1 (what says of what) and
// cut words, FIN unless told: "cut-after 3 rst".
func countCutMaker(what string, mk func(int, Cut) FrameFault) Maker {
	return func(args []string, opts map[string]string) (Fault, error) {
		n, err := CountArg(args, 0, what)
		if err != nil {
			return nil, err
		}
		c, err := CutArg(args, 1, opts, Cut{Kind: FIN})
		if err != nil {
			return nil, err
		}
		return mk(n, c), nil
	}
}
