package conform

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"runtime/debug"
	"slices"
	"sync"
	"time"

	"github.com/jonboulle/clockwork"
	"github.com/wschaos/wschaos/fakeserver"
	"github.com/wschaos/wschaos/internal/quiet"
	"github.com/wschaos/wschaos/profile"
	"github.com/wschaos/wschaos/vclock"
)

// Config says how to run the scenarios.
type Config struct {
	// Profile is the contract, unscaled.
	Profile *profile.Profile
	// Virtual runs on a fake clock the scenarios step; the subject must
	// use Env.Clock. Otherwise the scenarios run on the real clock with
	// the profile scaled by Scale, and waits are checked with Tolerance.
	Virtual   bool
	Scale     float64
	Tolerance Tolerance
	// Calibration, when set, is what the adapter's calibrate command
	// measured (Tolerance was derived from it): the jitter checks read
	// the machine's lateness from it.
	Calibration *Calibration
	// Seed seeds the server's faults and Env.Rand; a run replays with it.
	Seed uint64
	// Only, when not empty, names the scenarios to run.
	Only []string
	// Progress, when set, hears of each scenario as it starts and ends.
	Progress func(s Scenario, r *Result)
	// Scenarios, when set, are the scenarios to run instead of All().
	// Those that do not apply to the profile are reported as skipped,
	// with the reason.
	Scenarios []Scenario
	// Exact: a scenario file's every command must bring exactly the
	// output the file gives (the reference client, in virtual time).
	// Otherwise its check lines are the verdict.
	Exact bool
	// Rewrite takes each command's output as it comes, so the file can
	// be rewritten from Result.Steps.
	Rewrite bool
	// Jobs is how many scenarios run at once, each with its own server
	// and subject (an adapter: its own process); 0 or 1, one at a time.
	// On the real clock more jobs load the machine, and a loaded machine
	// answers late: keep it to the cores there are.
	Jobs int
}

// Names lists the scenarios that apply to p.
func Names(p *profile.Profile) []string {
	var out []string
	for _, s := range All() {
		if s.AppliesTo(p) {
			out = append(out, s.Name)
		}
	}
	return out
}

// Run runs every scenario that applies to the profile against fresh
// subjects from f, one after another, and returns their results. An error
// is for a configuration it cannot run; failures are in the results.
func Run(ctx context.Context, cfg Config, f Factory) ([]Result, error) {
	all, explicit := All(), cfg.Scenarios != nil
	if explicit {
		all = cfg.Scenarios
	}
	// The plan, in order: each scenario to run, or its skip.
	type item struct {
		s    Scenario
		skip *Result
	}
	var plan []item
	runs := 0
	for _, s := range all {
		if len(cfg.Only) > 0 && !slices.Contains(cfg.Only, s.Name) {
			continue
		}
		p := cfg.Profile
		if p == nil {
			p = s.Profile
		}
		switch {
		case p == nil && explicit:
			// A file for every profile, in a run that names none (the
			// whole library on the reference client): listed, not run.
			why := "written for every profile, and the run gives none: give one with --profile"
			plan = append(plan, item{s: s, skip: &Result{Scenario: s.Name, Checks: s.Checks, Virtual: cfg.Virtual, Seed: cfg.Seed,
				Skipped: why, Reason: why, Passed: true}})
		case p == nil:
			return nil, fmt.Errorf("%s names no profile, and the run gives none", s.Name)
		case s.AppliesTo(p):
			plan = append(plan, item{s: s})
			runs++
		case explicit:
			// Asked for by name: say why it did not run, never drop it.
			r := skipped(cfg, s, p)
			plan = append(plan, item{s: s, skip: &r})
		}
	}
	for _, name := range cfg.Only {
		if !slices.ContainsFunc(all, func(s Scenario) bool { return s.Name == name }) {
			var names []string
			for _, s := range all {
				names = append(names, s.Name)
			}
			return nil, fmt.Errorf("no scenario %q (there are: %v)", name, names)
		}
	}
	if len(plan) == 0 {
		return nil, fmt.Errorf("no scenario of %v applies to profile %s", cfg.Only, cfg.Profile.Name)
	}
	results := make([]Result, len(plan))
	var mu sync.Mutex // guards broken and Progress
	broken := ""      // the adapter could not start: nothing else can run
	one := func(i int) {
		it := plan[i]
		mu.Lock()
		brokenNow := broken
		mu.Unlock()
		switch {
		case it.skip != nil:
			results[i] = *it.skip
		case ctx.Err() != nil:
			// Listed, not dropped: a report that leaves them out reads as
			// a shorter run that passed.
			results[i] = notRun(ctx, cfg, it.s)
			return
		case brokenNow != "":
			why := "not run: " + brokenNow
			results[i] = Result{Scenario: it.s.Name, Profile: cfg.profileName(it.s), Checks: it.s.Checks,
				Virtual: cfg.Virtual, Seed: cfg.Seed, Blocked: why, Reason: why, Failures: []string{why}}
			return
		default:
			if cfg.Progress != nil && cfg.Jobs <= 1 {
				cfg.Progress(it.s, nil)
			}
			results[i] = RunOne(ctx, cfg, it.s, f)
			if r := results[i]; r.unmade && r.AdapterError != "" {
				mu.Lock()
				broken = fmt.Sprintf("the adapter could not start (%s says why)", it.s.Name)
				mu.Unlock()
			}
		}
		if cfg.Progress != nil {
			mu.Lock()
			if cfg.Jobs > 1 || it.skip != nil {
				cfg.Progress(it.s, nil) // the whole line at once
			}
			cfg.Progress(it.s, &results[i])
			mu.Unlock()
		}
	}
	if cfg.Jobs <= 1 {
		for i := range plan {
			one(i)
		}
		return results, nil
	}
	// Jobs at once, each scenario with its own server and subject; the
	// results keep the plan's order.
	next := make(chan int)
	var wg sync.WaitGroup
	for range cfg.Jobs {
		wg.Go(func() {
			for i := range next {
				one(i)
			}
		})
	}
	for i := range plan {
		next <- i
	}
	close(next)
	wg.Wait()
	return results, nil
}

// profileName names the profile s runs under.
func (cfg Config) profileName(s Scenario) string {
	switch {
	case cfg.Profile != nil:
		return cfg.Profile.Name
	case s.Profile != nil:
		return s.Profile.Name
	}
	return ""
}

// skipped is the result of a scenario that does not apply to p.
func skipped(cfg Config, s Scenario, p *profile.Profile) Result {
	why := "does not apply"
	if s.Why != nil {
		why = s.Why(p)
	}
	return Result{Scenario: s.Name, Profile: p.Name, Checks: s.Checks, Virtual: cfg.Virtual, Seed: cfg.Seed,
		Skipped: why, Reason: why, Passed: true}
}

// notRun is the result of a scenario the run never started, ctx being
// done.
func notRun(ctx context.Context, cfg Config, s Scenario) Result {
	why := "not run: the run was " + interruption(ctx)
	return Result{Scenario: s.Name, Profile: cfg.Profile.Name, Checks: s.Checks, Virtual: cfg.Virtual, Seed: cfg.Seed,
		NotRun: why, Reason: why, Failures: []string{why}}
}

// interruption says what ended ctx, to follow "was": the cancel cause's
// own words ("interrupted by SIGTERM"), or "interrupted (...)".
func interruption(ctx context.Context) string {
	cause := context.Cause(ctx)
	switch {
	case cause == nil:
		return "interrupted"
	case errors.Is(cause, context.DeadlineExceeded):
		return "interrupted (its deadline passed)"
	case errors.Is(cause, context.Canceled):
		return "interrupted (cancelled)"
	}
	return cause.Error()
}

// RunOne runs scenario s against a fresh subject from f.
func RunOne(ctx context.Context, cfg Config, s Scenario, f Factory) Result {
	start := time.Now()
	var perr error
	switch {
	case s.file != nil && cfg.Profile != nil:
		// The run's profile, with the file's options on it.
		cfg.Profile, perr = applyOptions(cfg.Profile, s.file.header.options)
	case cfg.Profile == nil:
		cfg.Profile = s.Profile
	}
	if s.file != nil && s.file.header.seed != 0 {
		cfg.Seed = s.file.header.seed // the file replays with its own seed
	}
	if perr != nil {
		return Result{Scenario: s.Name, Profile: cfg.Profile.Name, Checks: s.Checks, Failures: []string{perr.Error()}, Reason: perr.Error()}
	}
	r := Result{Scenario: s.Name, Profile: cfg.Profile.Name, Checks: s.Checks, Virtual: cfg.Virtual, Seed: cfg.Seed}
	t, err := newT(ctx, cfg, s)
	if err != nil {
		r.Failures = []string{err.Error()}
	} else {
		t.run(s, f)
		t.finish(&r)
	}
	r.Wall = time.Since(start)
	if ctx.Err() != nil {
		// Whatever it saw, the scenario did not run to its end: a quiet
		// period cut short would otherwise read as a pass, and a wait cut
		// short as the client's failure.
		r.Interrupted = r.Scenario + " was " + interruption(ctx) + " before it finished: no verdict"
		r.Failures = append([]string{r.Interrupted}, r.Failures...)
	}
	r.Passed = len(r.Failures) == 0
	if r.Skipped != "" && r.Passed {
		r.Reason = r.Skipped
	}
	if !r.Passed {
		r.Reason = r.Failures[0]
	}
	return r
}

// lowSource makes every jitter draw 0, exposing the base schedule: a
// file's "# jitter: none". (A source of constant 0 would not do:
// math/rand/v2 rejects it and draws forever.)
type lowSource struct{}

func (lowSource) Uint64() uint64 { return 1 }

// owner is the name the subject's timers go by on the virtual clock.
const owner = "client"

// newT sets up the server and the clock for one scenario.
func newT(ctx context.Context, cfg Config, s Scenario) (*T, error) {
	scale, tol := 1.0, Tolerance{}
	if !cfg.Virtual {
		scale, tol = cfg.Scale, cfg.Tolerance
		if scale == 0 {
			scale = 1
		}
	}
	p := cfg.Profile.Clone() // virtual time runs the profile as it is
	if scale != 1 {
		var err error
		if p, err = cfg.Profile.Scaled(scale); err != nil {
			return nil, err
		}
	}
	t := &T{ctx: ctx, p: p, scale: scale, tol: tol, cal: cfg.Calibration, seed: cfg.Seed, virtual: cfg.Virtual, changed: make(chan struct{}),
		exact: cfg.Exact && cfg.Virtual, rewrite: cfg.Rewrite}
	srv := fakeserver.NewUnstartedServer(p)
	srv.Seed = cfg.Seed
	if cfg.Virtual {
		t.vclock = vclock.New()
		t.clock = t.vclock.For(owner)
		srv.Clock = t.vclock
	} else {
		t.clock = clockwork.NewRealClock()
		srv.Clock = t.clock
	}
	t.srv = srv
	if s.Faults != nil {
		srv.Faults = s.Faults(t)
	}
	return t, nil
}

// run builds the subject and plays the scenario; a failure ends it.
func (t *T) run(s Scenario, f Factory) {
	t.srv.Start()
	port, portErr := quiet.PortOf(t.srv.URL)
	t.port = port
	t.mu.Lock()
	t.t0 = t.clock.Now() // events share the transcript's origin
	t.mu.Unlock()
	defer t.srv.Close()
	defer func() {
		switch v := recover().(type) {
		case nil, stop:
		default:
			t.failures = append(t.failures, fmt.Sprintf("the scenario crashed: %v\n%s", v, debug.Stack()))
		}
	}()
	rng := rand.New(rand.NewPCG(t.seed, 0x5eed))
	if s.file != nil && s.file.header.jitter == "none" {
		rng = rand.New(lowSource{})
	}
	subj, err := f(Env{Profile: t.p, Scale: t.scale, Clock: t.clock, Rand: rng, Emit: t.emit})
	if err != nil {
		var pe *ProtocolError
		if errors.As(err, &pe) {
			t.adapterErr = err.Error()
		}
		t.unmade = true
		t.Fatalf("the client could not be made: %v", err)
	}
	t.subj = subj
	t.quiet = inProcess(t.virtual, subj) && portErr == nil
	defer t.release()
	defer t.closeSubject()
	s.Run(t)
}

// closeSubject closes the subject if the scenario left it running.
func (t *T) closeSubject() {
	if t.closed || !t.connected {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(t.ctx), closePatience)
	defer cancel()
	if err := t.command("close", func() error { return t.subj.Close(ctx) }); err != nil {
		t.Errorf("closing the client at the end: %v", err)
	}
	t.closed = true
}

// release ends what the subject runs on (an adapter's process), after
// which everything it reported is in.
func (t *T) release() {
	if r, ok := t.subj.(interface{ Release() }); ok {
		r.Release()
	}
}

// finish fills the result in from what the scenario saw.
func (t *T) finish(r *Result) {
	es := t.srv.Transcript().Entries()
	r.Marks = marks(es)
	r.Transcript = t.srv.Transcript().String()
	if !t.virtual {
		r.Transcript = roundTimes(r.Transcript)
		for i := range r.Marks {
			r.Marks[i].Text = roundTimes(r.Marks[i].Text)
		}
	}
	r.Waits = t.judge(es, false)
	t.mu.Lock()
	r.Events = slices.Clone(t.events)
	r.Commands = slices.Clone(t.commands)
	t.mu.Unlock()
	r.Failures = t.failures
	r.Skipped = t.skipped
	r.unmade = t.unmade
	r.Steps = t.steps
	r.AdapterError = t.adapterErr
	r.Tolerance = t.tol
	r.Scale = t.scale
	for _, m := range r.Marks {
		r.End = max(r.End, m.At)
	}
	for _, e := range r.Events {
		r.End = max(r.End, e.At)
	}
	if n, ok := t.subj.(interface{ Name() string }); ok {
		r.Client = n.Name()
	}
	if se, ok := t.subj.(interface{ Stderr() string }); ok {
		r.Stderr = se.Stderr()
	}
	if b, ok := t.subj.(interface{ Broken() error }); ok && b.Broken() != nil {
		// The adapter's fault comes first: what the scenario saw after it
		// follows from it.
		r.AdapterError = b.Broken().Error()
		r.Failures = append([]string{r.AdapterError}, r.Failures...)
	}
}
