package scenarios

import (
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/wschaos/wschaos/chaos"
	"github.com/wschaos/wschaos/client"
	"github.com/wschaos/wschaos/internal/flaw"
	"github.com/wschaos/wschaos/profile"
	"github.com/wschaos/wschaos/transcript"
)

// expectStaysClosed checks the client is closed for good: it says so, no
// socket is open, no timer is pending, and a day of virtual time brings no
// new dial.
func (w *world) expectStaysClosed() {
	GinkgoHelper()
	Expect(w.sockets.open.Load()).To(BeZero(), "a socket is still open after Close")
	_, pending := w.clock.Next()
	Expect(pending).To(BeFalse(), "Close returned with a timer still armed")
	Expect(w.cl.State()).To(Equal(client.StateDisconnected), "after Close the client must say it is disconnected")
	dials := len(w.entries(transcript.KindDial))
	w.clock.Advance(24 * time.Hour)
	Consistently(func() int { return len(w.entries(transcript.KindDial)) }).WithTimeout(50*time.Millisecond).
		Should(Equal(dials), "the client dialed after Close")
}

var _ = Describe("Intentional close", Label("lifecycle"), func() {
	// Close while connecting, connected or waiting to retry, and the
	// connect timeout, are scenario files in scenarios/library; giving up
	// first is a path no file takes.
	spec("after giving up", func(ctx SpecContext, mk maker) {
		w := mk(profile.QueueProfile(), withFaults(chaos.Refuse(503)))
		w.failAttempts(ctx, 5)
		w.step()
		w.awaitState(ctx, client.StateGaveUp)
		Expect(w.cl.Close()).To(Succeed())
		w.expectStaysClosed()
	}, flawed("still says gave-up after Close", flaw.Set{ClosedStateNotAnnounced: true}, "must say it is disconnected"))
})

// rapid-reconnect-one-socket.txt checks the sockets open once the
// reconnects are done, all a server can tell; these specs count them from
// the client's side, so two open at any instant fail.
var _ = Describe("One socket at a time", Label("lifecycle"), func() {
	spec("rapid manual reconnects never hold two sockets", func(ctx SpecContext, mk maker) {
		w := mk(profile.MattermostProfile())
		w.start()
		w.awaitState(ctx, client.StateConnected)
		for i := 0; i < 10; i++ {
			w.cl.Reconnect()
			w.cl.Reconnect() // a second request while one is pending coalesces
			w.awaitState(ctx, client.StateConnected)
		}
		Expect(w.sockets.max.Load()).To(BeEquivalentTo(1), "the client held two sockets at once")
		Expect(len(w.entries(transcript.KindDial))).To(BeNumerically(">=", 11))
		Expect(w.resyncs.Load()).To(BeZero(), "each reconnect resumed the same session")
	}, flawed("opens the new socket before closing the old (reconnecting-websocket #86)",
		flaw.Set{OverlapOnReconnect: true}, "two sockets at once"))

	spec("close right after start, before the first handshake completes, leaves no socket", func(ctx SpecContext, mk maker) {
		for i := 0; i < 5; i++ {
			w := mk(profile.QueueProfile())
			w.start()
			Expect(w.cl.Close()).To(Succeed())
			// A dial that outlives Close would open its socket within
			// this (real-time) window; none may.
			Consistently(w.sockets.open.Load).WithTimeout(100*time.Millisecond).
				Should(BeZero(), "a socket is still open after Close")
			Expect(w.sockets.max.Load()).To(BeNumerically("<=", 1))
		}
	}, flawed("lets a handshake in progress run on after Close", flaw.Set{CloseLeavesDial: true}, "socket is still open"))
})
