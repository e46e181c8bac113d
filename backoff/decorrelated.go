package backoff

import (
	"math/rand/v2"
	"time"
)

func init() { Register("decorrelated", func() Policy { return &Decorrelated{} }) }

// Decorrelated is AWS "decorrelated jitter": min(Cap, a draw from
// [Base, prev·3)), with prev taken as Base on the first failure.
type Decorrelated struct {
	Base time.Duration `yaml:"base"`
	Cap  time.Duration `yaml:"max"`
}

func (d Decorrelated) span(prev time.Duration) (time.Duration, time.Duration) {
	if prev < d.Base {
		prev = d.Base
	}
	return d.Base, prev * 3
}

func (d Decorrelated) Delay(_ int, prev time.Duration, rng *rand.Rand) (time.Duration, bool) {
	lo, hi := d.span(prev)
	return min(d.Cap, uniform(rng, lo, hi)), true
}

func (d Decorrelated) Window(_ int, prev time.Duration) (Window, bool) {
	w := drawn(d.span(prev))
	return Window{min(d.Cap, w.Min), min(d.Cap, w.Max)}, true
}

// Validate refuses a missing base or cap.
func (d *Decorrelated) Validate() error {
	switch {
	case d.Base <= 0:
		return fieldErr("base", "is required and must be more than 0")
	case d.Cap <= 0:
		return fieldErr("max", "is required: decorrelated jitter grows without bound otherwise")
	}
	return nil
}
