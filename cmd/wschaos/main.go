// Command wschaos is the wschaos tool: subcommands that run the harness's
// servers outside Go tests.
//
//	wschaos serve --profile mattermost
//	wschaos conform --profile queue --adapter "node examples/js/adapter.js"
//	wschaos run scenarios/library/close-while-waiting.txt --adapter "node my-adapter.js"
//	wschaos proxy --listen 127.0.0.1:8081 --upstream ws://127.0.0.1:8080/ws
//	wschaos profile show my-client.yaml
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
)

// subcommands maps each subcommand to its entry point; each parses its own
// flags from args (everything after its name).
var subcommands = map[string]func(args []string) error{
	"conform": runConform,
	"profile": runProfile,
	"proxy":   runProxy,
	"run":     runRun,
	"serve":   runServe,
}

// summaries is one line per subcommand, for usage.
var summaries = map[string]string{
	"conform": "check a client in any language against a profile's conformance scenarios",
	"profile": "list the shipped profiles, show one's schedule, check a profile file",
	"proxy":   "run a WebSocket chaos proxy in front of a real server",
	"run":     "play scenario files (a bug from the library, or your own) against a client",
	"serve":   "run the fake server with chaos and a live timeline of a client's reconnects",
}

func main() {
	if err := run(os.Args[1:], os.Stderr); err != nil {
		var pe printedError
		if !errors.Is(err, flag.ErrHelp) && !errors.As(err, &pe) {
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

// run dispatches args to a subcommand.
func run(args []string, stderr io.Writer) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(stderr)
		if len(args) == 0 {
			return errors.New("no subcommand")
		}
		return flag.ErrHelp
	}
	cmd, ok := subcommands[args[0]]
	if !ok {
		usage(stderr)
		return fmt.Errorf("unknown subcommand %q", args[0])
	}
	return cmd(args[1:])
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
