package wschaos_test

import (
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	_ "github.com/wschaos/wschaos/scenarios"
)

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
