package scenarios

import (
	"net/url"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/wschaos/wschaos/chaos"
	"github.com/wschaos/wschaos/client"
	"github.com/wschaos/wschaos/fakeserver"
	"github.com/wschaos/wschaos/internal/flaw"
	"github.com/wschaos/wschaos/profile"
)

// dialQuery is the query of the n-th dial (1-based).
func (w *world) dialQuery(n int) url.Values {
	GinkgoHelper()
	dials := w.entries(fakeserver.KindDial)
	Expect(len(dials)).To(BeNumerically(">=", n), "only %d dials", len(dials))
	u, err := url.Parse(dials[n-1].URL)
	Expect(err).NotTo(HaveOccurred())
	return u.Query()
}

// emit pushes server events "posted" numbered from..to (inclusive).
func (w *world) emit(from, to int) {
	GinkgoHelper()
	for i := from; i <= to; i++ {
		Expect(w.srv.Emit("posted", map[string]int{"n": i})).To(Succeed())
	}
}

// posted lists the "n" of every posted event the client delivered, in order.
func (w *world) posted() []int {
	var ns []int
	for _, m := range w.msgs.snapshot() {
		if m.Type == "posted" {
			var d struct{ N int }
			Expect(jsonUnmarshal(m.Data, &d)).To(Succeed())
			ns = append(ns, d.N)
		}
	}
	return ns
}

func isType(typ string) func(profile.Message) bool {
	return func(m profile.Message) bool { return m.Type == typ }
}

func closesWith(code profile.StatusCode) func(fakeserver.Entry) bool {
	return func(e fakeserver.Entry) bool { return e.Kind == fakeserver.KindClose && e.Code == code }
}

// errorCloses matches the client's error closes with code as the server
// sees them: the code in the frame, or (where the profile reports it on
// the next connect) a frame with no code.
func errorCloses(p *profile.Profile, code profile.StatusCode) func(fakeserver.Entry) bool {
	if !p.Close.InFrame() {
		code = profile.StatusNoStatus
	}
	return func(e fakeserver.Entry) bool {
		return e.Kind == fakeserver.KindClose && e.By == profile.Client && e.Code == code
	}
}

// reports matches the connects that report code, where the profile
// reports error closes on the next connect.
func reports(code profile.StatusCode) func(fakeserver.Entry) bool {
	return func(e fakeserver.Entry) bool { return e.Kind == fakeserver.KindDial && e.ReportedCode == code }
}

func seq(from, to int) []int {
	var out []int
	for i := from; i <= to; i++ {
		out = append(out, i)
	}
	return out
}

// dropAndReturn cuts the socket without a close frame, then steps the clock
// to the client's retry and waits for it to be connected again.
func (w *world) dropAndReturn(ctx SpecContext, whileAway func()) {
	GinkgoHelper()
	w.srv.CutAll(chaos.Cut{Kind: chaos.FIN})
	w.awaitState(ctx, client.StateReconnecting)
	if whileAway != nil {
		whileAway()
	}
	w.step()
	w.awaitState(ctx, client.StateConnected)
}

var (
	noResync  = flawed("takes a new connection id without a resync", flaw.Set{NoResyncOnNewID: true}, "exactly one resync")
	keepSeq   = flawed("keeps its expected seq on a new id (the endless 4001 loop of mattermost #30388)", flaw.Set{KeepSeqOnNewID: true}, "")
	offByOne  = flawed("resumes from the last seq it saw, not the next", flaw.Set{ResumeFromLastSeen: true}, "sequence_number must be the next seq expected")
	noSeqTest = flawed("ignores sequence numbers", flaw.Set{NoSeqCheck: true}, "close at the gap")
)

var _ = Describe("Hello and connection id", Label("mattermost", "resume"), func() {
	spec("connects first with an empty id and sequence 0, and keeps the hello's id", func(ctx SpecContext, mk maker) {
		w := mk(profile.MattermostProfile())
		w.start()
		w.awaitState(ctx, client.StateConnected)
		w.awaitMessages(ctx, 1, "hello", isType("hello"))
		q := w.dialQuery(1)
		Expect(q.Has("connection_id")).To(BeTrue(), "the first dial must carry connection_id")
		Expect(q.Get("connection_id")).To(BeEmpty())
		Expect(q.Get("sequence_number")).To(Equal("0"))
		Expect(q.Has("disconnect_err_code")).To(BeFalse())
		Expect(w.cl.ConnectionID()).To(Equal("conn-1"))
	}, misconfigured("does not speak the resume protocol", func(p *profile.Profile) { p.Resume = nil }, "must carry connection_id"))

	spec("resumes on the same id: sends id, next seq and close code; the server replays what was missed; no resync", func(ctx SpecContext, mk maker) {
		w := mk(profile.MattermostProfile())
		w.start()
		w.awaitState(ctx, client.StateConnected)
		w.emit(1, 3)
		w.awaitMessages(ctx, 3, "posted events", isType("posted"))
		w.dropAndReturn(ctx, func() { w.emit(4, 6) })
		q := w.dialQuery(2)
		Expect(q.Get("connection_id")).To(Equal("conn-1"))
		Expect(q.Get("sequence_number")).To(Equal("4"), "sequence_number must be the next seq expected")
		Expect(q.Get("disconnect_err_code")).To(Equal("1006"))
		w.awaitMessages(ctx, 6, "posted events", isType("posted"))

		Expect(w.posted()).To(Equal(seq(1, 6)), "each event delivered once, in order")
		Expect(count(w.msgs.snapshot(), isType("hello"))).To(Equal(1), "a resume gets no new hello")
		Expect(w.resyncs.Load()).To(BeZero())
		Expect(count(w.srv.Transcript().Entries(), reports(profile.StatusSeqMismatch))).To(BeZero())
	}, offByOne)

	spec("resume answered with a new id: exactly one resync, and the sequence restarts", func(ctx SpecContext, mk maker) {
		w := mk(profile.MattermostProfile(), withFaults(chaos.OnAttempts(chaos.NewSessionOnResume(), 2)))
		w.start()
		w.awaitState(ctx, client.StateConnected)
		w.emit(1, 3)
		w.awaitMessages(ctx, 3, "posted events", isType("posted"))
		w.dropAndReturn(ctx, nil)
		w.awaitMessages(ctx, 2, "hellos: it did not accept the new session's hello", isType("hello"))
		w.emit(4, 5)
		w.awaitMessages(ctx, 5, "posted events", isType("posted"))

		Expect(w.resyncs.Load()).To(BeEquivalentTo(1), "a new connection id must cause exactly one resync")
		Expect(w.cl.ConnectionID()).To(Equal("conn-2"))
		Expect(w.cl.ExpectedSeq()).To(BeEquivalentTo(3), "hello 0, then events 1 and 2 of the new session")
		Expect(count(w.srv.Transcript().Entries(), reports(profile.StatusSeqMismatch))).To(BeZero(), "no 4001 loop")
		Expect(w.entries(fakeserver.KindDial)).To(HaveLen(2))
	}, noResync, keepSeq.wanting("did not accept the new session's hello"))

	spec("a new hello mid-stream: one resync, the new id kept, no sequence-mismatch close", func(ctx SpecContext, mk maker) {
		w := mk(profile.MattermostProfile(), withFaults(chaos.NewHelloAfter(2)))
		w.start()
		w.awaitState(ctx, client.StateConnected)
		w.emit(1, 4)
		w.awaitMessages(ctx, 4, "posted events across the new hello", isType("posted"))

		Expect(w.resyncs.Load()).To(BeEquivalentTo(1), "a new connection id must cause exactly one resync")
		Expect(w.cl.ConnectionID()).To(Equal("conn-2"))
		Expect(count(w.srv.Transcript().Entries(), errorCloses(profile.MattermostProfile(), profile.StatusSeqMismatch))).To(BeZero())
		Expect(w.entries(fakeserver.KindDial)).To(HaveLen(1))
	}, noResync, keepSeq.wanting("across the new hello"))
})

var _ = Describe("Sequence gap", Label("mattermost", "resume"), func() {
	spec("closes at the gap (4001 on the next connect), resumes from the missing seq, and delivers every event once", func(ctx SpecContext, mk maker) {
		p := profile.MattermostProfile()
		w := mk(p, withFaults(chaos.OnAttempts(chaos.SeqGap(3), 1)))
		w.start()
		w.awaitState(ctx, client.StateConnected)
		w.emit(1, 5)
		w.awaitTranscript(ctx, "the client's close at the gap, with no code in the frame", func(es []fakeserver.Entry) bool {
			return count(es, errorCloses(p, profile.StatusSeqMismatch)) == 1
		})
		closeAt := w.entries(fakeserver.KindClose)[0].At
		Expect(w.entries(fakeserver.KindClose)[0].By).To(Equal(profile.Client))
		w.awaitState(ctx, client.StateReconnecting)
		w.step()
		w.awaitState(ctx, client.StateConnected)
		q := w.dialQuery(2)
		Expect(q.Get("connection_id")).To(Equal("conn-1"))
		Expect(q.Get("sequence_number")).To(Equal("3"), "sequence_number must be the next seq expected")
		Expect(q.Get("disconnect_err_code")).To(Equal("4001"))
		w.awaitMessages(ctx, 5, "posted events", isType("posted"))

		Expect(w.entries(fakeserver.KindDial)[1].At-closeAt).To(And(BeNumerically(">=", s(3)), BeNumerically("<", s(5))),
			"the failure count is reset before a 4001 close: the retry is the shortest")
		Expect(w.posted()).To(Equal(seq(1, 5)), "each event delivered once, in order")
		Expect(w.resyncs.Load()).To(BeZero())
	}, noSeqTest, offByOne)
})

// closesCounted counts the closes with code: in the frame, or, where the
// profile reports an error close on the next connect, a client's close
// with no code whose next connect reports code.
func closesCounted(p *profile.Profile, es []fakeserver.Entry, code profile.StatusCode) int {
	reported := map[int]profile.StatusCode{} // attempt → the code its dial reports
	for _, e := range es {
		if e.Kind == fakeserver.KindDial {
			reported[e.Attempt] = e.ReportedCode
		}
	}
	n := 0
	for _, e := range es {
		switch {
		case e.Kind != fakeserver.KindClose:
		case e.Code == code:
			n++
		case p.Close.InQuery() && e.By == profile.Client && e.Code == profile.StatusNoStatus && reported[e.Attempt+1] == code:
			n++
		}
	}
	return n
}
