package scenarios

import (
	"fmt"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/wschaos/wschaos/chaos"
	"github.com/wschaos/wschaos/client"
	"github.com/wschaos/wschaos/fakeserver"
	"github.com/wschaos/wschaos/internal/flaw"
	"github.com/wschaos/wschaos/profile"
)

// sentIDs lists, in arrival order, the "id" of every request of type typ
// the server received.
func (w *world) sentIDs(typ string) []string {
	var ids []string
	for _, e := range w.entries(fakeserver.KindRecv) {
		if e.Msg != nil && e.Msg.Type == typ {
			ids = append(ids, e.Msg.Field("id"))
		}
	}
	return ids
}

func (w *world) send(ctx SpecContext, id string) error {
	return w.cl.Send(ctx, w.p.SendType, map[string]string{"id": id, "text": "hello " + id})
}

func ids(prefix string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("%s%d", prefix, i+1)
	}
	return out
}

func isAck(p *profile.Profile) func(profile.Message) bool {
	return func(m profile.Message) bool { return m.Type == p.AckType }
}

var _ = Describe("Offline queue", Label("queue"), func() {
	spec("flushes what was sent while disconnected in order, exactly once, on the next open", func(ctx SpecContext, mk maker) {
		p := profile.QueueProfile()
		w := mk(p, withFaults(chaos.FirstN(2, chaos.Refuse(503))))
		for _, id := range ids("before-start-", 3) {
			Expect(w.send(ctx, id)).To(Succeed())
		}
		w.start()
		w.awaitState(ctx, client.StateReconnecting)
		for _, id := range ids("while-away-", 2) {
			Expect(w.send(ctx, id)).To(Succeed())
		}
		Expect(w.cl.Queued()).To(Equal(5))
		w.step()
		w.awaitState(ctx, client.StateReconnecting)
		w.step()
		w.awaitState(ctx, client.StateConnected)
		w.awaitMessages(ctx, 5, "acks", isAck(p))

		Expect(w.sentIDs(p.SendType)).To(Equal(append(ids("before-start-", 3), ids("while-away-", 2)...)),
			"queued messages must reach the server in the order sent, each once")
		Expect(w.cl.Queued()).To(BeZero())
		Expect(count(w.msgs.snapshot(), isAck(p))).To(Equal(5), "every queued message acknowledged once")
	}, flawed("flushes its queue newest first", flaw.Set{QueueLIFO: true}, "in the order sent"))

	spec("flushes the queue before anything sent after the open", func(ctx SpecContext, mk maker) {
		p := profile.QueueProfile()
		w := mk(p)
		for _, id := range ids("queued-", 3) {
			Expect(w.send(ctx, id)).To(Succeed())
		}
		sent := make(chan error, 1)
		w.cl.OnState(func(ch client.StateChange) {
			if ch.To == client.StateConnected {
				select {
				case sent <- w.send(ctx, "after-open"):
				default:
				}
			}
		})
		w.start()
		Eventually(ctx, sent).Should(Receive(BeNil()))
		w.awaitMessages(ctx, 4, "acks", isAck(p))
		Expect(w.sentIDs(p.SendType)).To(Equal([]string{"queued-1", "queued-2", "queued-3", "after-open"}),
			"a send made after the open overtook the queue")
	}, flawed("lets new sends out before flushing its queue (socket.io-client #1458)", flaw.Set{SendsOvertakeQueue: true}, "overtook the queue"))

	spec("never replays a flushed message into a later session", func(ctx SpecContext, mk maker) {
		p := profile.QueueProfile()
		w := mk(p, withFaults(chaos.OnAttempts(chaos.CloseAfter(s(10), profile.StatusGoingAway, "restart"), 1)))
		for _, id := range ids("m", 3) {
			Expect(w.send(ctx, id)).To(Succeed())
		}
		w.start()
		w.awaitMessages(ctx, 3, "acks", isAck(p))
		w.step() // the server restarts at 10 s
		w.awaitState(ctx, client.StateReconnecting)
		w.step()
		w.awaitState(ctx, client.StateConnected)
		Expect(w.send(ctx, "fresh")).To(Succeed())
		w.awaitMessages(ctx, 4, "acks", isAck(p))
		Expect(w.sentIDs(p.SendType)).To(Equal(append(ids("m", 3), "fresh")),
			"messages flushed in one session were replayed into the next")
	}, flawed("keeps its queue after flushing it (reconnecting-websocket #110)", flaw.Set{FlushKeepsQueue: true}, "replayed into the next"))

	spec("reports overflow to the caller and keeps everything already queued", func(ctx SpecContext, mk maker) {
		p := profile.QueueProfile()
		p.Queue.Limit = 3
		w := mk(p)
		for _, id := range ids("m", 3) {
			Expect(w.send(ctx, id)).To(Succeed())
		}
		Expect(w.send(ctx, "m4")).To(MatchError(client.ErrQueueFull), "a send beyond the queue's bound must fail")
		Expect(w.cl.Queued()).To(Equal(3))
		w.start()
		w.awaitMessages(ctx, 3, "acks", isAck(p))
		Expect(w.sentIDs(p.SendType)).To(Equal(ids("m", 3)))
	}, misconfigured("has an unbounded queue", func(p *profile.Profile) { p.Queue.Limit = 0 }, "beyond the queue's bound"))

	spec("profile mattermost has no queue: a send while not open fails, and is never sent later", func(ctx SpecContext, mk maker) {
		w := mk(profile.MattermostProfile())
		Expect(w.cl.Send(ctx, "user_typing", map[string]string{"id": "early"})).To(MatchError(client.ErrNotConnected),
			"a send while not open must fail")
		w.start()
		w.awaitState(ctx, client.StateConnected)
		Expect(w.cl.Send(ctx, "user_typing", map[string]string{"id": "late"})).To(Succeed())
		w.awaitTranscript(ctx, "the late send", func(es []fakeserver.Entry) bool {
			return count(es, func(e fakeserver.Entry) bool { return e.Msg != nil && e.Msg.Type == "user_typing" }) >= 1
		})
		Expect(w.sentIDs("user_typing")).To(Equal([]string{"late"}))
	}, misconfigured("queues sends while not open", func(p *profile.Profile) {
		p.Queue = profile.Queue{Enabled: true, Limit: 10}
	}, "a send while not open must fail"))
})
