package bench

import (
	"context"
	"flag"
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wschaos/wschaos/backoff"
	"github.com/wschaos/wschaos/chaos"
	"github.com/wschaos/wschaos/client"
	"github.com/wschaos/wschaos/fakeserver"
	"github.com/wschaos/wschaos/profile"
	"github.com/wschaos/wschaos/transcript"
	"github.com/wschaos/wschaos/vclock"
)

var (
	herdClients = flag.Int("herd-clients", 1000,
		"clients BenchmarkHerd drops at once, per policy (docs/herd.svg: 5000)")
	herdOutage = flag.Duration("herd-outage", 0,
		"virtual time after the drop during which the server refuses every reconnect with 503 (0: none)")
	herdSeed = flag.Uint64("herd-seed", 1, "seed of the clients' jitter in BenchmarkHerd")
)

const (
	// herdStep is how far each step moves the virtual clock, and the
	// width of the histogram's bins: a reconnect due within a step is
	// stamped at its end, so it lands in the bin of its true time.
	herdStep = 100 * time.Millisecond
	// herdMaxSteps bounds a run: a policy that leaves clients out longer
	// than this fails the run rather than stepping forever.
	herdMaxSteps = 1200
	// herdConnectTimeout is the clients' connect timeout: an odd length no
	// backoff or heartbeat produces, so the herd clock tells dials from
	// waits (see herdClock). It never fires: no step goes that far.
	herdConnectTimeout = time.Hour + 7*time.Nanosecond
	// herdStartBatch clients are started at once before the drop, so the
	// first connects do not overflow the listen backlog.
	herdStartBatch = 500
	// herdCloseWorkers close the clients after a run, in parallel.
	herdCloseWorkers = 16
	// herdWait bounds a whole herd run on the real clock: it fails rather
	// than hang on a client that never acts.
	herdWait = 2 * time.Minute
	// herdFileReserve are the files the process needs besides the herd's
	// two per client (its socket, and the server's end).
	herdFileReserve = 200
)

// herdPolicy is a backoff policy under test, named for the table.
type herdPolicy struct {
	name   string
	policy backoff.Policy
}

// herdPolicies are the policies compared: the two profiles' own, and the
// standard families at a 1 s base (the queue profile's), capped at 30 s.
var herdPolicies = []herdPolicy{
	{"exponential, no jitter (queue)", backoff.Exponential{Base: time.Second, Factor: 2}},
	{"mattermost", backoff.MattermostDefaults},
	{"gRPC", backoff.GRPCDefaults},
	{"AWS full jitter", backoff.FullJitter(time.Second, 30*time.Second)},
	{"AWS equal jitter", backoff.EqualJitter(time.Second, 30*time.Second)},
	{"AWS decorrelated jitter", backoff.Decorrelated{Base: time.Second, Cap: 30 * time.Second}},
}

// herdResult is one herd's reconnects, in virtual time since the drop.
type herdResult struct {
	clients  int
	attempts []time.Duration // every reconnect attempt (dial), in order
	back     []time.Duration // each client's successful reconnect, in order
	steps    int
	wall     time.Duration // wall time of the stepping
}

// BenchmarkHerd drops -herd-clients reference clients at once (a close
// 1001 on every connection, as a restarting server sends) and steps the
// shared virtual clock 100 ms at a time until every one is back, once per
// backoff policy. Clients and server talk over real loopback sockets.
// It reports the peak reconnect attempts in any 100 ms, when the median
// and the last client were back, and the virtual seconds stepped per wall
// second. Everything but the wall time depends only on the seed
// (-herd-seed), so repeated runs differ only in virtual/wall:
//
//	go test -run='^$' -bench=Herd -benchtime=1x -count=3 ./bench/ -herd-clients=5000
func BenchmarkHerd(b *testing.B) {
	for _, hp := range herdPolicies {
		b.Run(strings.NewReplacer(" ", "_", ",", "", "(", "", ")", "").Replace(hp.name), func(b *testing.B) {
			var r herdResult
			for b.Loop() {
				r = runHerd(b, hp.policy, herdSize(b, *herdClients), *herdOutage, *herdSeed)
			}
			peak, _ := r.peak()
			b.ReportMetric(float64(r.clients), "clients")
			b.ReportMetric(float64(peak), "peak/100ms")
			b.ReportMetric(r.backAt(0.5).Seconds(), "median-back-s")
			b.ReportMetric(r.backAt(1).Seconds(), "last-back-s")
			b.ReportMetric(float64(len(r.attempts))/float64(r.clients), "attempts/client")
			b.ReportMetric(r.virtual().Seconds()/r.wall.Seconds(), "virtual/wall")
		})
	}
}

// runHerd connects n clients with policy to a fake server on a shared
// virtual clock, drops them all at once, and steps until all are back.
func runHerd(tb testing.TB, policy backoff.Policy, n int, outage time.Duration, seed uint64) herdResult {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), herdWait)
	defer cancel()
	vc := vclock.New()
	clock := newHerdClock(vc, herdConnectTimeout)
	srv := fakeserver.NewUnstartedServer(profile.QueueProfile())
	srv.Clock, srv.Seed = vc, seed
	if outage > 0 {
		srv.Faults = []chaos.Fault{chaos.FromAttempt(n+1, chaos.During(0, outage, chaos.Refuse(503)))}
	}
	srv.Start()
	defer srv.Close()

	var connected, retrying atomic.Int64 // announcements, all clients
	herd := make([]*client.Client, n)
	defer closeAll(herd)
	for i := range herd {
		p := profile.QueueProfile()
		p.Backoff = policy
		c := client.New(srv.URL+"/"+strconv.Itoa(i), &client.Options{
			Profile: p, Clock: clock.view(), Rand: rand.New(rand.NewPCG(seed, uint64(i))),
			ConnectTimeout: herdConnectTimeout,
		})
		c.OnState(func(ch client.StateChange) {
			switch {
			case ch.To == client.StateConnected:
				connected.Add(1)
			case ch.To == client.StateReconnecting && ch.Err != nil:
				retrying.Add(1)
			}
		})
		herd[i] = c
	}
	for i, c := range herd {
		if err := c.Start(); err != nil {
			tb.Fatal(err)
		}
		if (i+1)%herdStartBatch == 0 || i == n-1 {
			waitFor(ctx, tb, fmt.Sprintf("%d clients connected", i+1), func() bool { return connected.Load() >= int64(i+1) })
		}
	}
	if err := clock.settle(ctx); err != nil {
		tb.Fatal(err)
	}

	srv.CutAll(chaos.Cut{Kind: chaos.CloseFrame, Code: profile.StatusGoingAway, Reason: "restart"})
	waitFor(ctx, tb, "every client waiting to retry", func() bool { return retrying.Load() >= int64(n) })
	r := herdResult{clients: n}
	start := time.Now()
	for read := 0; len(r.back) < n; {
		if r.steps++; r.steps > herdMaxSteps {
			tb.Fatalf("only %d of %d clients back after %v", len(r.back), n, vc.Elapsed())
		}
		clock.advance(herdStep)
		if err := clock.settle(ctx); err != nil {
			tb.Fatal(err)
		}
		// The clients have heard back; the server may still be recording
		// the opens it upgraded. OpenConns waits for those, so each open
		// is stamped with the step it belongs to.
		srv.OpenConns()
		entries := srv.Transcript().Since(read)
		read += len(entries)
		r.record(entries)
	}
	r.wall = time.Since(start)
	slices.Sort(r.attempts)
	slices.Sort(r.back)
	return r
}

// record keeps the reconnect attempts and opens among entries: those of
// attempts after the first n, the herd's first connects.
func (r *herdResult) record(entries []transcript.Entry) {
	for _, e := range entries {
		switch {
		case e.Attempt <= r.clients:
		case e.Kind == transcript.KindDial:
			r.attempts = append(r.attempts, e.At)
		case e.Kind == transcript.KindOpen:
			r.back = append(r.back, e.At)
		}
	}
}

// herdSize is want, or fewer clients if the open-file limit does not
// allow two sockets each in one process.
func herdSize(tb testing.TB, want int) int {
	limit, err := openFileLimit()
	if err != nil {
		tb.Fatalf("failed to read the open-file limit: %v", err)
	}
	if n := (limit - herdFileReserve) / 2; n < want {
		tb.Logf("%d clients, not %d: the open-file limit is %d", n, want, limit)
		return max(n, 1)
	}
	return want
}

// waitFor polls cond until it holds, on the real clock: the clients
// announce through callbacks, so their effects come within milliseconds.
func waitFor(ctx context.Context, tb testing.TB, what string, cond func() bool) {
	tb.Helper()
	for !cond() {
		select {
		case <-ctx.Done():
			tb.Fatalf("timed out waiting for %s", what)
		case <-time.After(time.Millisecond):
		}
	}
}

// closeAll closes every client, herdCloseWorkers at a time.
func closeAll(herd []*client.Client) {
	var wg sync.WaitGroup
	next := make(chan *client.Client)
	for range herdCloseWorkers {
		wg.Go(func() {
			for c := range next {
				c.Close()
			}
		})
	}
	for _, c := range herd {
		if c != nil {
			next <- c
		}
	}
	close(next)
	wg.Wait()
}

// bins counts the reconnect attempts in each herdStep of virtual time
// after the drop: bin i holds (i·step, (i+1)·step].
func (r herdResult) bins() []int {
	var out []int
	for _, at := range r.attempts {
		i := max(0, int((at+herdStep-1)/herdStep)-1)
		for len(out) <= i {
			out = append(out, 0)
		}
		out[i]++
	}
	return out
}

// peak is the most attempts in one bin, and that bin's index.
func (r herdResult) peak() (int, int) {
	bins := r.bins()
	if len(bins) == 0 {
		return 0, 0
	}
	i := slices.Index(bins, slices.Max(bins))
	return bins[i], i
}

// backAt is the time by which fraction q of the clients were back.
func (r herdResult) backAt(q float64) time.Duration {
	return percentile(slices.Clone(r.back), q)
}

// virtual is the virtual time the run stepped through.
func (r herdResult) virtual() time.Duration { return time.Duration(r.steps) * herdStep }
