package conform

import (
	"fmt"
	"io/fs"
	"path"

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

// Set is the conformance set for p: the Go scenarios that apply to it,
// then every file of the library that does. A Go client's suite runs it
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
		if s := f.Scenario(); s.AppliesTo(p) {
			set = append(set, s)
		}
	}
	return set, nil
}
