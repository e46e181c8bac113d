package proxy_test

import (
	"fmt"
	"time"

	"github.com/wschaos/wschaos/chaos"
	"github.com/wschaos/wschaos/profile"
	"github.com/wschaos/wschaos/proxy"
	"github.com/wschaos/wschaos/vclock"
)

// A proxy in front of a real server, on a virtual clock: the server's
// "posted" events are held back 5 s, and every second pong is swallowed.
func Example() {
	clock := vclock.New()
	p := proxy.NewUnstartedServer("ws://127.0.0.1:8065/api/v4/websocket")
	p.Clock, p.Profile = clock, profile.MattermostProfile() // decode frames: select by type, spot pongs
	p.Faults = []chaos.Fault{
		chaos.Dir(profile.Server, chaos.Type("posted", chaos.Delay(5*time.Second))),
		chaos.EveryNth(2, chaos.SwallowPongs()),
	}
	p.Start()
	defer p.Close()
	// Point the client at p.URL; step clock; read p.Transcript().
	fmt.Println(p.ListFaults()[1].Fault)
	// Output: swallow-pongs every=2
}
