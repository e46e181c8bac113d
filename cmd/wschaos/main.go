// Command wschaos is the wschaos tool: subcommands that run the harness's
// servers outside Go tests.
//
//	wschaos serve --profile mattermost
//	wschaos conform --profile queue --adapter "node examples/js/adapter.js"
//	wschaos run scenarios/library/close-while-waiting.txt --adapter "node my-adapter.js"
//	wschaos proxy --listen 127.0.0.1:8081 --upstream ws://127.0.0.1:8080/ws
//	wschaos ctl faults add "delay 200ms dir=client"
//	wschaos profile show my-client.yaml
//	wschaos version
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
	"strings"

	"github.com/wschaos/wschaos/internal/filecodec"
)

// subcommands maps each subcommand to its entry point; each parses its own
// flags from args (everything after its name).
var subcommands = map[string]func(args []string, stdout, stderr io.Writer) error{
	"conform": runConform,
	"ctl":     runCtl,
	"profile": runProfile,
	"proxy":   runProxy,
	"run":     runRun,
	"serve":   runServe,
	"version": runVersion,
}

// summaries is one line per subcommand, for usage.
var summaries = map[string]string{
	"conform": "check a client in any language against a profile's conformance scenarios",
	"ctl":     "change a running proxy: faults, cuts, enable/disable, named proxies",
	"profile": "list the shipped profiles, show one's schedule, check a profile file",
	"proxy":   "run a WebSocket chaos proxy in front of a real server",
	"run":     "play scenario files (a bug from the library, or your own) against a client",
	"serve":   "run the fake server with chaos and a live timeline of a client's reconnects",
	"version": "print the version this binary was built from",
}

func main() {
	if err := run(os.Args[1:], os.Stdout, os.Stderr); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(0) // the help asked for is on stdout
		}
		var pe printedError
		if !errors.As(err, &pe) {
			fmt.Fprintln(os.Stderr, "wschaos:", err)
		}
		var ee *exitError
		if errors.As(err, &ee) {
			os.Exit(ee.code)
		}
		os.Exit(2)
	}
}

// printedError is an error its subcommand has already written to stderr in
// its own form (profile check's "file:line: what", which editors and CI
// annotations read): main exits with its code and writes nothing more.
type printedError struct{ *exitError }

func (e printedError) Unwrap() error { return e.exitError }

// printed marks err as written already, to exit with code.
func printed(code int, err error) error { return printedError{&exitError{code: code, err: err}} }

// run dispatches args to a subcommand. Help asked for (-h, --help, help)
// goes to stdout and returns flag.ErrHelp, an exit 0; a missing or
// unknown subcommand is a usage error, with the usage on stderr.
func run(args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		usage(stderr)
		return usageErr(errors.New("no subcommand"))
	}
	switch args[0] {
	case "-h", "-help", "--help":
		usage(stdout)
		return flag.ErrHelp
	case "help":
		if len(args) > 1 {
			return run([]string{args[1], "-h"}, stdout, stderr) // an unknown name gets its did-you-mean
		}
		usage(stdout)
		return flag.ErrHelp
	}
	cmd, ok := subcommands[args[0]]
	if !ok {
		if strings.HasPrefix(args[0], "-") {
			return usageErr(fmt.Errorf("%s: flags come after the subcommand, e.g. wschaos serve --addr 127.0.0.1:8080; run 'wschaos -h' for the subcommands", args[0]))
		}
		return usageErr(fmt.Errorf("unknown subcommand %q%s; run 'wschaos -h' for the subcommands", args[0], filecodec.DidYouMean(args[0], slices.Sorted(maps.Keys(subcommands)))))
	}
	return cmd(args[1:], stdout, stderr)
}

func usage(w io.Writer) {
	var b strings.Builder
	b.WriteString("usage: wschaos <subcommand> [flags]\n\nsubcommands:\n")
	names := make([]string, 0, len(subcommands))
	for n := range subcommands {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		fmt.Fprintf(&b, "  %-10s %s\n", n, summaries[n])
	}
	b.WriteString("\nRun 'wschaos <subcommand> -h' for its flags.\n")
	io.WriteString(w, b.String())
}
