package conform

import (
	"fmt"
	"io/fs"
	"os"
	"path"
	"strings"

	"github.com/wschaos/wschaos/profile"
	"github.com/wschaos/wschaos/scenarios/library"
)

// libraryPath is where the library's files live in the repository: their
// path in messages, so a user can open or copy one.
const libraryPath = "scenarios/library"

// Library is the scenario library, parsed: one file per reconnect bug
// seen in the wild, in name order.
func Library() ([]*File, error) {
	var out []*File
	for _, name := range library.Names() {
		b, err := fs.ReadFile(library.FS, name)
		if err != nil {
			return nil, err
		}
		f, err := ParseFile(path.Join(libraryPath, name), string(b))
		if err != nil {
			return nil, fmt.Errorf("the scenario library: %w", err)
		}
		out = append(out, f)
	}
	return out, nil
}

// Set is everything that applies to p: the conformance set (All), then
// every other file of the library that does. A Go client's suite runs it
// all; each file's check lines are its verdict there.
func Set(p *profile.Profile) ([]Scenario, error) {
	var set []Scenario
	for _, s := range All() {
		if s.AppliesTo(p) {
			set = append(set, s)
		}
	}
	lib, err := Library()
	if err != nil {
		return nil, err
	}
	for _, f := range lib {
		if s := f.Scenario(); !f.generic() && s.AppliesTo(p) {
			set = append(set, s)
		}
	}
	return set, nil
}

// conformanceFiles are the library's files written for every profile:
// the conformance scenarios. The library is embedded and its test parses
// every file, so a file that does not parse here is a broken build.
func conformanceFiles() []Scenario {
	lib, err := Library()
	if err != nil {
		panic(fmt.Sprintf("conform: %v", err))
	}
	var out []Scenario
	for _, f := range lib {
		if f.generic() {
			out = append(out, f.Scenario())
		}
	}
	return out
}

// LibraryFile returns the library's file of that name, with or without
// its .txt, so `wschaos run close-while-waiting` works outside a checkout.
func LibraryFile(name string) (*File, bool) {
	lib, err := Library()
	if err != nil {
		return nil, false
	}
	for _, f := range lib {
		if f.Name() == strings.TrimSuffix(name, ".txt") {
			return f, true
		}
	}
	return nil, false
}

// WriteOutputs rewrites the file in place with the output each command
// brought in r, a run of the reference client in virtual time with
// Config.Rewrite: how a team fills in the outputs of its own file. A run
// that failed (a check said FAIL) is refused, naming the failure: the file
// would then expect the bug.
func (s *File) WriteOutputs(r Result) error {
	if !r.Passed {
		return fmt.Errorf("%s not rewritten: %s", s.path, r.Reason)
	}
	if len(r.Steps) != len(s.cmds) {
		return fmt.Errorf("%s not rewritten: the run saw %d of its %d commands", s.path, len(r.Steps), len(s.cmds))
	}
	var got [][]string
	for _, st := range r.Steps {
		got = append(got, st.Got)
	}
	return os.WriteFile(s.path, []byte(s.rewritten(got)), 0o644)
}
