package bench

import (
	"bytes"
	"flag"
	"slices"
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

// latencyAlone names the one proxy BenchmarkEchoLatency measures beside
// the direct path, leaving the other out of the rotation: one proxy's
// goroutines still winding down can delay the next path's round trip, so
// this checks what each adds with no other proxy in the way.
var latencyAlone = flag.String("latency-alone", "",
	`BenchmarkEchoLatency: measure only "wschaos" or "toxiproxy" beside the direct path`)

// BenchmarkEchoLatency measures a small text message's round trip to a
// loopback echo, directly, through the wschaos proxy (no fault) and
// through Toxiproxy (no toxic). One op is one round trip on each path, in
// a rotating order, so all three see the same moment of a noisy machine.
// It reports each path's p50 and p99, and what each proxy adds to the
// direct p50 and p99 (a difference of percentiles):
//
//	go test -run='^$' -bench=EchoLatency -benchtime=20000x -count=6 ./bench/
//	go test -run='^$' -bench=EchoLatency -benchtime=20000x -count=6 ./bench/ -args -latency-alone=toxiproxy
func BenchmarkEchoLatency(b *testing.B) {
	rig := newEchoRig(b)
	conns := rig.dial(b)
	measured := []int{pathDirect, pathWschaos, pathToxiproxy}
	if *latencyAlone != "" {
		i := slices.Index(pathNames, *latencyAlone)
		if i <= pathDirect {
			b.Fatalf("-latency-alone=%q: want wschaos or toxiproxy", *latencyAlone)
		}
		measured = []int{pathDirect, i}
	}
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
		for k := range measured {
			i := measured[(turn+k)%len(measured)]
			samples[i] = append(samples[i], roundTrip(conns[i]))
		}
		turn++
	}
	p50 := make([]time.Duration, len(conns))
	p99 := make([]time.Duration, len(conns))
	for _, i := range measured {
		p50[i], p99[i] = percentile(samples[i], 0.50), percentile(samples[i], 0.99)
		b.ReportMetric(micros(p50[i]), pathNames[i]+"-p50-us")
		b.ReportMetric(micros(p99[i]), pathNames[i]+"-p99-us")
	}
	for _, i := range measured[1:] {
		b.ReportMetric(micros(p50[i]-p50[pathDirect]), pathNames[i]+"-added-p50-us")
		b.ReportMetric(micros(p99[i]-p99[pathDirect]), pathNames[i]+"-added-p99-us")
	}
}
