package backoff

import (
	"fmt"
	"math/rand/v2"
	"time"
)

func init() { Register("exponential", func() Policy { return &Exponential{} }) }

// Jitter is how an exponential wait is spread around its nominal value b.
type Jitter string

const (
	// JitterNone waits exactly b.
	JitterNone Jitter = "none"
	// JitterFull is AWS "full jitter": a draw from [0, b).
	JitterFull Jitter = "full"
	// JitterEqual is AWS "equal jitter": b/2 plus a draw from [0, b/2).
	JitterEqual Jitter = "equal"
	// JitterRatio is gRPC's: a draw from [b·(1-Ratio), b·(1+Ratio)).
	JitterRatio Jitter = "ratio"
)

// Exponential waits b = Base·Factor^(n-1) after failure n, capped at Max (0:
// no cap), spread by Jitter, plus a draw from [AddMin, AddMax) when AddMax
// is set. With BaseMax set, the base itself is drawn once per client from
// [Base, BaseMax) (reconnecting-websocket draws its minimum delay once).
//
// Profile "queue" is Limit{Exponential{Base: time.Second, Factor: 2}, 5};
// gRPC is GRPCDefaults; graphql-ws is Base 1 s, Factor 2, AddMin 300 ms,
// AddMax 3 s.
type Exponential struct {
	Base    time.Duration `yaml:"base"`
	BaseMax time.Duration `yaml:"base_max,omitempty"`
	Factor  float64       `yaml:"factor"`
	Max     time.Duration `yaml:"max,omitempty"`
	Jitter  Jitter        `yaml:"jitter,omitempty"`
	Ratio   float64       `yaml:"ratio,omitempty"`
	AddMin  time.Duration `yaml:"add_min,omitempty"`
	AddMax  time.Duration `yaml:"add_max,omitempty"`
}

// GRPCDefaults are the values of gRPC's connection-backoff document: 1 s,
// ×1.6, capped at 120 s, then ±20 %.
var GRPCDefaults = Exponential{Base: time.Second, Factor: 1.6, Max: 120 * time.Second, Jitter: JitterRatio, Ratio: 0.2}

// FullJitter is AWS "full jitter" from base, capped at max.
func FullJitter(base, max time.Duration) Exponential {
	return Exponential{Base: base, Factor: 2, Max: max, Jitter: JitterFull}
}

// EqualJitter is AWS "equal jitter" from base, capped at max.
func EqualJitter(base, max time.Duration) Exponential {
	return Exponential{Base: base, Factor: 2, Max: max, Jitter: JitterEqual}
}

// ForClient draws the per-client base when BaseMax is set.
func (e Exponential) ForClient(rng *rand.Rand) Policy {
	if e.BaseMax <= e.Base {
		return e
	}
	e.Base, e.BaseMax = uniform(rng, e.Base, e.BaseMax), 0
	return e
}

// nominal is b for failure n from a base.
func (e Exponential) nominal(base time.Duration, n int) time.Duration {
	return exp(base, e.Factor, n, e.Max)
}

func (e Exponential) Delay(n int, _ time.Duration, rng *rand.Rand) (time.Duration, bool) {
	if e.BaseMax > e.Base {
		return e.ForClient(rng).Delay(n, 0, rng)
	}
	b := e.nominal(e.Base, n)
	var d time.Duration
	switch e.Jitter {
	case JitterFull:
		d = uniform(rng, 0, b)
	case JitterEqual:
		d = b/2 + uniform(rng, 0, b-b/2)
	case JitterRatio:
		j := time.Duration(float64(b) * e.Ratio)
		d = uniform(rng, b-j, b+j)
	default:
		d = b
	}
	return d + e.added(rng), true
}

func (e Exponential) added(rng *rand.Rand) time.Duration {
	if e.AddMax <= e.AddMin {
		return e.AddMin
	}
	return uniform(rng, e.AddMin, e.AddMax)
}

func (e Exponential) Window(n int, _ time.Duration) (Window, bool) {
	lo := e.nominal(e.Base, n)
	hi := lo
	if e.BaseMax > e.Base {
		hi = e.nominal(e.BaseMax-1, n)
	}
	var w Window
	switch e.Jitter {
	case JitterFull:
		w = drawn(0, hi)
	case JitterEqual:
		w = Window{lo / 2, drawn(hi/2, hi).Max}
	case JitterRatio:
		jl, jh := time.Duration(float64(lo)*e.Ratio), time.Duration(float64(hi)*e.Ratio)
		w = Window{drawn(lo-jl, lo+jl).Min, drawn(hi-jh, hi+jh).Max}
	default:
		w = Window{lo, hi}
	}
	a := drawn(e.AddMin, e.AddMax)
	return Window{w.Min + a.Min, w.Max + a.Max}, true
}

// Validate refuses a schedule that cannot be what its author meant.
func (e *Exponential) Validate() error {
	switch {
	case e.Base <= 0:
		return fieldErr("base", "is required and must be more than 0 (the wait after the first failure)")
	case e.Factor < 1:
		return fieldErr("factor", "is required and must be at least 1 (the wait grows by it), got %v", e.Factor)
	case e.BaseMax != 0 && e.BaseMax <= e.Base:
		return fieldErr("base_max", "must be more than base (%v): the base is drawn from [base, base_max)", e.Base)
	case e.Max != 0 && e.Max < e.Base:
		return fieldErr("max", "the cap %v is below the base %v", e.Max, e.Base)
	case e.AddMax != 0 && e.AddMax <= e.AddMin:
		return fieldErr("add_max", "must be more than add_min (%v)", e.AddMin)
	case e.AddMax == 0 && e.AddMin != 0:
		return fieldErr("add_min", "needs add_max: the added wait is drawn from [add_min, add_max)")
	}
	switch e.Jitter {
	case "", JitterNone, JitterFull, JitterEqual:
		if e.Ratio != 0 {
			return fieldErr("ratio", "is only for jitter: ratio")
		}
	case JitterRatio:
		if e.Ratio <= 0 || e.Ratio >= 1 {
			return fieldErr("ratio", "must be in (0, 1), e.g. 0.2 for ±20 %%; got %v", e.Ratio)
		}
	default:
		return fieldErr("jitter", "%q is not one of none, full, equal, ratio", e.Jitter)
	}
	return nil
}

func (e Exponential) String() string {
	s := fmt.Sprintf("exponential %v ×%v", e.Base, e.Factor)
	if e.BaseMax > 0 {
		s = fmt.Sprintf("exponential [%v, %v) ×%v", e.Base, e.BaseMax, e.Factor)
	}
	if e.Max > 0 {
		s += fmt.Sprintf(" capped at %v", e.Max)
	}
	switch e.Jitter {
	case JitterFull, JitterEqual:
		s += fmt.Sprintf(", %s jitter", e.Jitter)
	case JitterRatio:
		s += fmt.Sprintf(", ±%v%%", e.Ratio*100)
	}
	if e.AddMax > 0 {
		s += fmt.Sprintf(", +[%v, %v)", e.AddMin, e.AddMax)
	}
	return s
}
