//go:build linux

package bench

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/wschaos/wschaos/fakeserver"
	"github.com/wschaos/wschaos/profile"
)

var (
	capacityConns = flag.Int("capacity-conns", 20000,
		"connections BenchmarkServerCapacity tries to hold; capped by the open-file limit")
	capacityHold = flag.Duration("capacity-hold", 5*time.Second,
		"how long BenchmarkServerCapacity keeps heartbeating once every connection is open")
)

const (
	// perHelper caps the sockets one helper process holds: half the
	// 20,000 open files a process may have here, with room to spare.
	perHelper = 10000
	// fdReserve are the server process's files that are not connections
	// (listener, poller, stdio, pipes to the helpers, the test binary's
	// own), so the server never runs into the limit while accepting.
	fdReserve = 100
	// helperWait bounds one helper's dial phase or heartbeat round on the
	// real clock.
	helperWait = 3 * time.Minute
)

// BenchmarkServerCapacity holds as many connections as it can (up to
// -capacity-conns, capped by the open-file limit) to one fake server
// playing profile "queue", all heartbeating: every client sends the
// profile's ping, the server answers each with its pong. Client sockets
// live in helper processes (this binary, re-executed), so the server's
// process spends its whole open-file limit on connections. It reports the
// connections held, the heartbeats answered per second while holding
// them, the server's memory per connection after one heartbeat each (live
// heap, goroutine stacks and goroutines, resident set), and the live heap
// each later heartbeat adds (its transcript lines). Memory the runtime got
// from the OS is left out: it never shrinks, so after a first run in the
// same process its growth says nothing.
//
//	go test -run='^$' -bench=ServerCapacity -benchtime=1x -count=6 ./bench/
func BenchmarkServerCapacity(b *testing.B) {
	want := min(*capacityConns, fileBudget(b))
	if want <= 0 {
		b.Skip("no file descriptors to spare for connections")
	}
	for b.Loop() {
		r := holdConnections(b, want, *capacityHold)
		b.ReportMetric(float64(r.held), "conns")
		b.ReportMetric(float64(r.limit), "fd-limit")
		b.ReportMetric(float64(r.failed), "failed")
		b.ReportMetric(r.perSecond, "heartbeats/s")
		b.ReportMetric(r.perConn.heap, "heap-B/conn")
		b.ReportMetric(r.perConn.stack, "stack-B/conn")
		b.ReportMetric(r.perConn.goroutines, "goroutines/conn")
		b.ReportMetric(r.perConn.rss, "rss-B/conn")
		b.ReportMetric(r.perHeartbeat, "B/heartbeat")
	}
}

// capacityResult is one holdConnections run.
type capacityResult struct {
	held, failed, limit int
	perSecond           float64 // heartbeats answered per second, after the first round
	perConn             memPer  // after one heartbeat each
	perHeartbeat        float64 // live heap each later heartbeat adds
}

// holdConnections opens n connections from helpers to a fresh server,
// heartbeats them for hold, and measures the server's process.
func holdConnections(b *testing.B, n int, hold time.Duration) capacityResult {
	srv := fakeserver.NewServer(profile.QueueProfile())
	defer srv.Close()
	base := takeMem()

	var helpers []*helper
	defer func() {
		for _, h := range helpers {
			h.stop()
		}
	}()
	for i, left := 0, n; left > 0; i++ {
		k := min(perHelper, left)
		h, err := startHelper(srv.URL, k, fmt.Sprintf("127.0.0.%d", 2+i))
		if err != nil {
			b.Fatal(err)
		}
		helpers = append(helpers, h)
		left -= k
	}
	failed := 0
	for _, h := range helpers {
		_, f := h.expect(b, "open")
		failed += f
	}
	held := srv.OpenConns()

	answered, f := pingAll(b, helpers)
	failed += f
	first := takeMem()
	rounds, start := 0, time.Now()
	var later int
	for time.Since(start) < hold || rounds == 0 {
		a, f := pingAll(b, helpers)
		later, failed, rounds = later+a, failed+f, rounds+1
	}
	elapsed := time.Since(start)
	last := takeMem()

	limit, _ := openFileLimit()
	r := capacityResult{held: held, failed: failed, limit: limit, perSecond: float64(later) / elapsed.Seconds()}
	if held > 0 && answered > 0 {
		r.perConn = first.minus(base).per(held)
		r.perHeartbeat = float64(int64(last.heap)-int64(first.heap)) / float64(later)
	}
	return r
}

// pingAll runs one heartbeat round on every helper at once.
func pingAll(b *testing.B, helpers []*helper) (answered, failed int) {
	for _, h := range helpers {
		h.send(b, "ping")
	}
	for _, h := range helpers {
		a, f := h.expect(b, "pinged")
		answered, failed = answered+a, failed+f
	}
	return answered, failed
}

// helper is a running capacity-client process.
type helper struct {
	cmd   *exec.Cmd
	in    io.WriteCloser
	out   *bufio.Scanner
	lines chan string
}

func startHelper(url string, n int, source string) (*helper, error) {
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), roleEnv+"="+capacityClientRole,
		envURL+"="+url, envConns+"="+strconv.Itoa(n), envSource+"="+source)
	cmd.Stderr = os.Stderr
	in, err := cmd.StdinPipe()
	if err != nil {
		return nil, fmt.Errorf("failed to start a capacity client: %w", err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, fmt.Errorf("failed to start a capacity client: %w", err)
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("failed to start a capacity client: %w", err)
	}
	h := &helper{cmd: cmd, in: in, out: bufio.NewScanner(out), lines: make(chan string)}
	go func() {
		defer close(h.lines)
		for h.out.Scan() {
			h.lines <- h.out.Text()
		}
	}()
	return h, nil
}

func (h *helper) send(b *testing.B, order string) {
	if _, err := fmt.Fprintln(h.in, order); err != nil {
		b.Fatalf("capacity client %d: failed to send %q: %v", h.cmd.Process.Pid, order, err)
	}
}

// expect reads the helper's next answer, which must be word and two
// counts.
func (h *helper) expect(b *testing.B, word string) (int, int) {
	select {
	case line, ok := <-h.lines:
		var x, y int
		if _, err := fmt.Sscanf(line, word+" %d %d", &x, &y); !ok || err != nil {
			b.Fatalf("capacity client %d: got %q, want %q and two counts", h.cmd.Process.Pid, line, word)
		}
		return x, y
	case <-time.After(helperWait):
		b.Fatalf("capacity client %d: no %q within %v", h.cmd.Process.Pid, word, helperWait)
	}
	panic("unreachable")
}

// stop closes the helper's sockets and waits for it to exit.
func (h *helper) stop() {
	fmt.Fprintln(h.in, "quit")
	h.in.Close()
	for range h.lines {
	}
	h.cmd.Wait()
}

// mem is what the process holds: live heap, goroutine stacks and resident
// set, in bytes; and goroutines.
type mem struct{ heap, stack, rss, goroutines int64 }

// memPer is a mem difference per connection.
type memPer struct{ heap, stack, rss, goroutines float64 }

// takeMem collects garbage, returns what it can to the OS, and reads the
// process's memory.
func takeMem() mem {
	runtime.GC()
	debug.FreeOSMemory()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return mem{heap: int64(ms.HeapAlloc), stack: int64(ms.StackInuse), rss: residentSet(),
		goroutines: int64(runtime.NumGoroutine())}
}

func (m mem) minus(o mem) mem {
	return mem{heap: m.heap - o.heap, stack: m.stack - o.stack, rss: m.rss - o.rss,
		goroutines: m.goroutines - o.goroutines}
}

func (m mem) per(n int) memPer {
	f := float64(n)
	return memPer{heap: float64(m.heap) / f, stack: float64(m.stack) / f, rss: float64(m.rss) / f,
		goroutines: float64(m.goroutines) / f}
}

// residentSet reads VmRSS from /proc/self/status, in bytes; 0 if it
// cannot.
func residentSet() int64 {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for line := range strings.Lines(string(data)) {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			return kb << 10
		}
	}
	return 0
}

// fileBudget is how many more files this process may open, less
// fdReserve.
func fileBudget(b *testing.B) int {
	limit, err := openFileLimit()
	if err != nil {
		b.Fatalf("failed to read the open-file limit: %v", err)
	}
	open, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		b.Fatalf("failed to count open files: %v", err)
	}
	return limit - len(open) - fdReserve
}
