package conform

import (
	"fmt"
	"time"

	"github.com/wschaos/wschaos/backoff"
	"github.com/wschaos/wschaos/profile"
)

// ConnectTimeout is how long one dial and handshake may take before it
// counts as a failure, unscaled: the reference client's default.
const ConnectTimeout = 10 * time.Second

// Timing is a profile's timing constants as the adapter protocol names
// them: milliseconds, factors and counts, plus the scale they came from.
type Timing map[string]float64

// Scale returns a copy of p whose timing constants are multiplied by f, and
// the Timing that tells a client the scaled numbers. Only policies whose
// constants it knows can be scaled; others are an error, not a guess.
func Scale(p *profile.Profile, f float64) (*profile.Profile, Timing, error) {
	if f <= 0 || f > 10 {
		return nil, nil, fmt.Errorf("scale %v: want a factor in (0, 10]", f)
	}
	cp := *p
	if p.Resume != nil {
		r := *p.Resume
		cp.Resume = &r
	}
	by := func(d time.Duration) time.Duration { return time.Duration(float64(d) * f) }
	ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
	t := Timing{"scale": f}
	switch b := p.Backoff.(type) {
	case backoff.Limit:
		e, ok := b.Policy.(backoff.Exponential)
		if !ok {
			return nil, nil, fmt.Errorf("profile %s: cannot scale backoff %T inside Limit", p.Name, b.Policy)
		}
		e.Base, e.Max = by(e.Base), by(e.Max)
		cp.Backoff = backoff.Limit{Policy: e, Attempts: b.Attempts}
		t["backoff_initial_ms"], t["backoff_factor"], t["backoff_max_retries"] = ms(e.Base), e.Factor, float64(b.Attempts)
		if e.Max > 0 {
			t["backoff_max_ms"] = ms(e.Max)
		}
	case backoff.Mattermost:
		b.Min, b.Max, b.Jitter = by(b.Min), by(b.Max), by(b.Jitter)
		cp.Backoff = b
		t["backoff_min_ms"], t["backoff_max_ms"], t["backoff_jitter_ms"] = ms(b.Min), ms(b.Max), ms(b.Jitter)
		t["backoff_max_fails"] = float64(b.MaxFails)
	default:
		return nil, nil, fmt.Errorf("profile %s: cannot scale backoff %T", p.Name, p.Backoff)
	}
	cp.Heartbeat.Interval = by(p.Heartbeat.Interval)
	t["heartbeat_interval_ms"] = ms(cp.Heartbeat.Interval)
	t["connect_timeout_ms"] = ms(by(ConnectTimeout))
	return &cp, t, nil
}
