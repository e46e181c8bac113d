package scenarios

import (
	"fmt"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/wschaos/wschaos/internal/flaw"
	"github.com/wschaos/wschaos/profile"
)

// A twin is the reference client with exactly one bug. Every spec runs
// against the reference client, where it must pass, and against each of its
// twins, where it must fail with a message that names the behaviour: that
// is how the harness proves each check catches the bug it is about.
type twin struct {
	bug  string      // what the buggy client does, and where it was seen
	opt  worldOption // how the twin differs from the reference client
	want string      // a phrase the failure message must contain
}

// flawed is a twin that commits one of the client's named flaws.
func flawed(bug string, f flaw.Set, want string) twin {
	return twin{bug: bug, opt: func(c *worldConfig) { c.flaws = f }, want: want}
}

// misconfigured is a twin whose profile differs from the server's: the
// client follows a contract of its own.
func misconfigured(bug string, change func(*profile.Profile), want string) twin {
	return twin{bug: bug, opt: func(c *worldConfig) { c.clientProfile = append(c.clientProfile, change) }, want: want}
}

// twinWait bounds each wait in a twin's run. The reference client's effects
// arrive in milliseconds; a twin that never produces one fails at this
// bound, or sooner once its world is idle for good (unlessIdle), and only
// with the message its spec gives for that wait.
const twinWait = 2 * time.Second

// maker builds a world; specs take one so they can run against a twin.
type maker func(p *profile.Profile, opts ...worldOption) *world

// spec registers body as a spec of the reference client, then one spec per
// twin that proves body fails on it.
func spec(text string, body func(ctx SpecContext, mk maker), twins ...twin) {
	It(text, func(ctx SpecContext) { body(ctx, newWorld) }, SpecTimeout(specTimeout))
	for _, t := range twins {
		It(fmt.Sprintf("catches a client that %s", t.bug), Label("twin"), func(ctx SpecContext) {
			mk := func(p *profile.Profile, opts ...worldOption) *world {
				return newWorld(p, append(opts, t.opt, func(c *worldConfig) { c.wait, c.twin = twinWait, true })...)
			}
			err := InterceptGomegaFailure(func() { body(ctx, mk) })
			Expect(err).To(HaveOccurred(), "the spec %q passed on a client that %s", text, t.bug)
			Expect(err.Error()).To(ContainSubstring(t.want),
				"the spec %q failed on a client that %s, but its message does not name the behaviour", text, t.bug)
		}, SpecTimeout(specTimeout))
	}
}
