package proxy

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/wschaos/wschaos/chaos"
)

// FaultSpec is a fault as JSON, with the names and selectors of the
// scenario files' `fault` command:
//
//	{"fault": "delay", "args": ["5s"], "select": {"dir": "server", "type": "posted"}}
//
// Fault names the fault, Args are its positional arguments, Select its
// key=value words: selectors that aim it (type, index, dir, every, prob,
// first, from, attempts, during, and the proxy's field) and the options of
// some faults (code, reason, retry-after). Numbers may be given as JSON
// numbers or strings.
type FaultSpec struct {
	Fault  string            `json:"fault"`
	Args   []string          `json:"args,omitempty"`
	Select map[string]string `json:"select,omitempty"`
}

// SpecError is a bad fault spec; Field names the part that is wrong
// ("fault", "args[0]", "select.dir").
type SpecError struct {
	Field string
	Msg   string
}

func (e *SpecError) Error() string { return e.Field + ": " + e.Msg }

func specErr(field, format string, args ...any) *SpecError {
	return &SpecError{Field: field, Msg: fmt.Sprintf(format, args...)}
}

// UnmarshalJSON reads a spec strictly: an unknown key is an error, not a
// fault silently widened.
func (s *FaultSpec) UnmarshalJSON(b []byte) error {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		return specErr("spec", "want a JSON object like {\"fault\":\"delay\",\"args\":[\"5s\"]}: %v", err)
	}
	var out FaultSpec
	for k, v := range raw {
		switch k {
		case "fault":
			if err := json.Unmarshal(v, &out.Fault); err != nil {
				return specErr("fault", "want a fault name string")
			}
		case "args":
			var args []json.RawMessage
			if err := json.Unmarshal(v, &args); err != nil {
				return specErr("args", "want an array of strings or numbers")
			}
			for i, a := range args {
				s, err := scalar(a)
				if err != nil {
					return specErr(fmt.Sprintf("args[%d]", i), "%v", err)
				}
				out.Args = append(out.Args, s)
			}
		case "select":
			var sel map[string]json.RawMessage
			if err := json.Unmarshal(v, &sel); err != nil {
				return specErr("select", "want an object of selector names to values")
			}
			out.Select = map[string]string{}
			for sk, sv := range sel {
				s, err := scalar(sv)
				if err != nil {
					return specErr("select."+sk, "%v", err)
				}
				out.Select[sk] = s
			}
		default:
			return specErr(k, `unknown key (known: "fault", "args", "select")`)
		}
	}
	*s = out
	return nil
}

// scalar reads a JSON string or number as text.
func scalar(v json.RawMessage) (string, error) {
	var s string
	if json.Unmarshal(v, &s) == nil {
		return s, nil
	}
	var n json.Number
	d := json.NewDecoder(bytes.NewReader(v))
	d.UseNumber()
	if d.Decode(&n) == nil {
		return n.String(), nil
	}
	return "", fmt.Errorf("want a string or a number, got %s", v)
}

// ReadSpecs reads a faults file: a JSON array of FaultSpecs.
func ReadSpecs(r io.Reader) ([]FaultSpec, error) {
	var specs []FaultSpec
	d := json.NewDecoder(r)
	if err := d.Decode(&specs); err != nil {
		return nil, fmt.Errorf("failed to read fault specs: %w", err)
	}
	return specs, nil
}

// Build makes the fault s describes, reusing the chaos constructors.
func (s FaultSpec) Build() (chaos.Fault, error) {
	mk, ok := faultMakers[s.Fault]
	if !ok {
		if s.Fault == "" {
			return nil, specErr("fault", "missing (known: %s)", strings.Join(FaultNames(), ", "))
		}
		return nil, specErr("fault", "unknown fault %q (known: %s)", s.Fault, strings.Join(FaultNames(), ", "))
	}
	for i, a := range s.Args {
		if strings.Contains(a, "=") {
			return nil, specErr(fmt.Sprintf("args[%d]", i), "%q looks like a selector: put it in \"select\"", a)
		}
	}
	sel := map[string]string{}
	for k, v := range s.Select {
		sel[k] = v
	}
	f, err := mk(s.Args, sel)
	if err != nil {
		return nil, err
	}
	return aim(f, sel)
}

// FaultNames lists the fault names a FaultSpec may use.
func FaultNames() []string {
	names := make([]string, 0, len(faultMakers))
	for n := range faultMakers {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// selectorNames are the selectors aim knows, in the order it applies them
// (narrowest first).
var selectorNames = []string{"field", "type", "index", "dir", "every", "prob", "first", "from", "attempts", "during"}

// aim wraps f in the selectors sel names, narrowest first, and fails on
// any it does not know: a misspelt selector must not silently widen a
// fault.
func aim(f chaos.Fault, sel map[string]string) (chaos.Fault, error) {
	_, isFrame := f.(chaos.FrameFault)
	for _, k := range selectorNames {
		v, ok := sel[k]
		if !ok {
			continue
		}
		delete(sel, k)
		field := "select." + k
		switch k {
		case "field", "type", "index", "dir":
			if !isFrame {
				return nil, specErr(field, "selects frames, but %v is not a frame fault", f)
			}
		}
		var err error
		if f, err = aimOne(f, k, v); err != nil {
			return nil, specErr(field, "%v", err)
		}
	}
	for k := range sel {
		return nil, specErr("select."+k, "unknown selector (known: %s)", strings.Join(selectorNames, ", "))
	}
	return f, nil
}

func aimOne(f chaos.Fault, k, v string) (chaos.Fault, error) {
	switch k {
	case "field":
		path, value, err := parseField(v)
		if err != nil {
			return nil, err
		}
		return MatchField(path, value, f), nil
	case "type":
		return chaos.Type(v, f), nil
	case "index":
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return nil, fmt.Errorf("%q: want a frame number from 1", v)
		}
		return chaos.Index(n, f), nil
	case "dir":
		side, ok := sides[v]
		if !ok {
			return nil, fmt.Errorf(`%q: want "client" or "server"`, v)
		}
		return chaos.Dir(side, f), nil
	case "every":
		n, err := positive(v)
		return wrapIf(err, func() chaos.Fault { return chaos.EveryNth(n, f) })
	case "prob":
		p, err := strconv.ParseFloat(v, 64)
		if err != nil || p < 0 || p > 1 {
			return nil, fmt.Errorf("%q: want a probability in [0, 1]", v)
		}
		return chaos.Probability(p, f), nil
	case "first":
		n, err := positive(v)
		return wrapIf(err, func() chaos.Fault { return chaos.FirstN(n, f) })
	case "from":
		n, err := positive(v)
		return wrapIf(err, func() chaos.Fault { return chaos.FromAttempt(n, f) })
	case "attempts":
		ns, err := attemptList(v)
		return wrapIf(err, func() chaos.Fault { return chaos.OnAttempts(f, ns...) })
	case "during":
		a, b, ok := strings.Cut(v, "..")
		from, err1 := parseDuration(a)
		to, err2 := parseDuration(b)
		if !ok || err1 != nil || err2 != nil || to <= from {
			return nil, fmt.Errorf("%q: want FROM..TO, two durations like 10s..1m", v)
		}
		return chaos.During(from, to, f), nil
	}
	return nil, fmt.Errorf("unknown selector")
}

func wrapIf(err error, mk func() chaos.Fault) (chaos.Fault, error) {
	if err != nil {
		return nil, err
	}
	return mk(), nil
}

func positive(v string) (int, error) {
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		return 0, fmt.Errorf("%q: want a positive count", v)
	}
	return n, nil
}

// attemptList reads "2", "1,3" or "2-4".
func attemptList(v string) ([]int, error) {
	var ns []int
	for part := range strings.SplitSeq(v, ",") {
		a, b, isRange := strings.Cut(part, "-")
		lo, err1 := strconv.Atoi(a)
		hi, err2 := lo, error(nil)
		if isRange {
			hi, err2 = strconv.Atoi(b)
		}
		if err1 != nil || err2 != nil || lo < 1 || hi < lo {
			return nil, fmt.Errorf("%q: want attempt numbers like 2, 1,3 or 2-4", v)
		}
		for n := lo; n <= hi; n++ {
			ns = append(ns, n)
		}
	}
	return ns, nil
}
