package backoff

import (
	"math/rand/v2"
	"time"
)

func init() { Register("steps", func() Policy { return &Steps{} }) }

// Steps waits Delays[n-1], repeating the last step forever (wrap it in
// Limit to give up after the last one instead, as SignalR does).
type Steps struct {
	Delays []time.Duration `yaml:"delays"`
}

// PhoenixSteps is the Phoenix channels client's reconnect schedule: 10, 50,
// 100, 150, 200, 250, 500, 1000, 2000 ms, then 5 s.
var PhoenixSteps = Steps{Delays: []time.Duration{10 * time.Millisecond, 50 * time.Millisecond, 100 * time.Millisecond,
	150 * time.Millisecond, 200 * time.Millisecond, 250 * time.Millisecond, 500 * time.Millisecond,
	time.Second, 2 * time.Second, 5 * time.Second}}

func (s Steps) Delay(n int, _ time.Duration, _ *rand.Rand) (time.Duration, bool) {
	if len(s.Delays) == 0 {
		return 0, true
	}
	return s.Delays[min(n, len(s.Delays))-1], true
}

func (s Steps) Window(n int, prev time.Duration) (Window, bool) {
	d, _ := s.Delay(n, prev, nil)
	return Window{d, d}, true
}

// Validate refuses an empty list.
func (s *Steps) Validate() error {
	if len(s.Delays) == 0 {
		return fieldErr("delays", "is required: at least one wait")
	}
	return nil
}
