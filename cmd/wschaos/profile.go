package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/wschaos/wschaos/internal/filecodec"
	"github.com/wschaos/wschaos/profile"
)

// defaultProfile is the profile serve plays and conform checks when no
// --profile is given: one constant, so a bare `wschaos serve` and a bare
// `wschaos conform` mean the same contract.
const defaultProfile = "queue"

// profileFlag is the --profile flag's help on every command that takes one.
func profileFlag(what string) string {
	return what + ": a shipped profile (" + strings.Join(profile.Names(), "|") +
		") or a profile file's path (docs/profiles.md)"
}

// loadProfile reads --profile NAME|FILE: a shipped name, or a file read by
// the same loader as `wschaos profile check`. A misspelt name gets a
// did-you-mean; a bad file gets file:line: what is wrong.
func loadProfile(nameOrFile string) (*profile.Profile, error) {
	p, err := profile.Resolve(nameOrFile)
	if err != nil {
		return nil, fmt.Errorf("--profile: %w", err)
	}
	return p, nil
}

const profileUsage = `usage: wschaos profile list
       wschaos profile show NAME|FILE
       wschaos profile check FILE...

A profile is a client's protocol as data: its envelope, connect, backoff,
heartbeat, close codes, offline queue and resume (docs/profiles.md). Every
command that takes --profile takes a shipped profile's name or a file.

  list    one line per shipped profile: its name, then what it is
  show    the profile as a file reads (YAML), then the wait before the
          reconnect after each failure: where it stops growing, and
          whether it gives up
  check   read profile files; print "FILE: ok (profile NAME)" for each,
          or "FILE:LINE: what is wrong" on stderr and exit 2
`

// profileSubcommands are the verbs of `wschaos profile`.
var profileSubcommands = map[string]func(args []string, stdout, stderr io.Writer) error{
	"list":  profileList,
	"show":  profileShow,
	"check": profileCheck,
}

func runProfile(args []string, stdout, stderr io.Writer) error {
	return profileCmd(args, stdout, stderr)
}

// profileCmd is runProfile with its output given, for tests.
func profileCmd(args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		io.WriteString(stderr, profileUsage)
		return usageErr(errors.New("profile: want a subcommand: list, show or check"))
	}
	switch args[0] {
	case "-h", "-help", "--help", "help":
		io.WriteString(stdout, profileUsage)
		return flag.ErrHelp
	}
	cmd, ok := profileSubcommands[args[0]]
	if !ok {
		io.WriteString(stderr, profileUsage)
		return usageErr(fmt.Errorf("profile: unknown subcommand %q: want list, show or check%s", args[0],
			filecodec.DidYouMean(args[0], []string{"list", "show", "check"})))
	}
	return cmd(args[1:], stdout, stderr)
}

// profileFlags parses a verb's arguments: it has no flags, but -h prints
// the usage and a stray flag is a usage error, as on every other command.
func profileFlags(verb string, args []string, stdout io.Writer) ([]string, error) {
	fs := flag.NewFlagSet("profile "+verb, flag.ContinueOnError)
	fs.Usage = func() { io.WriteString(fs.Output(), profileUsage) }
	if err := parseFlags(fs, args, stdout); err != nil {
		return nil, usageErr(err)
	}
	return fs.Args(), nil
}

// profileList prints NAME  DESCRIPTION for each shipped profile, name
// first and no header, so `awk '{print $1}'` lists the names.
func profileList(args []string, stdout, stderr io.Writer) error {
	rest, err := profileFlags("list", args, stdout)
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		return usageErr(fmt.Errorf("profile list: unexpected arguments %q", rest))
	}
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	for _, name := range profile.Names() {
		fmt.Fprintf(tw, "%s\t%s\n", name, profile.ByName(name).Description)
	}
	return tw.Flush()
}

// profileShow prints the resolved profile as YAML, then its schedule as
// comments, so the whole output is itself a profile file that loads.
func profileShow(args []string, stdout, stderr io.Writer) error {
	rest, err := profileFlags("show", args, stdout)
	if err != nil {
		return err
	}
	if len(rest) != 1 {
		return usageErr(errors.New("profile show: want one profile: a shipped name or a file"))
	}
	p, err := profile.Resolve(rest[0])
	if err != nil {
		return usageErr(fmt.Errorf("profile show: %w", err))
	}
	y, err := profile.YAML(p)
	if err != nil {
		return fmt.Errorf("profile show: cannot write %s as YAML: %w", p.Name, err)
	}
	stdout.Write(y)
	fmt.Fprintln(stdout)
	for _, line := range describeSchedule(p) {
		fmt.Fprintln(stdout, "# "+line)
	}
	return nil
}

// profileCheck loads each file with the loader every command uses. A bad
// file is reported as the loader words it, file:line: what, alone on
// stderr, the form editors and CI annotations read.
func profileCheck(args []string, stdout, stderr io.Writer) error {
	files, err := profileFlags("check", args, stdout)
	if err != nil {
		return err
	}
	if len(files) == 0 {
		return usageErr(errors.New("profile check: want a profile file"))
	}
	bad := 0
	for _, f := range files {
		p, err := profile.Load(f)
		if err != nil {
			fmt.Fprintln(stderr, err)
			bad++
			continue
		}
		fmt.Fprintf(stdout, "%s: ok (profile %s)\n", f, p.Name)
	}
	if bad > 0 {
		return printed(exitUsage, fmt.Errorf("profile check: %d of %d files are not valid profiles", bad, len(files)))
	}
	return nil
}
