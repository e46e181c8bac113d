package backoff_test

import (
	"math"
	"math/rand/v2"
)

// lowSource makes every jitter draw the lowest it can be: Int64N(n) == 0 for
// every n that is not a power of two (and 1 ns for one that is).
//
// It returns 1, not 0: math/rand/v2 reduces with Lemire's method and rejects
// a product below 2⁶⁴ mod n, so a source stuck at 0 makes Int64N(2e9) spin
// forever. With 1 the product is n itself, never rejected, and its high word
// (the result) is 0.
type lowSource struct{}

func (lowSource) Uint64() uint64 { return 1 }

// highSource makes every draw the highest: Int64N(n) == n-1 for every n.
type highSource struct{}

func (highSource) Uint64() uint64 { return math.MaxUint64 }

func low() *rand.Rand  { return rand.New(lowSource{}) }
func high() *rand.Rand { return rand.New(highSource{}) }

// seeded is a real generator; the same seed replays the same draws.
func seeded(seed uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)) }

// draws is how many seeded delays each window property checks.
const draws = 2000
