package wschaos_test

import (
	"math/rand/v2"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/wschaos/wschaos/chaos"
	"github.com/wschaos/wschaos/client"
	"github.com/wschaos/wschaos/fakeserver"
	"github.com/wschaos/wschaos/profile"
	"github.com/wschaos/wschaos/vclock"
)

// The README's example, kept here so it always compiles and passes.
var _ = Describe("README example", Label("example"), func() {
	It("backs off 3 s seven times, then 192 s", func(ctx SpecContext) {
		clock := vclock.New() // virtual time, stepped by the spec
		srv := fakeserver.NewUnstartedServer(profile.MattermostProfile())
		srv.Clock, srv.Faults = clock, []chaos.Fault{chaos.Refuse(503)}
		srv.Start()
		DeferCleanup(srv.Close)

		retrying := make(chan client.StateChange, 1)
		c := client.New(srv.URL, &client.Options{Profile: profile.MattermostProfile(),
			Clock: clock, Rand: rand.New(rand.NewPCG(1, 2))})
		c.OnState(func(ch client.StateChange) {
			if ch.To == client.StateReconnecting && ch.Err != nil {
				retrying <- ch // announced once the retry timer is armed
			}
		})
		Expect(c.Start()).To(Succeed())
		DeferCleanup(c.Close)

		var waits []time.Duration
		for range 8 {
			Eventually(ctx, retrying).Should(Receive()) // attempt refused
			d, _ := clock.AdvanceToNext()               // jump exactly to the retry
			waits = append(waits, d)
		}
		Expect(waits[6]).To(BeNumerically("~", 4*time.Second, time.Second))   // 3 s + [0, 2 s)
		Expect(waits[7]).To(BeNumerically("~", 193*time.Second, time.Second)) // 3 s·8² + [0, 2 s)
	}, SpecTimeout(10*time.Second))
})
