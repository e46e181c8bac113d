// Package spec turns a fault described in words — a name, positional
// arguments and key=value selectors — into a chaos.Fault. It is the one
// reader of the fault vocabulary shared by the scenario files
//
//	fault refuse 503 attempts=1-3
//
// and the proxy's JSON fault specs
//
//	{"fault": "refuse", "args": ["503"], "select": {"attempts": "1-3"}}
//
// Errors are *Error values that name the part that is wrong ("fault",
// "args[0]", "select.attempts"). Default returns a fresh Builder with the
// shared vocabulary, every fault the chaos package registers; a user that
// knows more faults or selectors adds them to its own copy.
package spec

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/wschaos/wschaos/chaos"
)

// Maker builds one named fault from its positional args; see chaos.Maker.
type Maker = chaos.Maker

// Selector aims a fault: Aim wraps f in the selector Key names, given its
// value. Frames marks selectors that pick frames (type, index, dir), which
// only a chaos.FrameFault may be given; the Builder checks, so Aim need not.
type Selector struct {
	Key    string
	Frames bool
	Aim    func(f chaos.Fault, v string) (chaos.Fault, error)
}

// Builder holds a fault vocabulary: Makers by fault name, and Selectors in
// the order Build applies them, narrowest first. Change a Builder from
// Default before use, not while it builds.
type Builder struct {
	Makers    map[string]Maker
	Selectors []Selector
}

// Default returns a new Builder with the faults the chaos package
// registers and its selectors. Each call returns its own copy, free to
// extend.
func Default() *Builder {
	makers := map[string]Maker{}
	for _, s := range chaos.Spellings() {
		makers[s.Name] = s.Make
	}
	return &Builder{Makers: makers, Selectors: defaultSelectors()}
}

// Error is a bad fault description; Field names the part that is wrong:
// "fault", "args[N]" or "select.KEY".
type Error = chaos.WordError

// Errorf returns an *Error on field with a formatted message.
func Errorf(field, format string, args ...any) *Error {
	return chaos.WordErrorf(field, format, args...)
}

// Build makes the fault name with positional args, aimed by the selectors
// and options in sel, which it does not modify. A misspelt selector is an
// error: it must not silently widen a fault.
func (b *Builder) Build(name string, args []string, sel map[string]string) (chaos.Fault, error) {
	mk, ok := b.Makers[name]
	if !ok {
		if name == "" {
			return nil, Errorf("fault", "missing (known: %s)", strings.Join(b.Names(), ", "))
		}
		return nil, Errorf("fault", "unknown fault %q (known: %s)", name, strings.Join(b.Names(), ", "))
	}
	rest := maps.Clone(sel)
	if rest == nil {
		rest = map[string]string{}
	}
	f, err := mk(args, rest)
	if err != nil {
		return nil, err
	}
	return b.aim(f, rest)
}

// Names lists the fault names b knows, sorted.
func (b *Builder) Names() []string {
	return slices.Sorted(maps.Keys(b.Makers))
}

// aim wraps f in the selectors sel names, narrowest first, and fails on
// any it does not know.
func (b *Builder) aim(f chaos.Fault, sel map[string]string) (chaos.Fault, error) {
	for _, s := range b.Selectors {
		v, ok := sel[s.Key]
		if !ok {
			continue
		}
		delete(sel, s.Key)
		field := "select." + s.Key
		if _, isFrame := f.(chaos.FrameFault); s.Frames && !isFrame {
			return nil, Errorf(field, "selects frames, but %v is not a frame fault", f)
		}
		var err error
		if f, err = s.Aim(f, v); err != nil {
			return nil, Errorf(field, "%v", err)
		}
	}
	for _, k := range slices.Sorted(maps.Keys(sel)) {
		keys := make([]string, len(b.Selectors))
		for i, s := range b.Selectors {
			keys[i] = s.Key
		}
		return nil, Errorf("select."+k, "unknown selector (known: %s)", strings.Join(keys, ", "))
	}
	return f, nil
}

// Words splits a fault written as words, "refuse 503 attempts=1-3", into
// its name, positional arguments and key=value selectors, as Build takes
// them. An empty line gives an empty name.
func Words(words []string) (name string, args []string, sel map[string]string) {
	return chaos.SplitWords(words)
}

// Line builds a fault written as one line of words, the form of the
// scenario files' fault command and of `wschaos serve --fault`. An error
// names the fault and the part that is wrong, `fault refuse: args[0]:
// "soon" is not an HTTP status like 503`; one that is about the name is
// its message alone, `unknown fault "explode" (known: ...)`.
func (b *Builder) Line(words []string) (chaos.Fault, error) {
	name, args, sel := Words(words)
	f, err := b.Build(name, args, sel)
	var se *Error
	if errors.As(err, &se) && se.Field == "fault" {
		return nil, errors.New(se.Msg)
	}
	if err != nil {
		return nil, fmt.Errorf("fault %s: %w", name, err)
	}
	return f, nil
}
