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
	"runtime"
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
each wait is checked against its window widened by margins measured
first, through the adapter's calibrate command, under the machine's load
of the moment: the fixed defaults of --early and --late are the fallback
for an adapter without it, and --early, --late or --late-ratio given on
the command line win over both.

Exit codes: 0 every scenario passed (or failed as --expect-fail said), 1 a
scenario failed (or an expected failure passed), 2 bad command line, 3 the
adapter could not start, broke the protocol, or exited mid-scenario, 130 or
143 interrupted by SIGINT or SIGTERM: the running scenario is INTERRUPTED,
the rest NOT RUN, and the reports are written. A second signal ends conform
at once.

`

func runConform(args []string, stdout, _ io.Writer) error {
	ctx, stop := interruptible(context.Background())
	defer stop()
	return conformCmd(ctx, args, stdout)
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

// checkFlags are the flags conform and run share: the subject, the clock,
// the tolerance, the expected failures and the reports.
type checkFlags struct {
	fs               *flag.FlagSet
	adapter          *string
	reference        *bool
	scale, lateRatio *float64
	early, late      *time.Duration
	seed             *uint64
	reportDir        *string
	jobs             *int
	herd             *int
	only             []string
	expected         map[string]string // scenario → why it is known to fail
	scenarioDirs     []string          // --scenarios: a team's own files
}

func newCheckFlags(name, usage string) *checkFlags {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.Usage = func() { fmt.Fprint(fs.Output(), usage); fs.PrintDefaults() }
	f := &checkFlags{fs: fs, expected: map[string]string{}}
	f.adapter = fs.String("adapter", "", `the adapter's command line, e.g. "node examples/js/adapter.js"`)
	f.reference = fs.Bool("reference", false, "check the reference client, in process, in virtual time")
	f.scale = fs.Float64("scale", 0.25, "multiply every timing constant of the profile by this (1: real speed)")
	f.early = fs.Duration("early", conform.DefaultTolerance.Early, "how much sooner than its window a wait may be seen (given, it and --late, --late-ratio replace the adapter's calibration)")
	f.late = fs.Duration("late", conform.DefaultTolerance.Late, "how much later than its window a wait may be seen, plus --late-ratio (given: replaces calibration)")
	f.lateRatio = fs.Float64("late-ratio", conform.DefaultTolerance.LateRatio, "a further allowance for lateness, as a fraction of the window's upper bound (given: replaces calibration)")
	f.seed = fs.Uint64("seed", 1, "seed of the faults' and jitter's random choices (a scenario file's own # seed: wins)")
	f.reportDir = fs.String("report-dir", "", "write report.json, junit.xml and report.html here")
	f.jobs = fs.Int("jobs", 1, "run this many scenarios at once, each with its own server and adapter process (on the real clock, at most the cores there are; with --reference the default is the cores there are, up to 4)")
	f.herd = fs.Int("herd", 0, "after the scenarios, start this many adapter processes (e.g. 20), drop them all at once and check that their reconnects spread as the profile's jitter says (0: no herd)")
	fs.Func("only", "run only this scenario (repeatable, or comma-separated)", func(v string) error {
		for _, s := range strings.Split(v, ",") {
			if s = strings.TrimSpace(s); s != "" {
				f.only = append(f.only, s)
			}
		}
		return nil
	})
	fs.Func("expect-fail", `"SCENARIO: REASON": the scenario is known to fail on this client (a bug kept upstream); the run fails if it passes (repeatable)`, func(v string) error {
		name, why, ok := strings.Cut(v, ":")
		name, why = strings.TrimSpace(name), strings.TrimSpace(why)
		switch {
		case !ok || name == "" || why == "":
			return fmt.Errorf("%q: want \"SCENARIO: REASON\", e.g. \"fatal-close: reconnects after 4400 (upstream issue 123)\"", v)
		case f.expected[name] != "":
			return fmt.Errorf("%s is expected to fail twice", name)
		}
		f.expected[name] = why
		return nil
	})
	fs.Func("scenarios", "also run the scenario files in this directory, or this file (repeatable)", func(v string) error {
		f.scenarioDirs = append(f.scenarioDirs, v)
		return nil
	})
	return f
}

// tolerance is the tolerance the command line gives, or nil when it gives
// none of --early, --late and --late-ratio: the adapter's calibration then
// decides, or the defaults. One of them given wins over calibration, the
// others at their defaults.
func (f *checkFlags) tolerance() *conform.Tolerance {
	given := false
	f.fs.Visit(func(fl *flag.Flag) {
		switch fl.Name {
		case "early", "late", "late-ratio":
			given = true
		}
	})
	if !given {
		return nil
	}
	return &conform.Tolerance{Early: *f.early, Late: *f.late, LateRatio: *f.lateRatio}
}

// validate checks the flags every run needs.
func (f *checkFlags) validate() error {
	switch {
	case (*f.adapter == "") == !*f.reference:
		return errors.New("want exactly one of --adapter CMD and --reference")
	case *f.scale <= 0 || *f.scale > 10:
		return fmt.Errorf("--scale %v: want a factor in (0, 10]", *f.scale)
	case *f.early < 0 || *f.late < 0 || *f.lateRatio < 0:
		return errors.New("--early, --late and --late-ratio cannot be negative")
	case *f.jobs < 1 || *f.jobs > 64:
		return fmt.Errorf("--jobs %d: want 1 to 64", *f.jobs)
	case *f.herd != 0 && (*f.herd < 2 || *f.herd > conform.MaxHerd):
		return fmt.Errorf("--herd %d: want 2 to %d clients", *f.herd, conform.MaxHerd)
	case *f.herd != 0 && *f.reference:
		return errors.New("--herd runs adapter processes: it needs --adapter")
	}
	if *f.reference && !f.given("jobs") {
		// The reference client runs in virtual time, where a scenario's
		// verdict does not hang on when the machine gets to it: its
		// scenarios share the cores. An adapter's run on the real clock
		// keeps one at a time unless asked.
		*f.jobs = min(runtime.NumCPU(), maxReferenceJobs)
	}
	return nil
}

// maxReferenceJobs bounds the scenarios the reference client runs at once
// by default, so a large machine does not start dozens of worlds at once;
// --jobs sets any number.
const maxReferenceJobs = 4

// given reports whether the command line set flag name.
func (f *checkFlags) given(name string) bool {
	set := false
	f.fs.Visit(func(fl *flag.Flag) { set = set || fl.Name == name })
	return set
}

// conformCmd is runConform with its output given, for tests.
func conformCmd(ctx context.Context, args []string, out io.Writer) error {
	f := newCheckFlags("conform", conformUsage)
	prof := f.fs.String("profile", defaultProfile, profileFlag("the profile to check against"))
	list := f.fs.Bool("list", false, "list the profile's scenarios and exit")
	if err := parseFlags(f.fs, args, out); err != nil {
		return usageErr(err)
	}
	p, perr := loadProfile(*prof)
	switch {
	case f.fs.NArg() > 0:
		return usageErr(fmt.Errorf("unexpected argument %q (quote the adapter's command line)", f.fs.Arg(0)))
	case perr != nil:
		return usageErr(perr)
	}
	set, err := conformSet(p, f.scenarioDirs)
	if err != nil {
		return usageErr(err)
	}
	if *list {
		return listScenarios(out, set)
	}
	if err := f.validate(); err != nil {
		return usageErr(err)
	}
	var names []string
	for _, s := range set {
		names = append(names, s.Name)
	}
	for name := range f.expected {
		if !slices.Contains(names, name) {
			return usageErr(fmt.Errorf("--expect-fail %s: profile %s has no such scenario (its scenarios: %s)",
				name, p.Name, strings.Join(names, ", ")))
		}
	}
	return execute(ctx, out, f, p, set, false, false)
}

// fileOf returns the scenario file of the scenario named name in set.
func fileOf(set []conform.Scenario, name string) *conform.File {
	for _, s := range set {
		if s.Name == name {
			return s.File()
		}
	}
	return nil
}

// conformSet is what conform runs for p: the conformance scenarios (the
// library's files for every profile) that apply to it, then the files of
// --scenarios. (The library's files replay with
// wschaos run.)
func conformSet(p *profile.Profile, extra []string) ([]conform.Scenario, error) {
	var set []conform.Scenario
	for _, s := range conform.All() {
		if s.AppliesTo(p) {
			set = append(set, s)
		}
	}
	files, err := loadScenarioFiles(extra)
	if err != nil {
		return nil, err
	}
	for _, f := range files {
		if slices.ContainsFunc(set, func(s conform.Scenario) bool { return s.Name == f.Name() }) {
			return nil, fmt.Errorf("%s: a scenario named %s is already in the conformance set: rename the file, so --only and --expect-fail name one scenario", f.Path(), f.Name())
		}
		set = append(set, f.Scenario()) // a team's own: skipped with the reason if it does not apply
	}
	return set, nil
}

// loadScenarioFiles reads scenario files, and the *.txt files of
// directories, in order; an error names the file and line.
func loadScenarioFiles(paths []string) ([]*conform.File, error) {
	var out []*conform.File
	seen := map[string]string{}
	add := func(f *conform.File) error {
		if other, dup := seen[f.Name()]; dup {
			return fmt.Errorf("two scenarios named %s: %s and %s (a scenario is named by its file)", f.Name(), other, f.Path())
		}
		seen[f.Name()] = f.Path()
		out = append(out, f)
		return nil
	}
	for _, p := range paths {
		fi, err := os.Stat(p)
		if err != nil {
			// A library file by its name: the binary carries the library.
			if f, ok := conform.LibraryFile(p); ok && !strings.ContainsAny(p, `/\`) {
				if err := add(f); err != nil {
					return nil, err
				}
				continue
			}
			return nil, fmt.Errorf("scenario %s: %w%s (a library file may be named without its path: wschaos run close-while-waiting)", p, errors.Unwrap(err), libraryHint(p))
		}
		files := []string{p}
		if fi.IsDir() {
			files, _ = filepath.Glob(filepath.Join(p, "*.txt"))
			if len(files) == 0 {
				return nil, fmt.Errorf("scenario directory %s holds no *.txt files", p)
			}
		}
		for _, path := range files {
			f, err := conform.LoadFile(path)
			if err != nil {
				return nil, err
			}
			if err := add(f); err != nil {
				return nil, err
			}
		}
	}
	return out, nil
}

// execute runs set against the subject the flags name, prints progress and
// the summary, writes the reports, and returns the run's verdict. p may be
// nil (run without --profile): each file then runs under its own.
func execute(ctx context.Context, out io.Writer, f *checkFlags, p *profile.Profile, set []conform.Scenario, exact, rewrite bool) error {
	cfg := conform.Config{
		Profile: p, Scale: *f.scale, Seed: *f.seed, Only: f.only, Virtual: *f.reference, Exact: exact, Rewrite: rewrite,
		Tolerance: conform.Tolerance{Early: *f.early, Late: *f.late, LateRatio: *f.lateRatio},
		Scenarios: set, Jobs: *f.jobs,
	}
	profName := "each file's own"
	if p != nil {
		profName = p.Name
	}
	if *f.herd != 0 && p == nil {
		return usageErr(errors.New("--herd needs --profile: the herd plays one profile"))
	}
	factory := conform.Reference()
	run := &report.Run{Profile: profName, Client: "wschaos reference client", Started: time.Now()}
	var a *conform.Adapter
	if !*f.reference {
		a = &conform.Adapter{Command: *f.adapter}
		factory, run.Adapter = a.Factory(), *f.adapter
		run.Client = "the adapter (it named no client)" // until its ready line does
		fmt.Fprintf(out, "%s: profile %s, scale %v, seed %d\nadapter: %s\n", f.fs.Name(), profName, *f.scale, *f.seed, *f.adapter)
		timing := conform.TimingFor(ctx, a, f.tolerance())
		cfg.Tolerance, cfg.Calibration, run.Timing = timing.Tolerance, timing.Calibration, &timing
		fmt.Fprintln(out, timing)
	} else {
		fmt.Fprintf(out, "%s: profile %s, virtual time, seed %d\nclient: the reference client\n", f.fs.Name(), profName, *f.seed)
	}
	total := len(set)
	if len(f.only) > 0 {
		total = len(f.only)
	}
	if *f.herd != 0 {
		total++
	}
	width := 0 // the longest scenario name, so the verdicts line up
	for _, s := range set {
		width = max(width, len(s.Name))
	}
	// The counter is as wide as its last value, so that [9/12] and
	// [10/12] start their names in the same column too.
	counterWidth := len(fmt.Sprintf("[%d/%d]", total, total))
	i := 0
	cfg.Progress = func(s conform.Scenario, r *conform.Result) {
		if r == nil {
			i++
			fmt.Fprintf(out, "%-*s %-*s ", counterWidth, fmt.Sprintf("[%d/%d]", i, total), width, s.Name)
			return
		}
		r.ExpectedFailure = f.expected[s.Name]
		switch o := r.Outcome(); o {
		case "PASS":
			fmt.Fprintf(out, "PASS  %v\n", r.Wall.Round(time.Millisecond))
		case "XPASS":
			fmt.Fprintf(out, "XPASS %v\n        passed, though expected to fail (%s): the bug may be fixed; drop its --expect-fail\n",
				r.Wall.Round(time.Millisecond), r.ExpectedFailure)
		case "SKIP":
			fmt.Fprintf(out, "SKIP  %s\n", r.Skipped)
		default:
			fmt.Fprintf(out, "%-5s %v\n        %s\n", o, r.Wall.Round(time.Millisecond), r.Reason)
		}
	}
	results, err := conform.Run(ctx, cfg, factory)
	if err != nil {
		return usageErr(err)
	}
	if *f.herd != 0 && ctx.Err() == nil {
		herd := conform.Scenario{Name: conform.HerdName}
		cfg.Progress(herd, nil)
		r := conform.RunHerd(ctx, cfg, a, *f.herd)
		cfg.Progress(herd, &r)
		results = append(results, r)
	}
	for i := range results {
		results[i].ExpectedFailure = f.expected[results[i].Scenario]
	}
	run.Wall, run.Results = time.Since(run.Started), results
	for _, r := range results {
		if r.Client != "" {
			run.Client = r.Client
			break
		}
	}
	summarize(out, run)
	if rewrite {
		for _, r := range results {
			if file := fileOf(set, r.Scenario); file != nil && r.Outcome() != "SKIP" {
				if err := file.WriteOutputs(r); err != nil {
					return &exitError{code: exitFailed, err: err}
				}
				fmt.Fprintf(out, "rewrote %s\n", file.Path())
			}
		}
	}
	if *f.reportDir != "" {
		if err := writeReports(*f.reportDir, run); err != nil {
			return err
		}
		fmt.Fprintf(out, "reports: %s\n", filepath.Join(*f.reportDir, "{report.html,junit.xml,report.json}"))
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

func listScenarios(out io.Writer, set []conform.Scenario) error {
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	for _, s := range set {
		kind := "go"
		if f := s.File(); f != nil {
			kind = f.Path()
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\n", s.Name, s.Checks, kind)
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
	outcomes := map[string]int{}
	for _, r := range run.Results {
		outcomes[r.Outcome()]++
	}
	passed, skipped := outcomes["PASS"], outcomes["SKIP"]
	known := ""
	if n := run.ExpectedFailures(); n > 0 {
		known = fmt.Sprintf(", %d failed as expected", n)
	}
	if skipped > 0 {
		known += fmt.Sprintf(", %d skipped", skipped)
	}
	fmt.Fprintf(out, "\n%d of %d scenarios passed%s (%s, profile %s) in %v\n",
		passed, len(run.Results)-skipped, known, run.Client, run.Profile, run.Wall.Round(time.Millisecond))
	if run.Interrupted() != "" {
		fmt.Fprintf(out, "INTERRUPTED: %d scenario cut short, %d not run: the run is incomplete and did not pass\n",
			outcomes["INTERRUPTED"], outcomes["NOT RUN"])
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
	ran := slices.ContainsFunc(run.Results, func(r conform.Result) bool { return r.Outcome() != "SKIP" })
	if !ran {
		return &exitError{code: exitUsage, err: errors.New("nothing ran: every scenario was skipped (see the reasons above)")}
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
