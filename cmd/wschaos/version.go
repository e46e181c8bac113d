package main

import (
	"flag"
	"fmt"
	"io"
	"runtime/debug"
	"strings"
)

const versionUsage = `usage: wschaos version

Prints the version of wschaos this binary was built from, as the Go
toolchain recorded it: the module version (v1.2.3 after go install
...@v1.2.3, "(devel)" when built from a checkout), the commit and its time
when built in a git checkout, and the Go version.
`

func runVersion(args []string, stdout, _ io.Writer) error { return versionCmd(args, stdout) }

// versionCmd is runVersion with its output given, for tests.
func versionCmd(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("version", flag.ContinueOnError)
	fs.Usage = func() { io.WriteString(fs.Output(), versionUsage) }
	if err := parseFlags(fs, args, stdout); err != nil {
		return usageErr(err)
	}
	if fs.NArg() > 0 {
		return usageErr(fmt.Errorf("version: unexpected arguments %q", fs.Args()))
	}
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		fmt.Fprintln(stdout, "wschaos: no build information in this binary")
		return nil
	}
	fmt.Fprintln(stdout, versionLine(bi))
	return nil
}

// versionLine is one line from the build info: module version, then the
// commit, its time and whether the tree had changes, then Go's version.
func versionLine(bi *debug.BuildInfo) string {
	v := bi.Main.Version
	if v == "" {
		v = "(devel)"
	}
	parts := []string{"wschaos " + v}
	set := map[string]string{}
	for _, s := range bi.Settings {
		set[s.Key] = s.Value
	}
	if rev := set["vcs.revision"]; rev != "" {
		commit := "commit " + rev[:min(12, len(rev))]
		if t := set["vcs.time"]; t != "" {
			commit += " (" + t + ")"
		}
		if set["vcs.modified"] == "true" {
			commit += " with local changes"
		}
		parts = append(parts, commit)
	}
	parts = append(parts, bi.GoVersion)
	return strings.Join(parts, ", ")
}
