// Package suite runs wschaos's conformance scenarios against your own Go
// client as tests of your repository, on a virtual clock, so an hour of
// backoff takes milliseconds and every wait is checked exactly.
//
// Wrap your client in a conform.Subject built from the conform.Env it is
// given: it must take Env.Clock for every timer (and Env.Rand for jitter),
// and report its state changes, delivered messages and resyncs through
// Env.Emit, a state only once the timer that state waits on is armed.
// conform.Reference is a complete example. Then add one file:
//
//	var _ = suite.Describe("my client", profile.MattermostProfile(), myFactory)
//
// to a Ginkgo suite, or, with the standard testing package:
//
//	func TestConformance(t *testing.T) { suite.Test(t, profile.MattermostProfile(), myFactory) }
package suite

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/onsi/ginkgo/v2"

	"github.com/wschaos/wschaos/conform"
	"github.com/wschaos/wschaos/profile"
)

// specTimeout bounds one scenario: in virtual time every wait is for an
// effect over loopback, so a minute means it is stuck.
const specTimeout = time.Minute

// Describe registers a Ginkgo container with one spec per scenario that
// applies to p (conform.Set: the scenario library's files, those for
// every profile first), labelled "conform", the profile's name and the scenario's name.
// The faults' seed is Ginkgo's random seed, so `ginkgo --seed N` replays a
// failure; a file replays with its own seed.
func Describe(client string, p *profile.Profile, f conform.Factory) bool {
	set, err := conform.Set(p)
	return ginkgo.Describe(fmt.Sprintf("%s conforms to profile %s", client, p.Name), ginkgo.Label("conform", p.Name), func() {
		if err != nil {
			ginkgo.It("loads the scenario library", func() { ginkgo.Fail(err.Error()) })
			return
		}
		for _, s := range set {
			ginkgo.It(s.Name+": "+s.Checks, ginkgo.Label(s.Name), func(ctx ginkgo.SpecContext) {
				r := conform.RunOne(ctx, config(p, uint64(ginkgo.GinkgoRandomSeed())), s, f)
				switch {
				case r.Outcome() == "SKIP":
					ginkgo.Skip(r.Skipped)
				case !r.Passed:
					ginkgo.Fail(failure(r))
				}
			}, ginkgo.SpecTimeout(specTimeout))
		}
	})
}

// Test runs every scenario that applies to p (conform.Set) as a subtest
// of t, in parallel: each has its own server, clock and subject.
func Test(t *testing.T, p *profile.Profile, f conform.Factory) {
	t.Helper()
	set, err := conform.Set(p)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range set {
		t.Run(s.Name, func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithTimeout(context.Background(), specTimeout)
			defer cancel()
			r := conform.RunOne(ctx, config(p, 1), s, f)
			switch {
			case r.Outcome() == "SKIP":
				t.Skip(r.Skipped)
			case !r.Passed:
				t.Error(failure(r))
			}
		})
	}
}

func config(p *profile.Profile, seed uint64) conform.Config {
	return conform.Config{Profile: p, Virtual: true, Seed: seed}
}

// failure says what went wrong, with the transcript and the seed.
func failure(r conform.Result) string {
	return fmt.Sprintf("%s: %s\n\n%s\nseed %d; the server's transcript:\n%s",
		r.Scenario, r.Checks, strings.Join(r.Failures, "\n"), r.Seed, r.Transcript)
}
