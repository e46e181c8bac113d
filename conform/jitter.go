package conform

import (
	"fmt"
	"maps"
	"math/rand/v2"
	"reflect"
	"slices"
	"sync"
	"time"

	"github.com/wschaos/wschaos/backoff"
	"github.com/wschaos/wschaos/profile"
)

// Jitter, checked statistically on the real clock. A wait checked only
// against its window lets a client without jitter pass: its waits sit
// inside the window, all at one place. What jitter does, and lateness
// cannot fake, is spread the waits over their windows: each wait's
// position in its window, (waited - min) / (max - min), is a uniform draw
// from [0, 1] for a client that draws as the profile says, whose variance
// is 1/12. Lateness from load is independent of the client's draw, and an
// independent addition can only add to that spread (the variances add), not
// take from it; so a spread far below 1/12 is the client's, whatever the
// load. The check compares the
// positions' variance with its distribution for uniform draws of the same
// number and grouping (computed by simulation, from a fixed seed), and
// fails below its jitterAlpha quantile: a client with correct jitter fails
// once in 1/jitterAlpha runs, whatever the machine's load.

const (
	// jitterAlpha is each jitter check's false-alarm rate.
	jitterAlpha = 0.001
	// jitterSims is how many simulated runs set the threshold.
	jitterSims = 20000
	// wideFactor: a window is wide enough to show jitter when it is this
	// many times the machine's lateness spread. Narrower ones are left
	// out: there lateness, not jitter, decides where a wait falls, and a
	// client without jitter would look spread.
	wideFactor = 4
	// minSpreadWaits is the fewest waits one client's check judges.
	minSpreadWaits = 4
	// uncalibratedNoise stands for the lateness spread without a
	// calibration.
	uncalibratedNoise = 25 * time.Millisecond
)

// lateNoise is how much lateness varies from one wait to the next on
// this machine now: the calibration's spread of lateness, or a guess.
func lateNoise(c *Calibration) time.Duration {
	if c == nil {
		return uncalibratedNoise
	}
	return max(c.Lateness.P95-c.Lateness.Min, 2*time.Millisecond)
}

// spreadVariance is the variance of positions within their groups (waits
// after the same failure, of a herd's clients; one group for a single
// client), pooled.
func spreadVariance(groups [][]float64) float64 {
	sum, dof := 0.0, 0
	for _, g := range groups {
		if len(g) < 2 {
			continue
		}
		mean := 0.0
		for _, u := range g {
			mean += u
		}
		mean /= float64(len(g))
		for _, u := range g {
			sum += (u - mean) * (u - mean)
		}
		dof += len(g) - 1
	}
	if dof == 0 {
		return 0
	}
	return sum / float64(dof)
}

// spreadThreshold is the jitterAlpha quantile of spreadVariance for
// uniform positions grouped as sizes are: a client with jitter shows less
// once in 1/jitterAlpha runs. Deterministic: a fixed seed.
func spreadThreshold(sizes []int) float64 {
	key := fmt.Sprint(sizes)
	if v, ok := thresholds.Load(key); ok {
		return v.(float64)
	}
	v := simulateThreshold(sizes)
	thresholds.Store(key, v)
	return v
}

// thresholds caches spreadThreshold by the group sizes.
var thresholds sync.Map

func simulateThreshold(sizes []int) float64 {
	rng := rand.New(rand.NewPCG(0x5eed, uint64(len(sizes))))
	groups := make([][]float64, len(sizes))
	for i, n := range sizes {
		groups[i] = make([]float64, n)
	}
	vs := make([]float64, jitterSims)
	for s := range vs {
		for _, g := range groups {
			for i := range g {
				g[i] = rng.Float64()
			}
		}
		vs[s] = spreadVariance(groups)
	}
	slices.Sort(vs)
	return vs[int(jitterAlpha*jitterSims)]
}

// spreadCheck is one jitter check's reading.
type spreadCheck struct {
	waits     int // judged
	variance  float64
	threshold float64
	narrowest time.Duration // the narrowest window judged
	noise     time.Duration
}

func (c spreadCheck) noJitter() bool { return c.variance < c.threshold }

// describe says what was measured, for a failure or a report.
func (c spreadCheck) describe() string {
	return fmt.Sprintf("the variance of their positions in their windows was %.4f; a uniform draw's is %.4f, and a client drawing as the profile says shows less than %.4f once in %d runs (%d waits, in windows %v wide or more; those under %d× the machine's lateness spread, %v, are not read)",
		c.variance, 1.0/12, c.threshold, int(1/jitterAlpha), c.waits, ms(c.narrowest), wideFactor, ms(c.noise))
}

// position is where w fell in its window, less the machine's typical
// lateness (shift), and whether the window is wide enough for it to tell:
// the window is noise·wideFactor wide or more, the wait was judged in it,
// and it is a window at all. Taking the typical lateness off keeps a
// client without jitter at one place in windows of different widths; it
// moves every wait by the same amount, independent of the client's draw,
// so it cannot make a client with jitter look narrower.
func position(w Wait, noise, shift time.Duration) (float64, bool) {
	width := w.Max - w.Min
	if w.Note != "" || w.GaveUp || width <= 0 || width < wideFactor*noise {
		return 0, false
	}
	return float64(w.Waited-shift-w.Min) / float64(width), true
}

// typicalLate is the lateness to take off each wait: the calibration's
// median, or none.
func typicalLate(c *Calibration) time.Duration {
	if c == nil {
		return 0
	}
	return c.Lateness.P50
}

// clientSpread reads one client's waits: one group, since each failure
// has one wait. ok is false when too few windows are wide enough.
func clientSpread(ws []Wait, cal *Calibration) (spreadCheck, bool) {
	noise := lateNoise(cal)
	var us []float64
	narrowest := time.Duration(0)
	for _, w := range ws {
		if u, ok := position(w, noise, typicalLate(cal)); ok {
			us = append(us, u)
			if narrowest == 0 || w.Max-w.Min < narrowest {
				narrowest = w.Max - w.Min
			}
		}
	}
	if len(us) < minSpreadWaits {
		return spreadCheck{}, false
	}
	return spreadCheck{waits: len(us), variance: spreadVariance([][]float64{us}),
		threshold: spreadThreshold([]int{len(us)}), narrowest: narrowest, noise: noise}, true
}

// spreadMissing says "no jitter: ..." of a client whose waits, in windows
// wide enough to show jitter on this machine, sit too close to one place
// in their windows for a client that draws its waits; "" otherwise. Only
// on the real clock (in virtual time the reference's draws are the
// profile's own, and jitterMissing reads them). One client's waits move
// together where the profile draws its base once per client; those
// profiles are left to the herd (wschaos conform --herd).
func spreadMissing(t *T, ws []Wait) string {
	if t.virtual || drawsOncePerClient(t.p) {
		return ""
	}
	c, ok := clientSpread(ws, t.cal)
	if ok && c.noJitter() {
		return fmt.Sprintf("no jitter: the profile spreads each wait over its window (%v), yet this client's waits sat at nearly one place in theirs: %s",
			t.p.Backoff, c.describe())
	}
	return ""
}

// herdGroups is how many failures the herd's check reads: those with the
// widest windows. Right after the outage every client wakes at once and
// lateness is at its worst; the later, wider windows come when the herd
// has spread, so there jitter shows and lateness hardly does. Chosen by
// width alone, before any wait is seen, so the choice cannot bias the
// false-alarm rate.
const herdGroups = 2

// herdSpread reads a herd's waits, grouped by the failure they follow,
// in the herdGroups failures with the widest windows.
func herdSpread(ws []Wait, cal *Calibration) (spreadCheck, bool) {
	noise := lateNoise(cal)
	byFailure := map[int][]float64{}
	width := map[int]time.Duration{}
	for _, w := range ws {
		if u, ok := position(w, noise, typicalLate(cal)); ok {
			byFailure[w.Failure] = append(byFailure[w.Failure], u)
			width[w.Failure] = w.Max - w.Min
		}
	}
	failures := slices.Collect(maps.Keys(byFailure))
	slices.SortFunc(failures, func(a, b int) int { return int(width[b] - width[a]) })
	c := spreadCheck{noise: noise}
	var groups [][]float64
	var sizes []int
	for _, n := range failures {
		if g := byFailure[n]; len(g) >= 2 && len(groups) < herdGroups {
			groups, sizes = append(groups, g), append(sizes, len(g))
			c.waits += len(g)
			c.narrowest = width[n]
		}
	}
	if c.waits < minSpreadWaits {
		return c, false
	}
	c.variance, c.threshold = spreadVariance(groups), spreadThreshold(sizes)
	return c, true
}

// drawsOncePerClient reports whether the profile draws a client's base
// once (reconnecting-websocket): then its waits move together.
func drawsOncePerClient(p *profile.Profile) bool {
	return !reflect.DeepEqual(backoff.ForClient(p.Backoff, rand.New(rand.NewPCG(1, 2))), p.Backoff)
}
