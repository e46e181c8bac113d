package scenarios

import (
	"net/url"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/wschaos/wschaos/client"
	"github.com/wschaos/wschaos/profile"
	"github.com/wschaos/wschaos/transcript"
)

// dialQuery is the query of the n-th dial (1-based).
func (w *world) dialQuery(n int) url.Values {
	GinkgoHelper()
	dials := w.entries(transcript.KindDial)
	Expect(len(dials)).To(BeNumerically(">=", n), "only %d dials", len(dials))
	u, err := url.Parse(dials[n-1].URL)
	Expect(err).NotTo(HaveOccurred())
	return u.Query()
}

// isType matches messages of type typ.
func isType(typ string) func(profile.Message) bool {
	return func(m profile.Message) bool { return m.Type == typ }
}

// Resuming, a new id on resume or mid-stream, and the sequence checks are
// scenario files in scenarios/library. The first connect's query and the
// id taken from the hello show only in a file's output, which is compared
// on the reference client alone; this spec checks them.
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
})
