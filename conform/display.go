package conform

import (
	"fmt"
	"strings"
	"time"
)

// realPrecision is how finely a transcript on the real clock is shown: its
// times are measured, so the nanoseconds are noise; in virtual time they
// are exact and kept.
const realPrecision = time.Millisecond

// roundTimes rounds the "+TIME" that starts each transcript line of s to
// realPrecision, keeping the column the rest of the line starts at.
func roundTimes(s string) string {
	lines := strings.SplitAfter(s, "\n")
	for i, l := range lines {
		at, rest, ok := strings.Cut(l, " ")
		if !ok || !strings.HasPrefix(at, "+") {
			continue
		}
		d, err := time.ParseDuration(at[1:])
		if err != nil {
			continue
		}
		lines[i] = fmt.Sprintf("%-10s %s", "+"+d.Round(realPrecision).String(), strings.TrimLeft(rest, " "))
	}
	return strings.Join(lines, "")
}
