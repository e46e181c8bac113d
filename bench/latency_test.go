package bench

import (
	"bytes"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

const (
	// smallMessage is a typical heartbeat or chat event: latency-bound,
	// not bandwidth-bound.
	smallMessage = 64
	// latencyWarmup round trips per path come before timing, so lazily
	// grown buffers and a cold scheduler do not land in the tail.
	latencyWarmup = 200
)

// BenchmarkEchoLatency measures a small text message's round trip to a
// loopback echo, directly, through the wschaos proxy (no fault) and
// through Toxiproxy (no toxic). One op is one round trip on each path, in
// a rotating order, so all three see the same moment of a noisy machine.
// It reports each path's p50 and p99, and what each proxy adds to the
// direct p50 and p99 (a difference of percentiles):
//
//	go test -run='^$' -bench=EchoLatency -benchtime=20000x -count=6 ./bench/
func BenchmarkEchoLatency(b *testing.B) {
	rig := newEchoRig(b)
	conns := rig.dial(b)
	msg := bytes.Repeat([]byte("x"), smallMessage)
	buf := make([]byte, copyBuffer)
	roundTrip := func(c *websocket.Conn) time.Duration {
		start := time.Now()
		if err := c.WriteMessage(websocket.TextMessage, msg); err != nil {
			b.Fatal(err)
		}
		if _, err := drain(c, buf); err != nil {
			b.Fatal(err)
		}
		return time.Since(start)
	}
	for _, c := range conns {
		for range latencyWarmup {
			roundTrip(c)
		}
	}
	samples := make([][]time.Duration, len(conns))
	turn := 0
	for b.Loop() {
		for k := range conns {
			i := (turn + k) % len(conns)
			samples[i] = append(samples[i], roundTrip(conns[i]))
		}
		turn++
	}
	p50 := make([]time.Duration, len(conns))
	p99 := make([]time.Duration, len(conns))
	for i, name := range pathNames {
		p50[i], p99[i] = percentile(samples[i], 0.50), percentile(samples[i], 0.99)
		b.ReportMetric(micros(p50[i]), name+"-p50-us")
		b.ReportMetric(micros(p99[i]), name+"-p99-us")
	}
	for _, i := range []int{pathWschaos, pathToxiproxy} {
		b.ReportMetric(micros(p50[i]-p50[pathDirect]), pathNames[i]+"-added-p50-us")
		b.ReportMetric(micros(p99[i]-p99[pathDirect]), pathNames[i]+"-added-p99-us")
	}
}
