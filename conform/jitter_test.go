package conform

import (
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/wschaos/wschaos/backoff"
	"github.com/wschaos/wschaos/profile"
)

// jitterProfile is the queue profile with ±20 % jitter
// (examples/profiles/queue-jitter.yaml).
func jitterProfile() *profile.Profile {
	p := profile.QueueProfile().Clone()
	p.Name = "queue-jitter"
	p.Backoff = backoff.Limit{Policy: backoff.Exponential{Base: time.Second, Factor: 2, Jitter: backoff.JitterRatio, Ratio: 0.2}, Attempts: 5}
	return p
}

// simWaits is one client's five waits of jitterProfile at scale, drawn
// with jitter or at their nominal values, each late by a draw from
// late(rng).
func simWaits(rng *rand.Rand, scale float64, jitter bool, late func(*rand.Rand) time.Duration) []Wait {
	var ws []Wait
	for n := 1; n <= 5; n++ {
		b := time.Duration(float64(time.Second) * scale * float64(int(1)<<(n-1)))
		w := Wait{Failure: n, Min: b * 8 / 10, Max: b * 12 / 10, Waited: b}
		if jitter {
			w.Waited = w.Min + time.Duration(rng.Int64N(int64(w.Max-w.Min)))
		}
		w.Waited += late(rng)
		ws = append(ws, w)
	}
	return ws
}

func uniformLate(max time.Duration) func(*rand.Rand) time.Duration {
	return func(rng *rand.Rand) time.Duration { return time.Duration(rng.Int64N(int64(max))) }
}

// A herd without jitter fails, even with lateness spread over tens of
// milliseconds; a herd with jitter fails at about the stated rate, and no
// more under heavy lateness: lateness only widens the spread.
func TestHerdSpreadCatchesNoJitterAtItsFalseAlarmRate(t *testing.T) {
	cal := &Calibration{Lateness: Spread{Min: 2 * time.Millisecond, P50: 3 * time.Millisecond, P95: 6 * time.Millisecond}}
	herd := func(rng *rand.Rand, jitter bool, late func(*rand.Rand) time.Duration) []Wait {
		var ws []Wait
		for range 20 {
			ws = append(ws, simWaits(rng, 0.05, jitter, late)...)
		}
		return ws
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range 50 {
		c, ok := herdSpread(herd(rng, false, uniformLate(40*time.Millisecond)), cal)
		if !ok || !c.noJitter() {
			t.Fatalf("herd %d without jitter passed (ok %v): %s", i, ok, c.describe())
		}
	}
	const runs = 2000
	alarms := 0
	for range runs {
		c, ok := herdSpread(herd(rng, true, uniformLate(150*time.Millisecond)), cal)
		if !ok {
			t.Fatal("a herd at scale 0.05 not judged")
		}
		if c.noJitter() {
			alarms++
		}
	}
	if alarms > 6 { // 2 expected at 0.001; 6 or more once in about 80 seeds
		t.Errorf("%d false alarms in %d herds with jitter: the rate is %v", alarms, runs, jitterAlpha)
	}
}

// One client without jitter fails where its windows are wide enough, and
// the failure says "no jitter"; too few wide windows are not judged.
func TestClientSpreadCatchesNoJitter(t *testing.T) {
	cal := &Calibration{Lateness: Spread{Min: 2 * time.Millisecond, P50: 4 * time.Millisecond, P95: 12 * time.Millisecond}}
	rng := rand.New(rand.NewPCG(3, 4))
	for i := range 50 {
		c, ok := clientSpread(simWaits(rng, 0.25, false, uniformLate(10*time.Millisecond)), cal)
		if !ok || !c.noJitter() {
			t.Fatalf("client %d without jitter passed (ok %v): %s", i, ok, c.describe())
		}
	}
	alarms := 0
	for range 2000 {
		if c, _ := clientSpread(simWaits(rng, 0.25, true, uniformLate(100*time.Millisecond)), cal); c.noJitter() {
			alarms++
		}
	}
	if alarms > 6 {
		t.Errorf("%d false alarms in 2000 clients with jitter: the rate is %v", alarms, jitterAlpha)
	}
	if _, ok := clientSpread(simWaits(rng, 0.01, false, uniformLate(time.Millisecond)), cal); ok {
		t.Error("judged windows of 4 to 64 ms against a lateness spread of 10 ms")
	}
	tt := &T{p: jitterProfile(), cal: cal}
	if why := spreadMissing(tt, simWaits(rng, 0.25, false, uniformLate(10*time.Millisecond))); !strings.HasPrefix(why, "no jitter: ") {
		t.Errorf("spreadMissing said %q, want no jitter", why)
	}
}

// Through adapter processes on the real clock: a herd of reference
// clients with the profile's jitter passes, one without jitter fails,
// named as such, and a profile without jitter is skipped with the reason.
func TestHerdThroughAdapters(t *testing.T) {
	if testing.Short() {
		t.Skip("real time")
	}
	cfg := Config{Profile: jitterProfile(), Scale: adapterScale, Tolerance: DefaultTolerance, Seed: 1}
	if r := RunHerd(ctx(t), cfg, testAdapter(t, "reference"), 8); !r.Passed || r.Skipped != "" {
		t.Errorf("the reference herd: passed %v, skipped %q: %s\n%s", r.Passed, r.Skipped, strings.Join(r.Failures, "\n"), r.Transcript)
	}
	r := RunHerd(ctx(t), cfg, testAdapter(t, "no-jitter"), 8)
	if r.Passed || !strings.HasPrefix(r.Reason, "no jitter: 8 clients dropped at once") {
		t.Errorf("a herd without jitter: passed %v, reason %q", r.Passed, r.Reason)
	}
	cfg.Profile = profile.QueueProfile()
	if r := RunHerd(ctx(t), cfg, testAdapter(t, "reference"), 2); !r.Passed || !strings.Contains(r.Skipped, "the profile has no jitter") {
		t.Errorf("a herd of a profile without jitter: passed %v, skipped %q", r.Passed, r.Skipped)
	}
}
