package scenarios

import (
	"fmt"
	"sync"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/wschaos/wschaos/chaos"
	"github.com/wschaos/wschaos/client"
	"github.com/wschaos/wschaos/profile"
	"github.com/wschaos/wschaos/transcript"
)

const (
	// herdSize is how many clients the server drops at once: enough for
	// lock-step to show, few enough for a spec under -race on 2 cores.
	herdSize = 40
	// herdBucket is the width of the window reconnects are counted in.
	herdBucket = 100 * time.Millisecond
	// herdPeak is the most reconnects one window may hold: the mattermost
	// jitter spreads them over 2 s, about 2 per 100 ms on average.
	herdPeak = herdSize / 4
)

var _ = Describe("Thundering herd", Label("herd", "mattermost"), func() {
	spec("all clients dropped at once do not reconnect in lock-step", func(ctx SpecContext, mk maker) {
		w := mk(profile.MattermostProfile())
		var mu sync.Mutex
		connected, retrying := map[int]int{}, map[int]int{}
		w.moreClients(herdSize, func(i int, ch client.StateChange) {
			mu.Lock()
			defer mu.Unlock()
			switch {
			case ch.To == client.StateConnected:
				connected[i]++
			case ch.To == client.StateReconnecting && ch.Err != nil:
				retrying[i]++
			}
		})
		total := func(m map[int]int, atLeast int) int {
			mu.Lock()
			defer mu.Unlock()
			n := 0
			for _, v := range m {
				if v >= atLeast {
					n++
				}
			}
			return n
		}
		Eventually(ctx, func() int { return total(connected, 1) }).WithTimeout(w.wait).Should(w.unlessIdle(Equal(herdSize)))

		cutAt := w.now()
		w.srv.CutAll(chaos.Cut{Kind: chaos.FIN})
		Eventually(ctx, func() int { return total(retrying, 1) }).WithTimeout(w.wait).Should(w.unlessIdle(Equal(herdSize)),
			"every dropped client must be waiting to retry")
		// Step from retry to retry; each step waits for exactly the clients
		// whose timer it fired to be back.
		for back := 0; back < herdSize; {
			next, ok := w.clock.Next()
			Expect(ok).To(BeTrue())
			firing := 0
			for i := range herdSize {
				if at, ok := w.clock.NextFor(herdOwner(i)); ok && at.Equal(next) {
					firing++
				}
			}
			w.step()
			back += firing
			Eventually(ctx, func() int { return total(connected, 2) }).WithTimeout(w.wait).
				Should(w.unlessIdle(BeNumerically(">=", back)), "clients back at %v", w.now())
		}

		peak, at := 0, time.Duration(0)
		buckets := map[time.Duration]int{}
		for _, e := range w.entries(transcript.KindDial) {
			if e.At > cutAt {
				b := (e.At - cutAt).Truncate(herdBucket)
				if buckets[b]++; buckets[b] > peak {
					peak, at = buckets[b], b
				}
			}
		}
		Expect(peak).To(BeNumerically("<=", herdPeak),
			"%d of %d dropped clients reconnected in the same %v (from %v after the drop): a lock-step herd",
			peak, herdSize, herdBucket, at)
		AddReportEntry("herd", fmt.Sprintf("peak %d reconnects per %v of %d clients", peak, herdBucket, herdSize),
			ReportEntryVisibilityFailureOrVerbose)
	}, noJitter.wanting("a lock-step herd"))
})
