package scenarios

import (
	"fmt"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/onsi/gomega/types"

	"github.com/wschaos/wschaos/client"
	"github.com/wschaos/wschaos/internal/quiet"
	"github.com/wschaos/wschaos/profile"
)

// idleNote ends the message of a wait that failed because the world was
// idle for good, not because its bound ran out.
const idleNote = "(the client and the server were idle: nothing more could happen without a step of the clock)"

// unlessIdle wraps the matcher of an Eventually(...).Should that waits
// for an effect in w: the wait fails at once, with idleNote, when the
// world is idle for good before the effect came, instead of at its
// real-time bound. Eventually still polls first: a value that matches
// ends the wait as before.
//
// Sound because the whole world (client, server, sockets, clock) is in
// this process and no effect a spec waits for rides on a real-time timer:
// see package quiet. Reference worlds use it too, so a false "idle" would
// fail a reference spec.
func (w *world) unlessIdle(m types.GomegaMatcher) types.GomegaMatcher {
	return &idleMatcher{GomegaMatcher: m, w: w, d: w.idleFor()}
}

type idleMatcher struct {
	types.GomegaMatcher
	w *world
	d *quiet.Detector
}

// Match tells Eventually to stop trying once the world is idle for good
// with the same value polled in every look at it.
func (m *idleMatcher) Match(actual any) (bool, error) {
	ok, err := m.GomegaMatcher.Match(actual)
	if ok || err != nil {
		return ok, err
	}
	if m.d.Idle(fmt.Sprintf("%s %#v", m.w.progress(), actual)) {
		return false, StopTrying(m.GomegaMatcher.FailureMessage(actual) + "\n" + idleNote)
	}
	return false, nil
}

// idleFor returns a Detector for a wait of w's that does not go through
// Eventually.
func (w *world) idleFor() *quiet.Detector { return quiet.NewDetector(w.port) }

// progress is everything the world has done that a wait may watch: any
// change means it is not idle. The clock's pending timers are in it, for
// waits on a re-armed timer. It takes no lock the client may hold while
// it writes.
func (w *world) progress() string {
	next, _ := w.clock.Next()
	return fmt.Sprint(w.states.len(), w.msgs.len(), w.errs.Load(), w.resyncs.Load(), w.others.Load(),
		w.srv.Transcript().Len(), w.sockets.open.Load(), w.sockets.max.Load(),
		w.clock.Pending("client"), w.clock.Pending("server"), next.UnixNano())
}

var _ = Describe("A wait on an idle world", Label("harness"), func() {
	It("fails at once, saying the client and the server were idle", func(ctx SpecContext) {
		if !quiet.Supported {
			Skip("cannot observe goroutines and sockets on this system")
		}
		w := newWorld(profile.QueueProfile())
		w.start()
		w.awaitState(ctx, client.StateConnected)
		// Connected, its heartbeat armed on the clock that nobody steps:
		// nothing more can happen. Only the idle verdict adds idleNote; a
		// wait that ran out its bound would fail without it.
		err := InterceptGomegaFailure(func() { w.awaitState(ctx, client.StateReconnecting) })
		Expect(err).To(MatchError(ContainSubstring(idleNote)))
		Expect(err.Error()).To(ContainSubstring("the client never became [reconnecting]"), "the wait's own message comes first")
	}, SpecTimeout(specTimeout))
})
