package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/wschaos/wschaos/conform"
	"github.com/wschaos/wschaos/conform/report"
	"github.com/wschaos/wschaos/profile"
)

// Exit codes of wschaos conform (docs/adapter.md).
const (
	exitFailed  = 1 // a scenario failed
	exitUsage   = 2 // bad command line
	exitAdapter = 3 // the adapter could not start or broke the protocol
	// exitSignal plus the signal's number is the exit of a run a signal
	// interrupted (130 SIGINT, 143 SIGTERM): what a shell reports for a
	// process the signal killed, so a CI timeout stays a failure.
	exitSignal = 128
)

// exitError carries a process exit code up to main.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

const conformUsage = `usage: wschaos conform --adapter CMD [flags]
       wschaos conform --reference [flags]

Runs the conformance scenarios of a profile against a client and exits
non-zero if any fails. The client is driven through an adapter: a program
started with sh -c, once per scenario, that speaks the line-based JSON
protocol of docs/adapter.md on its stdin and stdout. --reference checks
wschaos's own reference client instead, in process, on a virtual clock.

The client runs on the real clock, so the profile's timing constants are
multiplied by --scale (told to the adapter in its connect command) and
each wait is checked against its window widened by --early and --late.

Exit codes: 0 every scenario passed (or failed as --expect-fail said), 1 a
scenario failed (or an expected failure passed), 2 bad command line, 3 the
adapter could not start, broke the protocol, or exited mid-scenario, 130 or
143 interrupted by SIGINT or SIGTERM: the running scenario is INTERRUPTED,
the rest NOT RUN, and the reports are written. A second signal ends conform
at once.

`

func runConform(args []string) error {
	ctx, stop := interruptible(context.Background())
	defer stop()
	return conformCmd(ctx, args, os.Stdout)
}

// interrupt is the cause of a run cancelled by a signal.
type interrupt struct{ sig syscall.Signal }

func (i interrupt) Error() string { return "interrupted by " + signalName(i.sig) }

func signalName(sig syscall.Signal) string {
	switch sig {
	case syscall.SIGINT:
		return "SIGINT"
	case syscall.SIGTERM:
		return "SIGTERM"
	}
	return sig.String()
}

// interruptible is a context the first SIGINT or SIGTERM cancels, with an
// interrupt as its cause, so the run can name the signal and exit with its
// code. The signals' default action is then restored: a second one ends
// the process at once, for a user who will not wait for the cleanup.
func interruptible(parent context.Context) (context.Context, func()) {
	ctx, cancel := context.WithCancelCause(parent)
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, os.Interrupt, syscall.SIGTERM)
	go func() {
		select {
		case s := <-ch:
			signal.Stop(ch)
			sig, _ := s.(syscall.Signal)
			cancel(interrupt{sig})
		case <-ctx.Done():
		}
	}()
	return ctx, func() { signal.Stop(ch); cancel(nil) }
}

// conformCmd is runConform with its output given, for tests.
func conformCmd(ctx context.Context, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("conform", flag.ContinueOnError)
	fs.Usage = func() { fmt.Fprint(fs.Output(), conformUsage); fs.PrintDefaults() }
	adapter := fs.String("adapter", "", `the adapter's command line, e.g. "node examples/js/adapter.js"`)
	reference := fs.Bool("reference", false, "check the reference client, in process, in virtual time")
	prof := fs.String("profile", defaultProfile, profileFlag("the profile to check against"))
	scale := fs.Float64("scale", 0.25, "multiply every timing constant of the profile by this (1: real speed)")
	early := fs.Duration("early", conform.DefaultTolerance.Early, "how much sooner than its window a wait may be seen")
	late := fs.Duration("late", conform.DefaultTolerance.Late, "how much later than its window a wait may be seen, plus --late-ratio")
	lateRatio := fs.Float64("late-ratio", conform.DefaultTolerance.LateRatio, "a further allowance for lateness, as a fraction of the window's upper bound")
	seed := fs.Uint64("seed", 1, "seed of the faults' and jitter's random choices")
	reportDir := fs.String("report-dir", "", "write report.json, junit.xml and report.html here")
	list := fs.Bool("list", false, "list the profile's scenarios and exit")
	var only []string
	fs.Func("only", "run only this scenario (repeatable, or comma-separated)", func(v string) error {
		for _, s := range strings.Split(v, ",") {
			if s = strings.TrimSpace(s); s != "" {
				only = append(only, s)
			}
		}
		return nil
	})
	expected := map[string]string{} // scenario → why it is known to fail
	fs.Func("expect-fail", `"SCENARIO: REASON": the scenario is known to fail on this client (a bug kept upstream); the run fails if it passes (repeatable)`, func(v string) error {
		name, why, ok := strings.Cut(v, ":")
		name, why = strings.TrimSpace(name), strings.TrimSpace(why)
		switch {
		case !ok || name == "" || why == "":
			return fmt.Errorf("%q: want \"SCENARIO: REASON\", e.g. \"fatal-close: reconnects after 4400 (upstream issue 123)\"", v)
		case expected[name] != "":
			return fmt.Errorf("%s is expected to fail twice", name)
		}
		expected[name] = why
		return nil
	})
	if err := fs.Parse(args); err != nil {
		return usageErr(err)
	}
	p, perr := loadProfile(*prof)
	switch {
	case fs.NArg() > 0:
		return usageErr(fmt.Errorf("unexpected argument %q (quote the adapter's command line)", fs.Arg(0)))
	case perr != nil:
		return usageErr(perr)
	case *list:
		return listScenarios(out, p)
	case (*adapter == "") == !*reference:
		return usageErr(errors.New("want exactly one of --adapter CMD and --reference"))
	case *scale <= 0 || *scale > 10:
		return usageErr(fmt.Errorf("--scale %v: want a factor in (0, 10]", *scale))
	case *early < 0 || *late < 0 || *lateRatio < 0:
		return usageErr(errors.New("--early, --late and --late-ratio cannot be negative"))
	}
	for name := range expected {
		if !slices.Contains(conform.Names(p), name) {
			return usageErr(fmt.Errorf("--expect-fail %s: profile %s has no such scenario (its scenarios: %s)",
				name, p.Name, strings.Join(conform.Names(p), ", ")))
		}
	}

	cfg := conform.Config{
		Profile: p, Scale: *scale, Seed: *seed, Only: only, Virtual: *reference,
		Tolerance: conform.Tolerance{Early: *early, Late: *late, LateRatio: *lateRatio},
	}
	f := conform.Reference()
	run := &report.Run{Profile: p.Name, Client: "wschaos reference client", Started: time.Now()}
	if !*reference {
		a := &conform.Adapter{Command: *adapter}
		f, run.Adapter = a.Factory(), *adapter
		run.Client = "the adapter (it named no client)" // until its ready line does
		fmt.Fprintf(out, "conform: profile %s, scale %v, tolerance -%v/+%v+%g%%, seed %d\nadapter: %s\n",
			p.Name, *scale, *early, *late, *lateRatio*100, *seed, *adapter)
	} else {
		fmt.Fprintf(out, "conform: profile %s, virtual time, seed %d\nclient: the reference client\n", p.Name, *seed)
	}
	total := len(conform.Names(p))
	if len(only) > 0 {
		total = len(only)
	}
	width := 0 // the longest scenario name, so the verdicts line up
	for _, n := range conform.Names(p) {
		width = max(width, len(n))
	}
	i := 0
	cfg.Progress = func(s conform.Scenario, r *conform.Result) {
		if r == nil {
			i++
			fmt.Fprintf(out, "[%d/%d] %-*s ", i, total, width, s.Name)
			return
		}
		r.ExpectedFailure = expected[s.Name]
		switch o := r.Outcome(); o {
		case "PASS":
			fmt.Fprintf(out, "PASS  %v\n", r.Wall.Round(time.Millisecond))
		case "XPASS":
			fmt.Fprintf(out, "XPASS %v\n        passed, though expected to fail (%s): the bug may be fixed; drop its --expect-fail\n",
				r.Wall.Round(time.Millisecond), r.ExpectedFailure)
		default:
			fmt.Fprintf(out, "%-5s %v\n        %s\n", o, r.Wall.Round(time.Millisecond), r.Reason)
		}
	}
	results, err := conform.Run(ctx, cfg, f)
	if err != nil {
		return usageErr(err)
	}
	for i := range results {
		results[i].ExpectedFailure = expected[results[i].Scenario]
	}
	run.Wall, run.Results = time.Since(run.Started), results
	for _, r := range results {
		if r.Client != "" {
			run.Client = r.Client
			break
		}
	}
	summarize(out, run)
	if *reportDir != "" {
		if err := writeReports(*reportDir, run); err != nil {
			return err
		}
		fmt.Fprintf(out, "reports: %s\n", filepath.Join(*reportDir, "{report.html,junit.xml,report.json}"))
	}
	var in interrupt
	if errors.As(context.Cause(ctx), &in) && run.Interrupted() != "" {
		return &exitError{code: exitSignal + int(in.sig), err: fmt.Errorf("%v: the run did not finish, and did not pass", in)}
	}
	return verdict(run)
}

func usageErr(err error) error {
	if errors.Is(err, flag.ErrHelp) {
		return err
	}
	return &exitError{code: exitUsage, err: err}
}

func listScenarios(out io.Writer, p *profile.Profile) error {
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	for _, s := range conform.All() {
		if s.AppliesTo(p) {
			fmt.Fprintf(tw, "%s\t%s\n", s.Name, s.Checks)
		}
	}
	return tw.Flush()
}

// summarize prints the table at the end of a run.
func summarize(out io.Writer, run *report.Run) {
	fmt.Fprintln(out)
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "SCENARIO\tRESULT\tTIME\tREASON")
	for _, r := range run.Results {
		why := firstLine(r.Reason)
		if r.ExpectedFailure != "" {
			why = "expected to fail: " + r.ExpectedFailure + "; " + why
		}
		fmt.Fprintf(tw, "%s\t%s\t%v\t%s\n", r.Scenario, r.Outcome(), r.Wall.Round(time.Millisecond), why)
	}
	tw.Flush()
	passed := 0
	for _, r := range run.Results {
		if r.Outcome() == "PASS" {
			passed++
		}
	}
	known := ""
	if n := run.ExpectedFailures(); n > 0 {
		known = fmt.Sprintf(", %d failed as expected", n)
	}
	fmt.Fprintf(out, "\n%d of %d scenarios passed%s (%s, profile %s) in %v\n",
		passed, len(run.Results), known, run.Client, run.Profile, run.Wall.Round(time.Millisecond))
	if run.Interrupted() != "" {
		cut, notRun := 0, 0
		for _, r := range run.Results {
			switch r.Outcome() {
			case "INTERRUPTED":
				cut++
			case "NOT RUN":
				notRun++
			}
		}
		fmt.Fprintf(out, "INTERRUPTED: %d scenario cut short, %d not run: the run is incomplete and did not pass\n", cut, notRun)
	}
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i] + " …"
	}
	return s
}

// verdict is the run's exit: nil, or an exitError with the code.
func verdict(run *report.Run) error {
	for _, r := range run.Results {
		if r.AdapterError != "" {
			return &exitError{code: exitAdapter, err: fmt.Errorf("the adapter failed: %s", r.AdapterError)}
		}
	}
	if !run.Passed() {
		return &exitError{code: exitFailed, err: fmt.Errorf("%d of %d scenarios did not end as expected", run.Failed(), len(run.Results))}
	}
	return nil
}

func writeReports(dir string, run *report.Run) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("failed to create the report directory: %w", err)
	}
	for _, w := range []struct {
		name  string
		write func(io.Writer, *report.Run) error
	}{
		{"report.json", report.WriteJSON},
		{"junit.xml", report.WriteJUnit},
		{"report.html", report.WriteHTML},
	} {
		if err := writeFile(filepath.Join(dir, w.name), func(f io.Writer) error { return w.write(f, run) }); err != nil {
			return err
		}
	}
	return nil
}

func writeFile(path string, write func(io.Writer) error) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("failed to write %s: %w", path, err)
	}
	if err := write(f); err != nil {
		f.Close()
		return fmt.Errorf("failed to write %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("failed to write %s: %w", path, err)
	}
	return nil
}
