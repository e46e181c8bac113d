package fakeserver_test

import (
	"testing"

	"github.com/wschaos/wschaos/chaos"
	"github.com/wschaos/wschaos/profile"
)

// The faults that were once the proxy's own are plain frame faults: the
// fake server offers them too.
func TestFakeServerOffersTheProxysFrameFaults(t *testing.T) {
	p := profile.QueueProfile()
	t.Run("cut-after", func(t *testing.T) {
		s, _ := newServer(t, p, chaos.Dir(profile.Server, chaos.CutAfterFrames(1, chaos.Cut{Kind: chaos.FIN})))
		ws := dial(t, s.URL)
		send(t, ws, p, ping(p, 1))
		if m := read(t, ws, p); m.Type != "pong" {
			t.Fatalf("got %v, want the pong before the cut", m)
		}
		if code := closeCode(readClose(t, ws)); code != 1006 {
			t.Errorf("after the first server frame: close %d, want 1006 (FIN)", code)
		}
	})
	t.Run("field", func(t *testing.T) {
		s, _ := newServer(t, p, chaos.MatchField("type", "pong", chaos.Drop()))
		ws := dial(t, s.URL)
		send(t, ws, p, ping(p, 1))
		waitLine(t, s, "drop field=type=pong: dropped server frame #1 (event pong)")
	})
}
