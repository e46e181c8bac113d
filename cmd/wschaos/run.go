package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/wschaos/wschaos/conform"
	"github.com/wschaos/wschaos/profile"
)

const runUsage = `usage: wschaos run FILE|DIR... --adapter CMD [flags]
       wschaos run FILE|DIR... --reference [flags]

Plays scenario files against a client, to reproduce a reconnect bug: the
files of the scenario library (scenarios/library, docs/bugs.md; the binary
carries them, so "run close-while-waiting" works anywhere), or your own
(docs/scenarios.md). A directory stands for its *.txt files.

Each file runs under the profile its "# profile:" line names, or under
--profile; a file written for another profile, or needing what the
profile lacks ("# requires:"), is skipped with the reason. Through an
adapter the client runs on the real clock with the profile scaled, and
the file's check lines are the verdict; the report shows what each
command was expected to bring beside what it brought (--report-dir's
HTML and JSON). --reference plays the files on wschaos's reference client
in virtual time; with --exact every command's output must equal the
file's, and --rewrite writes what each brought into the file instead (a
check that says FAIL is never written: the run fails).

Exit codes are conform's: 0 every file that applied passed (or failed as
--expect-fail said), 1 a file failed, 2 bad command line, a file that
does not parse, or every file skipped, 3 the adapter could not start or
broke the protocol, 130 or 143 interrupted.

`

func runRun(args []string, stdout, _ io.Writer) error {
	ctx, stop := interruptible(context.Background())
	defer stop()
	return runCmd(ctx, args, stdout)
}

// runCmd is runRun with its output given, for tests.
func runCmd(ctx context.Context, args []string, out io.Writer) error {
	f := newCheckFlags("run", runUsage)
	prof := f.fs.String("profile", "", profileFlag("the profile to run every file under (default: each file's own)"))
	exact := f.fs.Bool("exact", false, "with --reference: every command's output must equal the file's")
	rewrite := f.fs.Bool("rewrite", false, "with --reference: write each command's output into the file (review the diff)")
	// Files and flags in any order: "run bug.txt --adapter CMD" reads as
	// a user writes it.
	var paths []string
	for rest := args; ; {
		if err := parseFlags(f.fs, rest, out); err != nil {
			return usageErr(err)
		}
		if f.fs.NArg() == 0 {
			break
		}
		paths = append(paths, f.fs.Arg(0))
		rest = f.fs.Args()[1:]
	}
	if len(paths) == 0 {
		return usageErr(errors.New("name at least one scenario file or directory (the library: scenarios/library)"))
	}
	if err := f.validate(); err != nil {
		return usageErr(err)
	}
	if (*exact || *rewrite) && !*f.reference {
		return usageErr(errors.New("--exact and --rewrite take the reference client's output in virtual time: they need --reference"))
	}
	var p *profile.Profile
	if *prof != "" {
		var err error
		if p, err = loadProfile(*prof); err != nil {
			return usageErr(err)
		}
	}
	files, err := loadScenarioFiles(append(paths, f.scenarioDirs...))
	if err != nil {
		return usageErr(err)
	}
	var set []conform.Scenario
	var names []string
	for _, file := range files {
		set = append(set, file.Scenario()) // one for every profile is skipped, with the reason, when the run names none
		names = append(names, file.Name())
	}
	for name := range f.expected {
		if !slices.Contains(names, name) {
			return usageErr(fmt.Errorf("--expect-fail %s: no such file among %s", name, strings.Join(names, ", ")))
		}
	}
	return execute(ctx, out, f, p, set, *exact || *rewrite, *rewrite)
}
