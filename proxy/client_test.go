package proxy_test

import (
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/wschaos/wschaos/chaos"
	"github.com/wschaos/wschaos/client"
	"github.com/wschaos/wschaos/fakeserver"
	"github.com/wschaos/wschaos/internal/wstest"
	"github.com/wschaos/wschaos/profile"
	"github.com/wschaos/wschaos/proxy"
	"github.com/wschaos/wschaos/transcript"
	"github.com/wschaos/wschaos/vclock"
)

// mattermost runs the reference client through a proxy with faults to a
// fakeserver, all on one virtual clock; it returns once the client is
// connected through the proxy and has seen the hello.
func mattermost(t *testing.T, specs ...proxy.FaultSpec) (*client.Client, *proxy.Proxy, *fakeserver.Server, *vclock.Clock) {
	t.Helper()
	clock := vclock.New()
	srv := fakeserver.NewUnstartedServer(profile.MattermostProfile())
	srv.Clock = clock
	srv.Start()
	t.Cleanup(srv.Close)

	p := proxy.NewUnstartedServer(srv.URL)
	p.Clock, p.Profile, p.Seed = clock, profile.MattermostProfile(), 7
	for _, s := range specs {
		if _, err := p.AddFaultSpec(s); err != nil {
			t.Fatal(err)
		}
	}
	p.Start()
	t.Cleanup(p.Close)

	c := client.New(p.URL, &client.Options{Profile: profile.MattermostProfile(),
		Clock: clock.For("client"), Rand: rand.New(rand.NewPCG(1, 2))})
	hello := make(chan struct{}, 1)
	c.Subscribe("hello", func(profile.Message) { hello <- struct{}{} })
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	select {
	case <-hello:
	case <-ctx(t).Done():
		t.Fatalf("no hello through the proxy:\n%s", p.Transcript())
	}
	return c, p, srv, clock
}

// waitClosed waits until the upstream's transcript has line.
func waitClosed(t *testing.T, srv *fakeserver.Server, line string) {
	t.Helper()
	err := srv.Transcript().Wait(ctx(t), func(es []transcript.Entry) bool {
		for _, e := range es {
			if strings.Contains(e.String(), line) {
				return true
			}
		}
		return false
	})
	if err != nil {
		t.Fatalf("upstream never saw %q: %v", line, err)
	}
}

// Mattermost closes a dead link with no code in the frame and reports
// 4000 on the next connect, which the proxy relays and records.
func TestSwallowedPongsMakeTheClientCloseAndReport4000(t *testing.T) {
	wstest.NoLeaks(t, patience)
	c, p, srv, clock := mattermost(t, proxy.FaultSpec{Fault: "swallow-pongs"})
	// The ping on open is answered upstream; the proxy eats the answer.
	waitFor(t, p.Transcript(), "swallow-pongs: dropped server frame #2 (reply seq_reply=1 status=OK)")
	if d, _ := clock.AdvanceToNext(); d != profile.MattermostProfile().Heartbeat.Interval {
		t.Fatalf("next timer after %v, want the client's 30s heartbeat", d)
	}
	waitFor(t, p.Transcript(), `+30s       #1 close 1005 by client`)
	waitClosed(t, srv, `close 1005 by client`) // relayed as it was: no code
	advanceToRetry(t, c, clock)
	waitFor(t, p.Transcript(), "#2 dial", "(reports 4000)")
}

func TestADroppedEventMakesTheClientCloseAndReport4001(t *testing.T) {
	wstest.NoLeaks(t, patience)
	c, p, srv, clock := mattermost(t, proxy.FaultSpec{Fault: "drop",
		Select: map[string]string{"type": "posted", "first": "1"}})
	for range 2 {
		if err := srv.Emit("posted", map[string]string{"message": "hi"}); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, p.Transcript(), "drop type=posted first=1: dropped server frame #", "(event posted seq=1)")
	waitFor(t, p.Transcript(), `close 1005 by client`)
	waitClosed(t, srv, `close 1005 by client`)
	advanceToRetry(t, c, clock)
	waitFor(t, p.Transcript(), "#2 dial", "(reports 4001)")
}

func TestProfileLessProxyPassesTheClientThrough(t *testing.T) {
	wstest.NoLeaks(t, patience)
	clock := vclock.New()
	srv := fakeserver.NewUnstartedServer(profile.MattermostProfile())
	srv.Clock = clock
	srv.Start()
	t.Cleanup(srv.Close)
	p := proxy.NewUnstartedServer(srv.URL)
	p.Clock = clock
	p.Faults = []chaos.Fault{chaos.SwallowPongs()} // opaque frames: no pong to swallow
	p.Start()
	t.Cleanup(p.Close)

	c := client.New(p.URL, &client.Options{Profile: profile.MattermostProfile(), Clock: clock.For("client")})
	replies := make(chan int64, 4)
	c.Subscribe("", func(m profile.Message) {
		if m.Kind == profile.Reply {
			replies <- m.SeqReply
		}
	})
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	if got := <-replies; got != 1 { // the client has taken the pong
		t.Fatalf("first reply answers %d, want the ping on open (1)", got)
	}
	if d, _ := clock.AdvanceToNext(); d != profile.MattermostProfile().Heartbeat.Interval {
		t.Fatalf("next timer after %v, want 30s", d)
	}
	waitFor(t, p.Transcript(), `+30s       #1 send {"status":"OK","seq_reply":2`)
	if got := <-replies; got != 2 {
		t.Fatalf("second reply answers %d, want 2", got)
	}
	c.Close()
	waitClosed(t, srv, `close 1005 by client`) // mattermost's close() sends no code
}

func TestSwallowedQueuePongsMakeTheClientClose4000(t *testing.T) {
	wstest.NoLeaks(t, patience)
	clock := vclock.New()
	srv := fakeserver.NewUnstartedServer(profile.QueueProfile())
	srv.Clock = clock
	srv.Start()
	t.Cleanup(srv.Close)
	p := proxy.NewUnstartedServer(srv.URL)
	p.Clock, p.Profile = clock, profile.QueueProfile() // pongs are "pong" events
	p.Faults = []chaos.Fault{chaos.SwallowPongs()}
	p.Start()
	t.Cleanup(p.Close)

	c := client.New(p.URL, &client.Options{Profile: profile.QueueProfile(), Clock: clock.For("client")})
	connected := make(chan struct{}, 1)
	c.OnState(func(ch client.StateChange) {
		if ch.To == client.StateConnected {
			connected <- struct{}{}
		}
	})
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	<-connected
	waitFor(t, p.Transcript(), "#1 open")
	clock.AdvanceToNext() // the first ping, at 30s
	waitFor(t, p.Transcript(), "+30s", "swallow-pongs: dropped server frame #1 (event pong)")
	waitDeadline(t, clock, time.Minute) // the client has re-armed its heartbeat
	clock.AdvanceToNext()               // the next ping is due with the first unanswered
	waitFor(t, p.Transcript(), `+1m0s      #1 close 4000 "ping timeout" by client`)
	waitClosed(t, srv, `close 4000 "ping timeout" by client`)
}

// advanceToRetry steps the clock to the client's retry once it is armed:
// the client says reconnecting only then.
func advanceToRetry(t *testing.T, c *client.Client, clock *vclock.Clock) {
	t.Helper()
	deadline := time.Now().Add(patience)
	for c.State() != client.StateReconnecting {
		if time.Now().After(deadline) {
			t.Fatal("the client armed no retry")
		}
		time.Sleep(time.Millisecond)
	}
	clock.AdvanceToNext()
}
