package scenarios

import (
	"context"
	"time"

	"github.com/gorilla/websocket"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/wschaos/wschaos/chaos"
	"github.com/wschaos/wschaos/client"
	"github.com/wschaos/wschaos/fakeserver"
	"github.com/wschaos/wschaos/internal/flaw"
	"github.com/wschaos/wschaos/profile"
)

// awaitRearmed waits until some timer is pending again after a step fired
// the last one: the client has re-armed its heartbeat or retry.
func (w *world) awaitRearmed(ctx context.Context) {
	GinkgoHelper()
	Eventually(ctx, func() bool {
		at, ok := w.clock.Next()
		return ok && at.After(w.clock.Now())
	}).WithTimeout(w.wait).Should(w.unlessIdle(BeTrue()), "no timer re-armed at %v", w.now())
}

// awaitTimers waits until n timers are pending, across client and server;
// what names them in the failure.
func (w *world) awaitTimers(ctx context.Context, n int, what string) {
	GinkgoHelper()
	Eventually(ctx, func() bool { return w.clock.BlockUntilContext(askOnly, n) == nil }).WithTimeout(w.wait).
		Should(w.unlessIdle(BeTrue()), "%s never armed by %v", what, w.now())
}

// askOnly is a context already ended: BlockUntilContext with it only asks.
// (Each "no" leaves clockwork a blocker, released once n are armed.)
var askOnly = func() context.Context {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	return ctx
}()

// pings counts the heartbeat requests the client sent: those the server
// received and those a fault swallowed on the way.
func (w *world) pings() int {
	return count(w.srv.Transcript().Entries(), func(e fakeserver.Entry) bool {
		if e.Kind != fakeserver.KindRecv && e.Kind != fakeserver.KindFault {
			return false
		}
		if w.p.Heartbeat.Mode == profile.HeartbeatFrames {
			return e.Op == websocket.PingMessage
		}
		return e.Msg != nil && e.Msg.Kind == profile.Request && e.Msg.Type == w.p.Heartbeat.PingType
	})
}

// withPingFrames switches p's heartbeat to WebSocket ping/pong frames.
func withPingFrames(p *profile.Profile) *profile.Profile {
	p.Heartbeat.Mode = profile.HeartbeatFrames
	return p
}

func isPongFor(p *profile.Profile) func(profile.Message) bool {
	return func(m profile.Message) bool {
		return (p.Replies && m.Kind == profile.Reply) || (!p.Replies && m.Type == p.Heartbeat.PongType)
	}
}

// firstClose is the first close the server recorded.
func (w *world) firstClose(ctx context.Context) fakeserver.Entry {
	GinkgoHelper()
	w.awaitTranscript(ctx, "a close", hasKind(fakeserver.KindClose, 1))
	return w.entries(fakeserver.KindClose)[0]
}

var (
	noPongCheck = flawed("pings but never checks for the answer", flaw.Set{NoPongCheck: true}, "")
	noHeartbeat = misconfigured("sends no heartbeat at all", func(p *profile.Profile) { p.Heartbeat.Interval = 0 }, "")
)

var _ = Describe("Heartbeat", Label("heartbeat"), func() {
	Context("a silent server (no pongs) is detected within the bound and the socket closed with the profile's code", func() {
		for _, tc := range []struct {
			p    *profile.Profile
			want time.Duration
			what string
		}{
			{profile.MattermostProfile(), s(30), "mattermost: the ping on open is unanswered when the next is due at 30 s"},
			{profile.QueueProfile(), s(60), "queue: the ping at 30 s is unanswered when the next is due at 60 s"},
			{withPingFrames(profile.QueueProfile()), s(60), "queue over WebSocket ping frames: the same bound"},
		} {
			spec(tc.what, func(ctx SpecContext, mk maker) {
				p := tc.p
				w := mk(p, withFaults(chaos.SwallowPongs()))
				w.start()
				w.awaitState(ctx, client.StateConnected)
				for w.step(); w.now() < tc.want; w.step() {
					w.awaitTranscript(ctx, "a ping", func([]fakeserver.Entry) bool { return w.pings() >= 1 })
					w.awaitRearmed(ctx)
				}
				w.awaitTranscript(ctx, "the client close the silent socket", hasKind(fakeserver.KindClose, 1))
				c := w.entries(fakeserver.KindClose)[0]
				Expect(c.At).To(Equal(tc.want), "open at 0, detection at %v", c.At)
				Expect(errorCloses(p, p.Heartbeat.CloseCode)(c)).To(BeTrue(),
					"the dead link must be closed with %d where the profile reports it; the server saw %d", p.Heartbeat.CloseCode, c.Code)
				w.awaitState(ctx, client.StateReconnecting)
			}, noPongCheck.wanting("close the silent socket"), noHeartbeat.wanting("the client is stuck"))
		}
	})

	spec("a half-open socket (nothing flows after the handshake) is noticed 30 to 60 s after it dies", func(ctx SpecContext, mk maker) {
		p := profile.MattermostProfile()
		w := mk(p, withFaults(chaos.OnAttempts(chaos.BlackHoleAfter(s(45)), 1)))
		w.start()
		w.awaitState(ctx, client.StateConnected)
		w.awaitMessages(ctx, 1, "pongs", isPongFor(p))
		w.awaitTimers(ctx, 2, "the heartbeat and the black hole")
		w.step() // 30 s: ping, answered
		w.awaitMessages(ctx, 2, "pongs", isPongFor(p))
		w.step() // 45 s: the link dies
		w.awaitTranscript(ctx, "the black hole", func(es []fakeserver.Entry) bool {
			return count(es, func(e fakeserver.Entry) bool { return e.Kind == fakeserver.KindFault && e.At == s(45) }) > 0
		})
		w.step() // 60 s: ping, swallowed
		w.awaitTranscript(ctx, "the third ping", func([]fakeserver.Entry) bool { return w.pings() >= 3 })
		w.awaitRearmed(ctx)
		w.step() // 90 s: no answer: close
		w.awaitAny(ctx, client.StateReconnecting)
		Expect(w.now()).To(Equal(s(90)), "the half-open socket was noticed at %v", w.now())
		Expect(w.now() - s(45)).To(And(BeNumerically(">=", s(30)), BeNumerically("<=", s(60))))
		Expect(count(w.msgs.snapshot(), isPongFor(p))).To(Equal(2))
		w.step()
		w.awaitState(ctx, client.StateConnected)
		Expect(w.entries(fakeserver.KindDial)).To(HaveLen(2), "the client reconnected")
	}, noPongCheck.wanting("never became [reconnecting] at 1m30s"))

	spec("a pong late by almost a whole interval is not a dead link: no reconnect over ten intervals", func(ctx SpecContext, mk maker) {
		p := profile.MattermostProfile()
		w := mk(p, withFaults(chaos.DelayPongs(s(30)-time.Millisecond)))
		w.start()
		w.awaitState(ctx, client.StateConnected)
		for i := 1; i <= 10 && len(w.entries(fakeserver.KindClose)) == 0; i++ {
			w.awaitTimers(ctx, 2, "the delayed pong and the next heartbeat")
			w.step() // the pong arrives 1 ms before the next ping is due
			Eventually(ctx, func() bool {
				return count(w.msgs.snapshot(), isPongFor(p)) >= i || len(w.entries(fakeserver.KindClose)) > 0
			}).WithTimeout(w.wait).Should(w.unlessIdle(BeTrue()))
			if len(w.entries(fakeserver.KindClose)) > 0 {
				break
			}
			w.step() // the next ping
			w.awaitTranscript(ctx, "the next ping", func([]fakeserver.Entry) bool { return w.pings() >= i+1 })
		}
		Expect(w.entries(fakeserver.KindClose)).To(BeEmpty(), "a late pong inside the interval caused a reconnect")
		Expect(w.entries(fakeserver.KindDial)).To(HaveLen(1))
	}, flawed("wants each pong within 10 s (mattermost PR #30788 shape)", flaw.Set{PongTimeout: 10 * time.Second}, "late pong inside the interval"))

	Context("no heartbeat state carries into the next connection", func() {
		for _, tc := range []struct {
			p       *profile.Profile
			closeAt time.Duration
		}{
			{profile.MattermostProfile(), s(20)},
			{profile.QueueProfile(), s(45)},
		} {
			spec(tc.p.Name, func(ctx SpecContext, mk maker) {
				// Connection 1 leaves a ping unanswered, then the server
				// goes away before the client's check; connection 2 is
				// healthy.
				p := tc.p
				w := mk(p, withFaults(
					chaos.OnAttempts(chaos.SwallowPongs(), 1),
					chaos.OnAttempts(chaos.CloseAfter(tc.closeAt, profile.StatusGoingAway, "restart"), 1)))
				w.start()
				w.awaitState(ctx, client.StateConnected)
				w.awaitTimers(ctx, 2, "the heartbeat and the server's close")
				for w.step(); w.now() < tc.closeAt; w.step() {
					// the heartbeat fired: wait for its ping and the re-arm
					w.awaitTranscript(ctx, "a ping", func([]fakeserver.Entry) bool { return w.pings() >= 1 })
					w.awaitTimers(ctx, 2, "the heartbeat and the server's close")
				}
				w.awaitState(ctx, client.StateReconnecting)
				w.step()
				w.awaitState(ctx, client.StateConnected)
				timeouts := func() int { return count(w.srv.Transcript().Entries(), errorCloses(p, p.Heartbeat.CloseCode)) }
				pongs := 0                                   // connection 1's were all swallowed
				for i := 0; i <= 4 && timeouts() == 0; i++ { // the ping on open, then four intervals
					if i > 0 {
						w.awaitTimers(ctx, 1, "the heartbeat")
						w.step()
					} else if !p.Heartbeat.OnOpen {
						continue
					} else {
						w.awaitTranscript(ctx, "a ping on open from connection 2", func(es []fakeserver.Entry) bool {
							return count(es, func(e fakeserver.Entry) bool {
								return e.Attempt == 2 && e.Kind == fakeserver.KindRecv && e.Msg != nil && e.Msg.Type == p.Heartbeat.PingType
							}) > 0
						})
					}
					pongs++
					Eventually(ctx, func() bool {
						return count(w.msgs.snapshot(), isPongFor(p)) >= pongs || timeouts() > 0
					}).WithTimeout(w.wait).Should(w.unlessIdle(BeTrue()), "no pong and no close at %v", w.now())
				}
				Expect(timeouts()).To(BeZero(),
					"a ping timeout on connection 2: connection 1's unanswered ping was carried over")
				Expect(w.entries(fakeserver.KindDial)).To(HaveLen(2))
			}, flawed("carries an unanswered ping into the next connection (phoenix-socket-dart #28)",
				flaw.Set{StaleHeartbeat: true}, map[string]string{
					"mattermost": "a ping on open from connection 2", // a pending ping suppresses it
					"queue":      "was carried over",
				}[tc.p.Name]))
		}
	})
})
