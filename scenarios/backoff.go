package scenarios

import (
	"fmt"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/wschaos/wschaos/backoff"
	"github.com/wschaos/wschaos/chaos"
	"github.com/wschaos/wschaos/client"
	"github.com/wschaos/wschaos/conform"
	"github.com/wschaos/wschaos/profile"
	"github.com/wschaos/wschaos/transcript"
)

// s is n seconds.
func s(n float64) time.Duration { return time.Duration(n * float64(time.Second)) }

// queueDelays is SPEC.md's schedule for profile "queue": then it gives up.
var queueDelays = []time.Duration{s(1), s(2), s(4), s(8), s(16)}

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
		w.awaitTranscript(ctx, fmt.Sprintf("dial %d", i+1), hasKind(transcript.KindDial, i+1))
	}
	return conform.RetryDelays(w.srv.Transcript().Entries())
}

func (t twin) wanting(want string) twin { t.want = want; return t }

// noJitter is the mattermost schedule without its random spread: the twin
// of the jitter spec here and of the herd's.
var noJitter = misconfigured("adds no jitter", func(p *profile.Profile) {
	m := backoff.MattermostDefaults
	m.Jitter = 0
	p.Backoff = m
}, "")

// The mattermost schedule, its cap and the reset on open are scenario
// files (refused-reaches-the-cliff, backoff-cap, accept-then-close,
// reset-on-open in scenarios/library), which run on every subject; these
// specs check what no file does.
var _ = Describe("Backoff schedule", Label("backoff"), func() {
	Context("profile mattermost, every handshake refused with 503", Label("mattermost"), func() {
		spec("spreads its jitter: the delays of one seed are not all equal", func(ctx SpecContext, mk maker) {
			w := mk(profile.MattermostProfile(), withFaults(chaos.Refuse(503)))
			delays := w.failAttempts(ctx, 8)
			Expect(delays).To(ContainElement(Not(Equal(delays[0]))), "seven jittered 3 s delays all came out %v", delays[0])
		}, noJitter.wanting("all came out"))
	})

	Context("profile queue, every handshake refused with 503", Label("queue"), func() {
		// queue-gives-up.txt has the same shape, but no twin it names gives
		// up one attempt early: this spec is that twin's only proof.
		spec("waits exactly 1, 2, 4, 8, 16 s and then gives up for good", func(ctx SpecContext, mk maker) {
			w := mk(profile.QueueProfile(), withFaults(chaos.Refuse(503)))
			w.failAttempts(ctx, 5)
			w.step()
			w.awaitTranscript(ctx, "dial 6", hasKind(transcript.KindDial, 6))
			ch := w.awaitAny(ctx, client.StateGaveUp, client.StateReconnecting)
			Expect(ch.To).To(Equal(client.StateGaveUp), "the client did not give up after the 6th failure")
			Expect(conform.RetryDelays(w.srv.Transcript().Entries())).To(Equal(queueDelays), "the queue profile's schedule")
			_, pending := w.clock.Next()
			Expect(pending).To(BeFalse(), "a client that gave up must arm no timer")
			w.clock.Advance(24 * time.Hour)
			Consistently(func() int { return len(w.entries(transcript.KindDial)) }).
				WithTimeout(50*time.Millisecond).Should(Equal(6), "a client that gave up dialed again")
		},
			misconfigured("never gives up", func(p *profile.Profile) {
				p.Backoff = backoff.Exponential{Base: time.Second, Factor: 2}
			}, "did not give up after the 6th failure"),
			misconfigured("gives up one attempt early", func(p *profile.Profile) {
				p.Backoff = backoff.Limit{Policy: backoff.Exponential{Base: time.Second, Factor: 2}, Attempts: 4}
			}, "gave up after 5 failed attempts"))
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
