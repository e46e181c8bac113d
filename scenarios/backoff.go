package scenarios

import (
	"fmt"
	"math/rand/v2"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/wschaos/wschaos/backoff"
	"github.com/wschaos/wschaos/chaos"
	"github.com/wschaos/wschaos/client"
	"github.com/wschaos/wschaos/fakeserver"
	"github.com/wschaos/wschaos/internal/flaw"
	"github.com/wschaos/wschaos/profile"
)

// window is [lo, hi): the range a reconnect delay must fall in.
type window struct{ lo, hi time.Duration }

func s(n float64) time.Duration { return time.Duration(n * float64(time.Second)) }

// mattermostWindow is SPEC.md's schedule for failure n, written out rather
// than taken from the profile, so a wrong profile cannot vouch for itself:
// 3 s flat ×7, then 3 s·n² (192 s, 243 s), capped at 300 s; plus [0, 2 s).
func mattermostWindow(n int) window {
	base := map[int]float64{8: 192, 9: 243}[n]
	switch {
	case n <= 7:
		base = 3
	case n >= 10:
		base = 300
	}
	return window{s(base), s(base + 2)}
}

// queueDelays is SPEC.md's schedule for profile "queue": then it gives up.
var queueDelays = []time.Duration{s(1), s(2), s(4), s(8), s(16)}

// retryDelays measures, from the server's side, each wait between the end
// of one attempt and the dial of the next.
func retryDelays(es []fakeserver.Entry) []time.Duration {
	ends := map[int]time.Duration{}
	var delays []time.Duration
	for _, e := range es {
		switch e.Kind {
		case fakeserver.KindRefuse, fakeserver.KindClose, fakeserver.KindReset:
			ends[e.Attempt] = e.At
		case fakeserver.KindDial:
			if end, ok := ends[e.Attempt-1]; ok {
				delays = append(delays, e.At-end)
			}
		}
	}
	return delays
}

// failAttempts starts the client and lets n attempts fail (the server's
// faults must refuse or cut each), then returns the measured delays
// between them.
func (w *world) failAttempts(ctx SpecContext, n int) []time.Duration {
	GinkgoHelper()
	w.start()
	for i := 1; i <= n; i++ {
		ch := w.awaitAny(ctx, client.StateReconnecting, client.StateGaveUp)
		Expect(ch.To).To(Equal(client.StateReconnecting), "the client gave up after %d failed attempts", i)
		if i == n {
			break
		}
		w.step()
		w.awaitTranscript(ctx, fmt.Sprintf("dial %d", i+1), hasKind(fakeserver.KindDial, i+1))
	}
	return retryDelays(w.srv.Transcript().Entries())
}

// expectWithin checks each delay against the window for its failure.
func expectWithin(delays []time.Duration, want func(n int) window) {
	GinkgoHelper()
	for i, d := range delays {
		win := want(i + 1)
		Expect(d).To(And(BeNumerically(">=", win.lo), BeNumerically("<", win.hi)),
			"the delay after failure %d was %v, want [%v, %v); all delays: %v", i+1, d, win.lo, win.hi, delays)
	}
}

// lowSource makes every jitter draw 0, exposing the base schedule. (A source
// of constant 0 would not do: math/rand/v2 rejects it and draws forever.)
type lowSource struct{}

func (lowSource) Uint64() uint64 { return 1 }

func flat(w window) func(int) window { return func(int) window { return w } }

// Twins with the backoff of other clients.
var (
	rxjsGivesUp = misconfigured("gives up after 7 attempts (an RxJS port of the mattermost client)", func(p *profile.Profile) {
		p.Backoff = backoff.Limit{Policy: backoff.MattermostDefaults, Attempts: 7}
	}, "gave up after 8 failed attempts")
	rxjsPrevious = misconfigured("backs off 1, 2, 4, 8, 16, 30 s (the schedule that port replaced)", func(p *profile.Profile) {
		p.Backoff = backoff.Exponential{Base: time.Second, Factor: 2, Max: 30 * time.Second}
	}, "the delay after failure 1 was 1s")
	cliffOffByOne = misconfigured("starts n² one failure early (> 6 instead of > 7)", func(p *profile.Profile) {
		m := backoff.MattermostDefaults
		m.MaxFails = 6
		p.Backoff = m
	}, "the delay after failure 7 was 2m2")
	capTooLow = misconfigured("caps at 240 s instead of 300 s", func(p *profile.Profile) {
		m := backoff.MattermostDefaults
		m.Max = 240 * time.Second
		p.Backoff = m
	}, "base schedule")
	noJitter = misconfigured("adds no jitter", func(p *profile.Profile) {
		m := backoff.MattermostDefaults
		m.Jitter = 0
		p.Backoff = m
	}, "all came out")
	noResetOnOpen = flawed("keeps its failure count across a successful open", flaw.Set{NoResetOnOpen: true}, "")
)

func (t twin) wanting(want string) twin { t.want = want; return t }

var _ = Describe("Backoff schedule", Label("backoff"), func() {
	Context("profile mattermost, every handshake refused with 503", Label("mattermost"), func() {
		spec("waits 3 s (+jitter) seven times, then 192 s, 243 s, then 300 s forever", func(ctx SpecContext, mk maker) {
			w := mk(profile.MattermostProfile(), withFaults(chaos.Refuse(503)))
			delays := w.failAttempts(ctx, 21)
			Expect(delays).To(HaveLen(20))
			expectWithin(delays, mattermostWindow)
			Expect(w.now()).To(BeNumerically(">", time.Hour), "the spec should cover over an hour of virtual time")
		}, rxjsGivesUp, rxjsPrevious, cliffOffByOne)

		spec("has exactly the base schedule when every jitter draw is 0", func(ctx SpecContext, mk maker) {
			w := mk(profile.MattermostProfile(), withFaults(chaos.Refuse(503)), withRand(rand.New(lowSource{})))
			Expect(w.failAttempts(ctx, 12)).To(Equal([]time.Duration{
				s(3), s(3), s(3), s(3), s(3), s(3), s(3), s(192), s(243), s(300), s(300),
			}), "the base schedule (every jitter draw 0)")
		}, capTooLow, cliffOffByOne.wanting("base schedule"))

		spec("spreads its jitter: the delays of one seed are not all equal", func(ctx SpecContext, mk maker) {
			w := mk(profile.MattermostProfile(), withFaults(chaos.Refuse(503)))
			delays := w.failAttempts(ctx, 8)
			Expect(delays).To(ContainElement(Not(Equal(delays[0]))), "seven jittered 3 s delays all came out %v", delays[0])
		}, noJitter)

		spec("never gives up on its own", func(ctx SpecContext, mk maker) {
			w := mk(profile.MattermostProfile(), withFaults(chaos.Refuse(503)))
			w.failAttempts(ctx, 30)
			Expect(w.cl.State()).To(Equal(client.StateReconnecting))
		}, rxjsGivesUp)
	})

	Context("profile queue, every handshake refused with 503", Label("queue"), func() {
		spec("waits exactly 1, 2, 4, 8, 16 s and then gives up for good", func(ctx SpecContext, mk maker) {
			w := mk(profile.QueueProfile(), withFaults(chaos.Refuse(503)))
			w.failAttempts(ctx, 5)
			w.step()
			w.awaitTranscript(ctx, "dial 6", hasKind(fakeserver.KindDial, 6))
			ch := w.awaitAny(ctx, client.StateGaveUp, client.StateReconnecting)
			Expect(ch.To).To(Equal(client.StateGaveUp), "the client did not give up after the 6th failure")
			Expect(retryDelays(w.srv.Transcript().Entries())).To(Equal(queueDelays), "the queue profile's schedule")
			_, pending := w.clock.Next()
			Expect(pending).To(BeFalse(), "a client that gave up must arm no timer")
			w.clock.Advance(24 * time.Hour)
			Consistently(func() int { return len(w.entries(fakeserver.KindDial)) }).
				WithTimeout(50*time.Millisecond).Should(Equal(6), "a client that gave up dialed again")
		},
			misconfigured("never gives up", func(p *profile.Profile) {
				p.Backoff = backoff.Exponential{Base: time.Second, Factor: 2}
			}, "did not give up after the 6th failure"),
			misconfigured("gives up one attempt early", func(p *profile.Profile) {
				p.Backoff = backoff.Limit{Policy: backoff.Exponential{Base: time.Second, Factor: 2}, Attempts: 4}
			}, "gave up after 5 failed attempts"))
	})

	Context("the failure count restarts after a successful open", func() {
		for _, tc := range []struct {
			p       *profile.Profile
			refused int
			after   window
			what    string
		}{
			{profile.MattermostProfile(), 9, window{s(3), s(5)}, "mattermost: back to 3 s after reaching 243 s"},
			{profile.QueueProfile(), 4, window{s(1), s(1) + 1}, "queue: back to 1 s after reaching 8 s"},
		} {
			spec(tc.what, func(ctx SpecContext, mk maker) {
				// Attempts 1..refused are refused, the next opens and is
				// closed at once by the server, every later one is refused.
				w := mk(tc.p, withFaults(chaos.FirstN(tc.refused, chaos.Refuse(503)),
					chaos.OnAttempts(chaos.AcceptThenClose(chaos.Cut{Kind: chaos.CloseFrame, Code: 1001, Reason: "restart"}), tc.refused+1),
					chaos.FromAttempt(tc.refused+2, chaos.Refuse(503))))
				delays := w.failAttempts(ctx, tc.refused+2)
				after := delays[len(delays)-1]
				Expect(after).To(And(BeNumerically(">=", tc.after.lo), BeNumerically("<", tc.after.hi)),
					"the delay after the open was %v, want [%v, %v); delays %v", after, tc.after.lo, tc.after.hi, delays)
			}, noResetOnOpen.wanting(map[string]string{"mattermost": "the delay after the open was", "queue": "gave up after"}[tc.p.Name]))
		}
	})

	Context("accept-then-close: every open resets the count, so the client stays at its shortest delay", func() {
		for _, tc := range []struct {
			p    *profile.Profile
			want window
			what string
		}{
			{profile.MattermostProfile(), window{s(3), s(5)}, "mattermost: [3 s, 5 s) forever"},
			{profile.QueueProfile(), window{s(1), s(1) + 1}, "queue: exactly 1 s forever, never giving up"},
		} {
			spec(tc.what, func(ctx SpecContext, mk maker) {
				w := mk(tc.p, withFaults(chaos.AcceptThenClose(chaos.Cut{Kind: chaos.CloseFrame, Code: 1000})))
				expectWithin(w.failAttempts(ctx, 12), flat(tc.want))
			}, noResetOnOpen.wanting(map[string]string{"mattermost": "the delay after failure 8", "queue": "gave up after"}[tc.p.Name]))
		}
	})

	spec("replays exactly: the same seed gives the same transcript", func(ctx SpecContext, mk maker) {
		run := func() string {
			w := mk(profile.MattermostProfile(), withFaults(chaos.Refuse(503)))
			w.failAttempts(ctx, 10)
			Expect(w.cl.Close()).To(Succeed())
			return w.srv.Transcript().String()
		}
		first := run()
		Expect(run()).To(Equal(first), "two runs with the same seed gave different transcripts")
	}, twin{bug: "draws its jitter from an unseeded source", opt: withRand(nil), want: "different transcripts"})
})
