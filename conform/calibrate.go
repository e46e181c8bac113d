package conform

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/websocket"
)

// Calibration measures, before the scenarios, how late an adapter's timers
// fire and how long its dials take to reach a server, in its own runtime
// and under the machine's load of the moment: the margins the real-clock
// checks allow are derived from them rather than fixed for every machine
// (docs/adapter.md, "calibrate").

const (
	// calibrateTimers is how many timers the calibrate command arms: enough
	// for a 95th percentile that is not the maximum.
	calibrateTimers = 40
	// calibrateFirst and calibrateSpacing set the timers' delays: first,
	// first+spacing, ... Spaced, so each dial has the runtime to itself
	// and the samples spread over half a second of the machine's load.
	calibrateFirst   = 20 * time.Millisecond
	calibrateSpacing = 15 * time.Millisecond
	// calibratePatience bounds the calibrate command beyond its last timer.
	calibratePatience = 10 * time.Second

	// earlyFloor is the least early margin: timer granularity (a runtime
	// may fire a timer up to a millisecond before its delay) and the
	// server's own timestamps.
	earlyFloor = 10 * time.Millisecond
	// lateFloor is added to every calibrated late margin: what one
	// half-second measurement cannot show (a collection, a burst of load
	// from another process, a scheduling slice).
	lateFloor = 100 * time.Millisecond
)

// warmUp are the timers of the round before the measured one.
var warmUp = []time.Duration{time.Millisecond, 10 * time.Millisecond}

// Spread sums up a set of durations.
type Spread struct {
	Min time.Duration `json:"min_ns"`
	P50 time.Duration `json:"p50_ns"`
	P95 time.Duration `json:"p95_ns"`
	Max time.Duration `json:"max_ns"`
}

func spreadOf(ds []time.Duration) Spread {
	s := slices.Clone(ds)
	slices.Sort(s)
	if len(s) == 0 {
		return Spread{}
	}
	return Spread{Min: s[0], P50: quantile(s, 0.5), P95: quantile(s, 0.95), Max: s[len(s)-1]}
}

// quantile of sorted s, the nearest rank.
func quantile(s []time.Duration, q float64) time.Duration {
	i := int(q*float64(len(s))+0.5) - 1
	return s[min(max(i, 0), len(s)-1)]
}

func (s Spread) String() string {
	return fmt.Sprintf("p50 %v, p95 %v, max %v", ms(s.P50), ms(s.P95), ms(s.Max))
}

// ms rounds d for a person: to 0.1 ms.
func ms(d time.Duration) time.Duration { return d.Round(100 * time.Microsecond) }

// Calibration is what the calibrate command measured.
type Calibration struct {
	Samples int `json:"samples"`
	// Timer is how late the adapter's timers fired, by its own clock.
	Timer Spread `json:"timer_lateness"`
	// Dial is the rest: from the timer firing to its dial reaching the
	// harness (the command's way to the adapter included).
	Dial Spread `json:"dial_latency"`
	// Lateness is both together, as the harness saw it: each dial's
	// arrival less the delay it was due after. Its samples are Late.
	Lateness Spread          `json:"lateness"`
	Late     []time.Duration `json:"lateness_samples_ns"`
	// Server is how late the harness's own timers woke meanwhile (every
	// 2 ms): how late its server may stamp what it sees, an attempt's end
	// among them.
	Server Spread        `json:"server_lag"`
	Wall   time.Duration `json:"wall_ns"`
	// timer, dial and server are one process's samples, before they are
	// summed up.
	timer, dial, server []time.Duration
}

// Tolerance derives the margins from the measurement. Load delays a timer
// by about the same whatever its length, so the late margin is additive,
// with no ratio: three times the 95th percentiles of timer lateness and
// dial latency (a wait the server measures holds a dial, and before it
// the client's noticing of the failure, which costs about as much; and a
// check may span more than one timer), at least the worst lateness seen,
// plus lateFloor; and never less than the fixed default's additive part,
// DefaultTolerance.Late: on a shared machine another process's burst of
// load delayed a correct client's wait by up to 450 ms, which no
// half-second measurement sees coming. The early margin is earlyFloor,
// plus the most any timer was seen early, plus twice the 95th percentile
// of the server's lag: a wait the server measures from an end it stamped
// late looks that much shorter. Load never makes a wait shorter, so the
// early margin is where calibration gains most: at --scale 0.05 a first
// wait of 50 ms is checked from about 35 ms instead of from 0.
func (c *Calibration) Tolerance() Tolerance {
	late := max(3*(c.Timer.P95+c.Dial.P95), c.Lateness.Max) + lateFloor
	early := earlyFloor + max(0, -c.Lateness.Min, -c.Timer.Min) + 2*c.Server.P95
	return Tolerance{Early: early, Late: max(late, DefaultTolerance.Late)}
}

// Timing is how a run's real-clock windows were widened, and why so.
type Timing struct {
	Tolerance Tolerance `json:"tolerance"`
	// Source is "calibrated", "defaults" (the fallback: the adapter does
	// not calibrate, or calibration failed) or "flags" (--early, --late or
	// --late-ratio given).
	Source string `json:"source"`
	// Note says why, in a sentence: the fallback's reason.
	Note        string       `json:"note,omitempty"`
	Calibration *Calibration `json:"calibration,omitempty"`
}

// String is the summary's lines.
func (t Timing) String() string {
	var b strings.Builder
	tol := t.Tolerance
	fmt.Fprintf(&b, "tolerance: -%v/+%v", ms(tol.Early), ms(tol.Late))
	if tol.LateRatio != 0 {
		fmt.Fprintf(&b, "+%g%%", tol.LateRatio*100)
	}
	switch t.Source {
	case "calibrated":
		b.WriteString(" (calibrated)")
	case "defaults":
		b.WriteString(" (the fixed defaults, a fallback)")
	case "flags":
		b.WriteString(" (from the command line)")
	}
	if t.Note != "" {
		fmt.Fprintf(&b, ": %s", t.Note)
	}
	if c := t.Calibration; c != nil {
		fmt.Fprintf(&b, "\ncalibration: %d timers; timer lateness %s; dial latency %s; together %s; the harness's own lag %s",
			c.Samples, c.Timer, c.Dial, c.Lateness, c.Server)
	}
	return b.String()
}

// CalibrationTimers are the delays the calibrate command asks for.
func CalibrationTimers() []time.Duration {
	out := make([]time.Duration, calibrateTimers)
	for i := range out {
		out[i] = calibrateFirst + time.Duration(i)*calibrateSpacing
	}
	return out
}

// Calibrate starts the adapter once and has it arm CalibrationTimers, each
// dialing a loopback WebSocket the harness serves when it fires, with the
// client's own WebSocket. An adapter whose ready line does not offer
// "calibrate" yields an error wrapping ErrNotSupported.
func (a *Adapter) Calibrate(ctx context.Context) (*Calibration, error) {
	return a.calibrateMany(ctx, 1, CalibrationTimers())
}

// calibrateMany calibrates n processes of the adapter at once, with these
// timers each, started first and then asked together, so their timers
// fire together as a herd's do, and pools what they measured.
func (a *Adapter) calibrateMany(ctx context.Context, n int, timers []time.Duration) (*Calibration, error) {
	procs := make([]*process, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range procs {
		wg.Go(func() { procs[i], errs[i] = a.start(Env{Emit: func(Event) {}}) })
	}
	wg.Wait()
	defer func() {
		var wg sync.WaitGroup
		for _, p := range procs {
			if p != nil {
				wg.Go(p.Release)
			}
		}
		wg.Wait()
	}()
	for i, p := range procs {
		switch {
		case errs[i] != nil:
			return nil, errs[i]
		case !slices.Contains(p.commands, "calibrate"):
			return nil, fmt.Errorf("%w: the adapter's ready line does not offer \"calibrate\"", ErrNotSupported)
		}
	}
	start := time.Now()
	cals := make([]*Calibration, n)
	// A warm-up round first, not counted: a runtime's first dial loads
	// and compiles what the next ones find ready (Node: tens of
	// milliseconds), as a client's first connect did before a scenario
	// measures its waits.
	for _, ts := range [][]time.Duration{warmUp, timers} {
		for i, p := range procs {
			wg.Go(func() { cals[i], errs[i] = measure(ctx, p, ts) })
		}
		wg.Wait()
		if err := errors.Join(errs...); err != nil {
			return nil, err
		}
	}
	out := &Calibration{Wall: time.Since(start)}
	var timer, dial, server []time.Duration
	for _, c := range cals {
		out.Samples += c.Samples
		out.Late = append(out.Late, c.Late...)
		timer, dial, server = append(timer, c.timer...), append(dial, c.dial...), append(server, c.server...)
	}
	out.Timer, out.Dial, out.Lateness, out.Server = spreadOf(timer), spreadOf(dial), spreadOf(out.Late), spreadOf(server)
	return out, nil
}

// measure runs the calibrate command on one process.
func measure(ctx context.Context, p *process, timers []time.Duration) (*Calibration, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("calibrate: %w", err)
	}
	var (
		mu      sync.Mutex
		arrived = map[int]time.Time{}
		t0      time.Time
	)
	up := websocket.Upgrader{CheckOrigin: func(*http.Request) bool { return true }}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		at := time.Now() // the dial's arrival: what a scenario's server stamps
		i, err := strconv.Atoi(r.URL.Query().Get("timer"))
		if err != nil || i < 0 || i >= len(timers) {
			http.Error(w, "want ?timer=N", http.StatusBadRequest)
			return
		}
		mu.Lock()
		if _, dup := arrived[i]; !dup {
			arrived[i] = at
		}
		mu.Unlock()
		c, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		c.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, "calibrated"), time.Now().Add(time.Second))
		c.SetReadDeadline(time.Now().Add(2 * time.Second))
		for {
			if _, _, err := c.ReadMessage(); err != nil {
				break
			}
		}
		c.Close()
	})}
	go srv.Serve(l)
	defer srv.Close()
	delays := make([]float64, len(timers))
	for i, d := range timers {
		delays[i] = float64(d) / float64(time.Millisecond)
	}
	rctx, cancel := context.WithTimeout(ctx, timers[len(timers)-1]+calibratePatience)
	defer cancel()
	start := time.Now()
	mu.Lock()
	t0 = start
	mu.Unlock()
	lags := make(chan []time.Duration)
	stop := make(chan struct{})
	go func() { lags <- sampleLag(stop) }()
	r, err := p.requestReply(rctx, map[string]any{"cmd": "calibrate", "url": "ws://" + l.Addr().String() + "/calibrate", "timers": delays})
	close(stop)
	server := <-lags
	if err != nil {
		return nil, fmt.Errorf("calibrate: %w", err)
	}
	if len(r.Fired) != len(timers) {
		return nil, fmt.Errorf("calibrate: the reply's \"fired\" has %d times, for %d timers", len(r.Fired), len(timers))
	}
	c := &Calibration{Samples: len(timers), Wall: time.Since(start)}
	var timer, dial []time.Duration
	mu.Lock()
	defer mu.Unlock()
	for i, d := range timers {
		at, ok := arrived[i]
		if !ok {
			return nil, fmt.Errorf("calibrate: timer %d (%v) fired, the adapter says, but its dial never reached the harness", i, d)
		}
		fired := time.Duration(r.Fired[i] * float64(time.Millisecond))
		total := at.Sub(t0) - d
		timer = append(timer, fired-d)
		dial = append(dial, total-(fired-d))
		c.Late = append(c.Late, total)
	}
	c.timer, c.dial, c.server = timer, dial, server
	return c, nil
}

// lagEvery is how often sampleLag's timer is due.
const lagEvery = 2 * time.Millisecond

// sampleLag measures, until stop, how late a timer of this process wakes.
func sampleLag(stop <-chan struct{}) []time.Duration {
	var out []time.Duration
	for {
		t := time.Now()
		select {
		case <-stop:
			return out
		case <-time.After(lagEvery):
			out = append(out, time.Since(t)-lagEvery)
		}
	}
}

// TimingFor decides a run's tolerance: flags when the command line gave
// one, else the adapter's calibration, else the fixed defaults, saying
// why.
func TimingFor(ctx context.Context, a *Adapter, flags *Tolerance) Timing {
	if flags != nil {
		return Timing{Tolerance: *flags, Source: "flags"}
	}
	c, err := a.Calibrate(ctx)
	switch {
	case errors.Is(err, ErrNotSupported):
		return Timing{Tolerance: DefaultTolerance, Source: "defaults", Note: "the adapter offers no calibrate command"}
	case errors.As(err, new(*ProtocolError)):
		// Told once, by the scenarios, which meet the same adapter.
		return Timing{Tolerance: DefaultTolerance, Source: "defaults", Note: "calibration failed: the adapter could not start, or broke the protocol"}
	case err != nil:
		return Timing{Tolerance: DefaultTolerance, Source: "defaults", Note: "calibration failed: " + err.Error()}
	}
	return Timing{Tolerance: c.Tolerance(), Source: "calibrated", Calibration: c}
}
