package conform

import (
	"context"
	"fmt"
	"math"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/jonboulle/clockwork"
	"github.com/wschaos/wschaos/chaos"
	"github.com/wschaos/wschaos/fakeserver"
	"github.com/wschaos/wschaos/profile"
	"github.com/wschaos/wschaos/transcript"
)

const (
	// HerdName is the herd's name in results and reports.
	HerdName = "herd"
	// herdWaits is the most waits the herd follows in each client: the
	// later ones have the widest windows.
	herdWaits = 5
	// herdPatience bounds the herd's start: every process ready and every
	// client connected (many processes start at once on few cores).
	herdPatience = 60 * time.Second
	// MaxHerd bounds a herd's size: one process each.
	MaxHerd = 200
)

// RunHerd is the herd check (wschaos conform --herd N): n processes of the
// adapter, each client against a server of its own playing the scaled
// profile. Once every client is connected, every server resets its
// connection at the same instant and refuses every attempt after, so each
// client goes through its waits as after an outage, until it gives up or
// herdWaits waits are seen. The waits after each failure, one per client,
// must spread over their window as the profile's jitter spreads them
// (spreadMissing's statistic, grouped by failure): a herd that comes back in
// lock-step fails, "no jitter", with a false-alarm rate of jitterAlpha.
func RunHerd(ctx context.Context, cfg Config, a *Adapter, n int) (r Result) {
	start := time.Now()
	r = Result{Scenario: HerdName, Profile: cfg.Profile.Name, Scale: cfg.Scale, Seed: cfg.Seed, Tolerance: cfg.Tolerance,
		Checks: fmt.Sprintf("%d clients dropped at once come back spread over their windows as the profile's jitter spreads them (a client with jitter fails once in %d runs)", n, int(1/jitterAlpha))}
	defer func() {
		r.Wall = time.Since(start)
		if ctx.Err() != nil && r.Interrupted == "" && r.Skipped == "" {
			r.Interrupted = "the herd was " + interruption(ctx) + " before it finished: no verdict"
			r.Failures = append([]string{r.Interrupted}, r.Failures...)
		}
		r.Passed = len(r.Failures) == 0
		switch {
		case !r.Passed:
			r.Reason = r.Failures[0]
		case r.Skipped != "":
			r.Reason = r.Skipped
		}
	}()
	watch := herdWatch(cfg.Profile)
	if !hasJitter(cfg.Profile, watch) {
		r.Skipped = fmt.Sprintf("the profile has no jitter (%v): there is no spread to compare a herd's with", cfg.Profile.Backoff)
		return r
	}
	scale, scaleNote := herdScale(cfg, watch)
	r.Scale = scale
	p, err := cfg.Profile.Scaled(scale)
	if err != nil {
		r.Failures = []string{err.Error()}
		return r
	}
	if scaleNote != "" {
		r.Checks += "; " + scaleNote
	}
	servers := make([]*fakeserver.Server, n)
	for i := range servers {
		s := fakeserver.NewUnstartedServer(p)
		s.Seed, s.Clock = cfg.Seed+uint64(i), clockwork.NewRealClock()
		s.Faults = []chaos.Fault{chaos.InAttempts([]chaos.Span{{From: 2, To: math.MaxInt32}}, chaos.Refuse(503))}
		s.Start()
		defer s.Close()
		servers[i] = s
	}
	procs := make([]*process, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	// Started a few at a time: twenty runtimes loading at once on two
	// busy cores may each take longer than the ready line's patience. The
	// outage, not the start, is what the herd meets at once.
	starting := make(chan struct{}, max(2, runtime.NumCPU()))
	for i := range procs {
		wg.Go(func() {
			starting <- struct{}{}
			defer func() { <-starting }()
			procs[i], errs[i] = a.start(Env{Profile: p, Scale: scale, Emit: func(Event) {}})
		})
	}
	wg.Wait()
	defer func() {
		var wg sync.WaitGroup
		for _, pr := range procs {
			if pr != nil {
				wg.Go(pr.Release)
			}
		}
		wg.Wait()
	}()
	for i, err := range errs {
		if err != nil {
			r.AdapterError = fmt.Sprintf("client %d of the herd: %v", i+1, err)
			r.Failures = []string{r.AdapterError}
			return r
		}
	}
	r.Client = procs[0].Name()
	sctx, cancel := context.WithTimeout(ctx, herdPatience)
	defer cancel()
	for i := range procs {
		wg.Go(func() { errs[i] = procs[i].Connect(sctx, servers[i].URL) })
	}
	wg.Wait()
	for i := range procs {
		if errs[i] == nil {
			errs[i] = servers[i].Transcript().Wait(sctx, func(es []transcript.Entry) bool { return len(entriesOf(es, transcript.KindOpen)) > 0 })
		}
		if errs[i] != nil {
			r.Failures = []string{fmt.Sprintf("client %d of the herd did not connect within %v: %v", i+1, herdPatience, errs[i])}
			r.Transcript = servers[i].Transcript().String()
			return r
		}
	}
	// The outage: every connection reset at once.
	for _, s := range servers {
		s.CutAll(chaos.Cut{Kind: chaos.RST})
	}
	budget := 5 * time.Second
	for k := 1; k <= watch; k++ {
		w, _ := p.Backoff.Window(k, 0)
		_, hi := cfg.Tolerance.widen(w.Min, w.Max)
		budget += hi
	}
	wctx, cancel2 := context.WithTimeout(ctx, budget)
	defer cancel2()
	for _, s := range servers {
		s.Transcript().Wait(wctx, func(es []transcript.Entry) bool { return len(entriesOf(es, transcript.KindDial)) > watch })
	}
	var ws, first []Wait
	var tr strings.Builder
	judge := &T{p: p, tol: cfg.Tolerance}
	for i, s := range servers {
		es := s.Transcript().Entries()
		fmt.Fprintf(&tr, "client %d:\n%s\n", i+1, s.Transcript().String())
		for _, w := range judge.judge(es, false) {
			if w.Failure > watch {
				continue
			}
			ws = append(ws, w)
			if w.Failure == 1 {
				first = append(first, w)
			}
		}
		if se := procs[i].Stderr(); se != "" && r.Stderr == "" {
			r.Stderr = fmt.Sprintf("client %d: %s", i+1, se)
		}
		if b := procs[i].Broken(); b != nil && r.AdapterError == "" {
			r.AdapterError = fmt.Sprintf("client %d of the herd: %v", i+1, b)
			r.Failures = append(r.Failures, r.AdapterError)
		}
	}
	r.Waits, r.Transcript = ws, tr.String()
	c, ok := herdSpread(ws, cfg.Calibration)
	herdLine := herdFigures(first, p)
	switch {
	case !ok:
		r.Skipped = fmt.Sprintf("not judged: %d waits of %d clients fell in windows at least %d× the machine's lateness spread (%v) wide, too few to tell jitter from lateness; raise --scale. %s",
			c.waits, n, wideFactor, ms(c.noise), herdLine)
	case c.noJitter():
		r.Failures = append(r.Failures, fmt.Sprintf("no jitter: %d clients dropped at once came back at nearly one place in each window the profile spreads them over (%v): %s. %s",
			n, p.Backoff, c.describe(), herdLine))
	default:
		r.Checks += fmt.Sprintf("; %s; %s", c.describe(), herdLine)
	}
	return r
}

// herdWide: the herd's widest window must be this many times the
// machine's lateness spread. Twenty processes woken together are later,
// and vary more, than the one calibrated: under two busy loops on two
// cores their waits spread over about three times its spread.
const herdWide = 20

// herdScale is the scale the herd plays at: the run's, or more when the
// run's makes the herd's widest window too narrow, against the machine's
// lateness, to show jitter; the note says why it was raised.
func herdScale(cfg Config, watch int) (float64, string) {
	var widest time.Duration
	for k := 1; k <= watch; k++ {
		if w, ok := cfg.Profile.Backoff.Window(k, 0); ok {
			widest = max(widest, w.Max-w.Min)
		}
	}
	need := herdWide * lateNoise(cfg.Calibration)
	if widest <= 0 || float64(widest)*cfg.Scale >= float64(need) {
		return cfg.Scale, ""
	}
	s := min(math.Ceil(float64(need)/float64(widest)*100)/100, 1)
	return s, fmt.Sprintf("the herd ran at scale %v: at the run's %v its widest window, %v, is narrower than %d× the machine's lateness spread (%v), where lateness would hide jitter",
		s, cfg.Scale, ms(time.Duration(float64(widest)*cfg.Scale)), herdWide, ms(lateNoise(cfg.Calibration)))
}

// herdFigures says how the herd came back after the outage.
func herdFigures(first []Wait, p *profile.Profile) string {
	if len(first) == 0 {
		return "no client reconnected after the outage"
	}
	ds := make([]time.Duration, 0, len(first))
	for _, w := range first {
		ds = append(ds, w.Waited)
	}
	slices.Sort(ds)
	w, _ := p.Backoff.Window(1, 0)
	return fmt.Sprintf("after the outage %d clients redialed over %v (from %v to %v); the profile's first window is %v",
		len(ds), ms(ds[len(ds)-1]-ds[0]), ms(ds[0]), ms(ds[len(ds)-1]), window(w.Min, w.Max))
}

// herdWatch is how many waits the herd follows: herdWaits, or fewer when
// the profile gives up sooner.
func herdWatch(p *profile.Profile) int {
	for k := 1; k <= herdWaits; k++ {
		if _, ok := p.Backoff.Window(k, 0); !ok {
			return k - 1
		}
	}
	return herdWaits
}

// hasJitter reports whether any of the first watch windows has room for
// jitter.
func hasJitter(p *profile.Profile, watch int) bool {
	for k := 1; k <= watch; k++ {
		if w, ok := p.Backoff.Window(k, 0); ok && w.Max > w.Min {
			return true
		}
	}
	return false
}
