package suite

import (
	"strings"
	"testing"
	"time"

	"github.com/onsi/gomega"
)

// A failed Gomega assertion on durations says them as durations.
func TestGomegaPrintsDurationsReadably(t *testing.T) {
	var msg string
	g := gomega.NewGomega(func(m string, _ ...int) { msg = m })
	g.Expect(193 * time.Second).To(gomega.BeNumerically("~", 4*time.Second, time.Second))
	if !strings.Contains(msg, "<time.Duration>: 3m13s") || !strings.Contains(msg, "4s") || strings.Contains(msg, "193000000000") {
		t.Errorf("failure message:\n%s", msg)
	}
}
