package bench

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"syscall"
	"time"
)

// readIOCounts reads the process's counts so far: the kernel's count of
// read and write system calls and the bytes they moved (/proc/self/io),
// and the CPU time used and the page faults served (getrusage).
func readIOCounts() (ioCounts, error) {
	b, err := os.ReadFile("/proc/self/io")
	if err != nil {
		return ioCounts{}, err
	}
	var c ioCounts
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return ioCounts{}, fmt.Errorf("getrusage: %w", err)
	}
	c.cpu = time.Duration(syscall.TimevalToNsec(ru.Utime) + syscall.TimevalToNsec(ru.Stime))
	c.faults = ru.Minflt
	s := bufio.NewScanner(bytes.NewReader(b))
	for s.Scan() {
		var v int64
		var key string
		if _, err := fmt.Sscanf(s.Text(), "%s %d", &key, &v); err != nil {
			return ioCounts{}, fmt.Errorf("/proc/self/io: line %q: %w", s.Text(), err)
		}
		switch key {
		case "syscr:", "syscw:":
			c.calls += v
		case "rchar:", "wchar:":
			c.bytes += v
		}
	}
	return c, nil
}
