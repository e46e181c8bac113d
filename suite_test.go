package wschaos_test

import (
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/onsi/gomega/gleak"

	_ "github.com/wschaos/wschaos/scenarios"
)

// leakWait bounds how long a spec's goroutines may take to return once its
// cleanups are done: they only have to unwind, so a healthy run needs
// milliseconds, and a loaded machine far less than this.
const leakWait = 10 * time.Second

// TestScenarios runs the executable spec in scenarios/.
func TestScenarios(t *testing.T) {
	RegisterFailHandler(Fail)
	// Specs wait for effects of virtual-time steps; the effects come within
	// milliseconds, so poll often.
	SetDefaultEventuallyPollingInterval(time.Millisecond)
	SetDefaultEventuallyTimeout(10 * time.Second)
	SetDefaultConsistentlyPollingInterval(5 * time.Millisecond)
	RunSpecs(t, "wschaos scenarios")
}

// Every spec, whatever it starts, must leave no goroutine behind. The
// check is the first cleanup any spec registers, so it runs after all the
// others (Ginkgo runs cleanups last registered first): by then the spec has
// closed its clients, servers and proxies, and whatever is left leaked.
// gleak's default filters leave Ginkgo's own goroutines out.
var _ = BeforeEach(func() {
	before := gleak.Goroutines()
	DeferCleanup(func() {
		Eventually(gleak.Goroutines).WithTimeout(leakWait).WithPolling(5*time.Millisecond).
			ShouldNot(gleak.HaveLeaked(before), "goroutines left running after the spec and its cleanups")
	})
})
