//go:build !linux

package bench

import "errors"

// readIOCounts is Linux's alone.
func readIOCounts() (ioCounts, error) {
	return ioCounts{}, errors.New("no /proc/self/io here")
}
