package conform

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/wschaos/wschaos/profile"
)

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return c
}

// The reference client passes every scenario of both profiles, exactly,
// on the virtual clock.
func TestReferencePassesInVirtualTime(t *testing.T) {
	for _, name := range profile.Names() {
		t.Run(name, func(t *testing.T) {
			t.Parallel() // each scenario has a world of its own: server, client, clock
			rs, err := Run(ctx(t), Config{Profile: profile.ByName(name), Virtual: true, Seed: 1}, Reference())
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range rs {
				if !r.Passed {
					t.Errorf("%s: %s\n%s", r.Scenario, strings.Join(r.Failures, "\n"), r.Transcript)
				}
			}
		})
	}
}

// changed is the reference client following a changed copy of the
// profile it is checked against.
func changed(change func(p *profile.Profile)) Factory { return misconfigured("", change).Make }
