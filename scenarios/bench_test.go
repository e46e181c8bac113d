package scenarios_test

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/wschaos/wschaos/chaos"
	"github.com/wschaos/wschaos/client"
	"github.com/wschaos/wschaos/fakeserver"
	"github.com/wschaos/wschaos/profile"
	"github.com/wschaos/wschaos/vclock"
)

// BenchmarkHourOfBackoff measures the wall time of a mattermost client
// refused 21 times in a row: over an hour of virtual backoff (seven 3 s
// waits, 192 s, 243 s, then 300 s), stepped timer by timer on the virtual
// clock over real loopback sockets. It reports virtual seconds per wall
// second as "virtual/wall".
func BenchmarkHourOfBackoff(b *testing.B) {
	const attempts = 21
	var virtual time.Duration
	for i := 0; b.Loop(); i++ {
		virtual = runRefused(b, uint64(i), attempts)
	}
	if virtual < time.Hour {
		b.Fatalf("covered only %v of virtual time", virtual)
	}
	perOp := b.Elapsed() / time.Duration(b.N)
	b.ReportMetric(virtual.Seconds()/perOp.Seconds(), "virtual/wall")
	b.ReportMetric(virtual.Seconds(), "virtual-s/op")
}

// runRefused lets a client fail n attempts against a refusing server and
// returns the virtual time it took.
func runRefused(b *testing.B, seed uint64, n int) time.Duration {
	clock := vclock.New()
	srv := fakeserver.NewUnstartedServer(profile.MattermostProfile())
	srv.Clock, srv.Seed, srv.Faults = clock, seed, []chaos.Fault{chaos.Refuse(503)}
	srv.Start()
	defer srv.Close()
	retrying := make(chan struct{}, 1)
	c := client.New(srv.URL, &client.Options{
		Profile: profile.MattermostProfile(), Clock: clock, Rand: rand.New(rand.NewPCG(seed, 1)),
	})
	c.OnState(func(ch client.StateChange) {
		if ch.To == client.StateReconnecting && ch.Err != nil {
			retrying <- struct{}{}
		}
	})
	if err := c.Start(); err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	for i := 1; i <= n; i++ {
		select {
		case <-retrying: // failure i: the retry timer is armed
		case <-time.After(10 * time.Second):
			b.Fatalf("no retry after attempt %d", i)
		}
		if i < n {
			if _, ok := clock.AdvanceToNext(); !ok {
				b.Fatalf("no timer pending after attempt %d", i)
			}
		}
	}
	return clock.Elapsed()
}
