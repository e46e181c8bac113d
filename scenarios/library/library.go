// Package library is wschaos's scenario library: one scenario file per
// reconnect bug seen in the wild, each reproducing the bug's shape against
// the fake server. `wschaos run` plays any of them against a client, and
// `wschaos conform` plays those that apply to the client's profile.
//
// The files are embedded so the command runs them from anywhere; their
// format is docs/scenarios.md's.
package library

import (
	"embed"
	"io/fs"
	"path"
	"slices"
)

//go:embed *.txt
var files embed.FS

// FS holds the library's files, at its root.
var FS fs.FS = files

// Names lists the library's files, sorted.
func Names() []string {
	entries, _ := fs.ReadDir(files, ".")
	var out []string
	for _, e := range entries {
		if path.Ext(e.Name()) == ".txt" {
			out = append(out, e.Name())
		}
	}
	slices.Sort(out)
	return out
}
