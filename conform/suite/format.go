package suite

import (
	"time"

	"github.com/onsi/gomega/format"
)

// Gomega prints a time.Duration in a failed assertion as what it is, an
// int64 of nanoseconds ("<time.Duration>: 193000000000"), which no one
// reads at a glance. Importing this package, as every conformance suite
// and wschaos's own specs do, makes it print as Go writes durations
// ("<time.Duration>: 3m13s"), in every spec of the test binary.
func init() { format.RegisterCustomFormatter(formatDuration) }

func formatDuration(v any) (string, bool) {
	d, ok := v.(time.Duration)
	if !ok {
		return "", false
	}
	return d.String(), true
}
