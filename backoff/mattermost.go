package backoff

import (
	"math/rand/v2"
	"time"
)

func init() { Register("mattermost", func() Policy { return &Mattermost{} }) }

// Mattermost is the webapp client's schedule: Min while the failure count is
// at most MaxFails, then Min·n² capped at Max, then a jitter drawn from
// [0, Jitter) added after the cap. It never gives up on its own.
type Mattermost struct {
	Min      time.Duration `yaml:"min"`       // minWebSocketRetryTime, 3 s
	MaxFails int           `yaml:"max_fails"` // maxWebSocketFails, 7
	Max      time.Duration `yaml:"max"`       // maxWebSocketRetryTime, 300 s
	Jitter   time.Duration `yaml:"jitter"`    // reconnectJitterRange, 2 s
}

// MattermostDefaults are the constants of the real client.
var MattermostDefaults = Mattermost{Min: 3 * time.Second, MaxFails: 7, Max: 300 * time.Second, Jitter: 2 * time.Second}

func (m Mattermost) base(n int) time.Duration {
	if n <= m.MaxFails {
		return m.Min
	}
	// Test Min·n² > Max by division: the product overflows int64 as n nears
	// 2³¹ and can wrap to a small positive delay that slips under the cap.
	nn := time.Duration(n)
	if m.Min > 0 && nn > 0 && nn > m.Max/m.Min/nn {
		return m.Max
	}
	return min(m.Min*nn*nn, m.Max)
}

func (m Mattermost) Delay(n int, _ time.Duration, rng *rand.Rand) (time.Duration, bool) {
	return m.base(n) + uniform(rng, 0, m.Jitter), true
}

func (m Mattermost) Window(n int, _ time.Duration) (Window, bool) {
	b := m.base(n)
	return drawn(b, b+m.Jitter), true
}

// Validate refuses a schedule whose long branch is below its short one.
func (m *Mattermost) Validate() error {
	switch {
	case m.Min <= 0:
		return fieldErr("min", "is required and must be more than 0")
	case m.Max < m.Min:
		return fieldErr("max", "the cap %v is below min %v", m.Max, m.Min)
	}
	return nil
}
