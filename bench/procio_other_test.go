//go:build !linux

package bench

import (
	"errors"
	"time"
)

type ioCounts struct {
	calls, bytes int64
	cpu          time.Duration
}

// readIOCounts is Linux's alone.
func readIOCounts() (ioCounts, error) {
	return ioCounts{}, errors.New("no /proc/self/io here")
}
