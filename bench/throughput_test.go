package bench

import (
	"bytes"
	"flag"
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/wschaos/wschaos/internal/slab"
	"github.com/wschaos/wschaos/proxy"
)

const (
	// burstBytes is how much one path echoes per op: long enough to reach
	// a steady state, short enough that the three paths alternate often
	// and a burst of noise from other processes lands on all three.
	burstBytes = 1 << 20
	// windowBytes bounds the bytes in flight: the writer runs ahead of the
	// reader by at most this much, as a flow-controlled sender would.
	// Small enough to fit the loopback socket buffers on every hop.
	windowBytes = 256 << 10
)

// ioCounts are what the process as a whole has spent so far: the system
// calls that move bytes (every read and write on a socket, in every
// goroutine), the bytes they moved, the CPU time, user and system, and
// the page faults the kernel served without reading a disk (a page the
// heap touches for the first time, or again after it was handed back).
type ioCounts struct {
	calls, bytes, faults int64
	cpu                  time.Duration
}

// BenchmarkEchoThroughput measures how fast a stream of text messages
// echoes through each path, for 1 KiB and 64 KiB messages, with
// windowBytes in flight. One op streams burstBytes on each path in turn
// (rotating the order), each from a collected heap, so that the
// collections a path sees are paced by its own allocations, not by what
// the path before it left. It reports each path's MB/s, each proxy's share
// of the direct rate, and the bytes the wschaos proxy keeps per message
// it relayed both ways (its transcript). Where the kernel counts them
// (Linux), it also reports, for each path, the read and write system calls
// per message echoed, the bytes they copied, the CPU time used per byte
// echoed and the page faults per message: the client's, the echo
// server's and the proxy's together, since all three run in this process.
// And it reports the garbage collections that finished while each path
// streamed, per op: a heap that grows paces them, and each costs CPU
// that the streams share:
//
//	go test -run='^$' -bench=EchoThroughput -benchtime=100x -count=6 ./bench/
//
// The wschaos proxy is new at every op: its transcript keeps every frame,
// so one proxy for the whole run would grow its heap with the run's
// length, and the GC work that comes with it would fall on all three
// paths. kept-B/msg says what a long-lived proxy pays instead, measured
// once, after the timed ops, on one more proxy. With -throughput-keep=N
// the wschaos path is instead one proxy for the whole run that holds the
// newest N transcript entries, as `wschaos proxy` does (10,000 by
// default): a proxy left running, whose record lets old entries go.
//
//	go test -run='^$' -bench=EchoThroughput -benchtime=100x -count=6 ./bench/ -args -throughput-keep=10000
func BenchmarkEchoThroughput(b *testing.B) {
	for _, size := range []int{1 << 10, 64 << 10} {
		b.Run(fmt.Sprintf("%dKiB", size>>10), func(b *testing.B) {
			rig := newEchoRig(b)
			direct := dialEcho(b, rig.urls[pathDirect])
			defer direct.Close()
			toxi := dialEcho(b, rig.urls[pathToxiproxy])
			defer toxi.Close()
			count := burstBytes / size
			elapsed := make([]time.Duration, len(pathNames))
			gcs := make([]uint32, len(pathNames))
			kernel := make([]ioCounts, len(pathNames)) // what each path cost, as the kernel counts it
			_, ioErr := readIOCounts()
			turn := 0
			var lasting *proxy.Proxy // the one proxy, with -throughput-keep
			if *throughputKeep > 0 {
				lasting = proxy.NewServer(rig.urls[pathDirect])
				defer lasting.Close()
				lasting.Transcript().Keep(*throughputKeep)
			}
			for b.Loop() {
				wp := lasting
				if wp == nil {
					wp = proxy.NewServer(rig.urls[pathDirect])
				}
				via := dialEcho(b, wp.URL)
				conns := []*websocket.Conn{direct, via, toxi}
				for k := range conns {
					i := (turn + k) % len(conns)
					runtime.GC() // each path streams from a collected heap: the collections it sees are its own
					before, _ := readIOCounts()
					gc0 := gcsSoFar()
					d, err := stream(conns[i], size, count)
					if err != nil {
						b.Fatalf("%s: %v", pathNames[i], err)
					}
					gcs[i] += gcsSoFar() - gc0
					after, _ := readIOCounts()
					elapsed[i] += d
					kernel[i].calls += after.calls - before.calls
					kernel[i].bytes += after.bytes - before.bytes
					kernel[i].cpu += after.cpu - before.cpu
					kernel[i].faults += after.faults - before.faults
				}
				via.Close()
				if wp != lasting {
					wp.Close()
				}
				turn++
			}
			total := float64(b.N * count * size)
			rate := func(i int) float64 { return total / 1e6 / elapsed[i].Seconds() }
			for i, name := range pathNames {
				b.ReportMetric(rate(i), name+"-MB/s")
			}
			if ioErr == nil {
				msgs := float64(b.N * count)
				for i, name := range pathNames {
					b.ReportMetric(float64(kernel[i].calls)/msgs, name+"-syscalls/msg")
					b.ReportMetric(float64(kernel[i].bytes)/total, name+"-copied/B")
					b.ReportMetric(float64(kernel[i].cpu)/total, name+"-cpu-ns/B")
					b.ReportMetric(float64(kernel[i].faults)/msgs, name+"-faults/msg")
				}
			}
			for _, i := range []int{pathWschaos, pathToxiproxy} {
				b.ReportMetric(rate(i)/rate(pathDirect), pathNames[i]+"/direct")
			}
			for i, name := range pathNames {
				b.ReportMetric(float64(gcs[i])/float64(b.N), name+"-gcs/op")
			}
			b.ReportMetric(keptPerMsg(b, rig.urls[pathDirect], size, count), "wschaos-kept-B/msg")
		})
	}
}

// throughputKeep, when above 0, makes BenchmarkEchoThroughput's wschaos
// path one proxy for the run that keeps this many transcript entries.
var throughputKeep = flag.Int("throughput-keep", 0,
	"BenchmarkEchoThroughput: one wschaos proxy for the whole run, holding the newest N transcript entries (0: a new proxy per op)")

// gcsSoFar is how many garbage collections the runtime has finished.
func gcsSoFar() uint32 {
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.NumGC
}

// keptPerMsg streams one more burst through a new wschaos proxy and
// returns the live heap the proxy holds afterwards, still open, per
// message: what the heap grew by, plus the spare slabs its payloads took,
// which were live before it began and so are not in that growth.
func keptPerMsg(b *testing.B, upstream string, size, count int) float64 {
	var before, after runtime.MemStats
	settleHeap()
	runtime.ReadMemStats(&before)
	reused := slab.ReusedBytes()
	wp := proxy.NewServer(upstream)
	defer wp.Close()
	via := dialEcho(b, wp.URL)
	defer via.Close()
	if _, err := stream(via, size, count); err != nil {
		b.Fatalf("wschaos, measuring what it keeps: %v", err)
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	grew := float64(after.HeapAlloc) - float64(before.HeapAlloc)
	return (grew + float64(slab.ReusedBytes()-reused)) / float64(count)
}

// settleHeap collects three times, letting the finalizer goroutine run
// between, so that the slabs of proxies already closed are spare or gone
// before a measure: a finalizer puts a slab back after the collection
// that found it unreachable, and one the spares have no room for goes at
// the next.
func settleHeap() {
	for range 3 {
		runtime.GC()
		runtime.Gosched()
	}
}

// stream writes count text messages of size bytes and reads their
// echoes, with at most windowBytes unanswered, and returns how long it
// took.
func stream(c *websocket.Conn, size, count int) (time.Duration, error) {
	window := make(chan struct{}, max(1, windowBytes/size))
	msg := bytes.Repeat([]byte("x"), size)
	read := make(chan error, 1)
	start := time.Now()
	go func() {
		buf := make([]byte, copyBuffer)
		for range count {
			n, err := drain(c, buf)
			if err == nil && n != int64(size) {
				err = fmt.Errorf("echo of %d bytes, want %d", n, size)
			}
			if err != nil {
				read <- err
				return
			}
			<-window
		}
		read <- nil
	}()
	for range count {
		window <- struct{}{}
		if err := c.WriteMessage(websocket.TextMessage, msg); err != nil {
			return 0, fmt.Errorf("failed to write: %w", err)
		}
	}
	if err := <-read; err != nil {
		return 0, fmt.Errorf("failed to read an echo: %w", err)
	}
	return time.Since(start), nil
}
