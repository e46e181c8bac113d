package proxy

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/wschaos/wschaos/chaos"
	"github.com/wschaos/wschaos/chaos/spec"
)

// FaultSpec is a fault as JSON, with the names and selectors of the
// scenario files' `fault` command:
//
//	{"fault": "delay", "args": ["5s"], "select": {"dir": "server", "type": "posted"}}
//
// Fault names the fault, Args are its positional arguments, Select its
// key=value words: selectors that aim it (type, index, dir, every, prob,
// first, from, attempts, during, field) and the options of
// some faults (code, reason, retry-after). Numbers may be given as JSON
// numbers or strings.
type FaultSpec struct {
	Fault  string            `json:"fault"`
	Args   []string          `json:"args,omitempty"`
	Select map[string]string `json:"select,omitempty"`
}

// SpecError is a bad fault spec; Field names the part that is wrong
// ("fault", "args[0]", "select.dir").
type SpecError = spec.Error

func specErr(field, format string, args ...any) *SpecError {
	return spec.Errorf(field, format, args...)
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
	for i, a := range s.Args {
		if strings.Contains(a, "=") {
			return nil, specErr(fmt.Sprintf("args[%d]", i), "%q looks like a selector: put it in \"select\"", a)
		}
	}
	return builder.Build(s.Fault, s.Args, s.Select)
}

// FaultNames lists the fault names a FaultSpec may use.
func FaultNames() []string { return builder.Names() }
