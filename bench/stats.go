package bench

import (
	"slices"
	"time"
)

// percentile returns the p-th percentile (0 < p ≤ 1) of ds by the
// nearest-rank method: the smallest sample at least p of the samples do
// not exceed. It sorts ds in place; 0 for no samples.
func percentile(ds []time.Duration, p float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	slices.Sort(ds)
	rank := int(p*float64(len(ds)) + 0.999999999) // ceil without float noise
	return ds[min(max(rank, 1), len(ds))-1]
}

// median returns the median of xs (the mean of the middle two for an even
// count); it sorts xs in place, and is 0 for none.
func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	slices.Sort(xs)
	n := len(xs)
	if n%2 == 1 {
		return xs[n/2]
	}
	return (xs[n/2-1] + xs[n/2]) / 2
}

// micros is d in microseconds, for metrics.
func micros(d time.Duration) float64 { return float64(d) / float64(time.Microsecond) }
