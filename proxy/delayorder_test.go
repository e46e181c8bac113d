package proxy_test

import (
	"strings"
	"testing"
	"time"

	"github.com/wschaos/wschaos/chaos"
	"github.com/wschaos/wschaos/profile"
)

// A frame a delay holds keeps its place after the delay is removed: what
// its direction relays next, a whole message or one the upstream sends in
// fragments (which, with no fault installed, would go on fragment by
// fragment), waits behind it.
func TestFramesWaitBehindAHeldOneAfterItsDelayIsRemoved(t *testing.T) {
	up := newEcho(t)
	p, clock := newProxy(t, up.wsURL())
	id, err := p.AddFault(chaos.Dir(profile.Server, chaos.Index(1, chaos.Delay(time.Minute))))
	if err != nil {
		t.Fatal(err)
	}
	ws := dial(t, p.URL, nil)
	write(t, ws, "first")
	waitFor(t, p.Transcript(), "delayed server frame #1 (text) by 1m0s")
	p.RemoveFault(id)
	big := strings.Repeat("b", 256<<10) // the echo sends it in 4 KiB fragments, over many reads
	write(t, ws, "second")
	write(t, ws, big)
	waitFor(t, p.Transcript(), "server frame #2 (text) held behind delayed server #1")
	waitFor(t, p.Transcript(), "server frame #3 (text) held behind delayed server #1")
	nothing(t, ws)
	clock.Advance(time.Minute)
	for _, want := range []string{"first", "second", big} {
		if got := readMsg(t, ws); got != want {
			t.Fatalf("got %.20q, want %.20q: a frame passed the held one\n%.3000s", got, want, p.Transcript())
		}
	}
}
