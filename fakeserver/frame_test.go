package fakeserver_test

import (
	"strings"
	"testing"
	"time"

	"github.com/wschaos/wschaos/chaos"
	"github.com/wschaos/wschaos/profile"
)

func TestFrameFaultsActAndAreRecorded(t *testing.T) {
	p := profile.QueueProfile()
	emit2 := func(t *testing.T, s interface{ Emit(string, any) error }) {
		for _, typ := range []string{"panel.created", "panel.deleted"} {
			if err := s.Emit(typ, nil); err != nil {
				t.Fatal(err)
			}
		}
	}
	t.Run("drop", func(t *testing.T) {
		s, _ := newServer(t, p, chaos.Type("pong", chaos.Drop()))
		ws := dial(t, s.URL)
		send(t, ws, p, ping(p, 1))
		waitLine(t, s, "fault drop type=pong: dropped server frame #1 (event pong)")
		emit2(t, s)
		if m := read(t, ws, p); m.Type != "panel.created" {
			t.Errorf("got %v; the pong must be gone", m)
		}
	})
	t.Run("duplicate", func(t *testing.T) {
		s, _ := newServer(t, p, chaos.Dir(profile.Server, chaos.Duplicate()))
		ws := dial(t, s.URL)
		send(t, ws, p, ping(p, 1))
		for range 2 {
			if m := read(t, ws, p); m.Type != "pong" {
				t.Fatalf("got %v, want pong twice", m)
			}
		}
		waitLine(t, s, "duplicate dir=server: duplicated server frame #1 (event pong) (2 copies)")
		waitCount(t, s, `send {"type":"pong"}`, 2)
	})
	t.Run("reorder", func(t *testing.T) {
		s, _ := newServer(t, p, chaos.Dir(profile.Server, chaos.Reorder()))
		ws := dial(t, s.URL)
		emit2(t, s)
		if a, b := read(t, ws, p), read(t, ws, p); a.Type != "panel.deleted" || b.Type != "panel.created" {
			t.Fatalf("got %v, %v; want them swapped", a, b)
		}
		waitLine(t, s, "reorder dir=server: held server frame #1 to swap with the next")
		waitLine(t, s, "reorder dir=server: sent server frame #1 after #2")
	})
	t.Run("client frames", func(t *testing.T) {
		s, _ := newServer(t, p, chaos.Dir(profile.Client, chaos.Index(1, chaos.Drop())))
		ws := dial(t, s.URL)
		send(t, ws, p, ping(p, 1))
		send(t, ws, p, ping(p, 2))
		read(t, ws, p)
		waitLine(t, s, "drop index=1 dir=client: dropped client frame #1 (request ping)")
		waitCount(t, s, `send {"type":"pong"}`, 1) // published once the server's turn is over
		if n := len(lines(s, `send {"type":"pong"}`)); n != 1 {
			t.Errorf("%d pongs, want 1: the first ping never reached the server", n)
		}
	})
}

func TestDelayedFrameIsSentOnlyWhenTheClockGetsThere(t *testing.T) {
	p := profile.QueueProfile()
	s, clock := newServer(t, p, chaos.Type("pong", chaos.Delay(25*time.Second)))
	ws := dial(t, s.URL)
	send(t, ws, p, ping(p, 1))
	waitLine(t, s, "delay 25s type=pong: delayed server frame #1 (event pong) by 25s")
	if got := lines(s, "send"); len(got) != 0 {
		t.Fatalf("sent before the delay: %q", got)
	}
	if d := advance(t, clock); d != 25*time.Second {
		t.Fatalf("advanced %v, want 25s", d)
	}
	if m := read(t, ws, p); m.Type != "pong" {
		t.Fatalf("got %v", m)
	}
	if l := waitLine(t, s, "send"); l.At != 25*time.Second {
		t.Errorf("sent at %v, want +25s: a held frame is recorded when it hits the wire", l.At)
	}
}

func TestDelayedFramesKeepDueThenInsertionOrder(t *testing.T) {
	p := profile.QueueProfile()
	s, clock := newServer(t, p, chaos.Dir(profile.Server, chaos.Delay(time.Second)))
	ws := dial(t, s.URL)
	for _, typ := range []string{"a", "b", "c"} {
		s.Emit(typ, nil)
	}
	advance(t, clock)
	for _, want := range []string{"a", "b", "c"} {
		if m := read(t, ws, p); m.Type != want {
			t.Fatalf("got %v, want %s: same due time keeps insertion order", m, want)
		}
	}
}

func TestNoTimerIsArmedWithoutDelaysOrScheduledCuts(t *testing.T) {
	p := profile.MattermostProfile()
	s, clock := newServer(t, p, chaos.OnAttempt(2, chaos.Type("posted", chaos.Delay(time.Second))))
	ws := dial(t, resumeURL(t, s, "", 0))
	read(t, ws, p)
	send(t, ws, p, ping(p, 1))
	read(t, ws, p)
	s.Emit("posted", nil)
	read(t, ws, p)
	if at, ok := clock.Next(); ok {
		t.Fatalf("a timer is armed (due %v) on a connection with nothing delayed", at)
	}

	ws.Close()
	waitLine(t, s, "#1 close 1006 by client")
	ws2 := dial(t, resumeURL(t, s, "conn-1", 2))
	waitLine(t, s, "#2 open session=conn-1 resumed")
	s.Emit("posted", nil)
	if _, ok := clock.Next(); !ok {
		t.Fatal("no timer armed for a delayed frame")
	}
	advance(t, clock)
	if m := read(t, ws2, p); m.Type != "posted" || m.Seq != 2 {
		t.Fatalf("got %v", m)
	}
	waitLine(t, s, "#2 send")
	if at, ok := clock.Next(); ok {
		t.Fatalf("timer still armed (due %v) after the delayed frame went out", at)
	}
}

func TestPongFaults(t *testing.T) {
	t.Run("every 2nd pong swallowed", func(t *testing.T) {
		p := profile.QueueProfile()
		s, _ := newServer(t, p, chaos.EveryNth(2, chaos.SwallowPongs()))
		ws := dial(t, s.URL)
		for i := range 3 {
			send(t, ws, p, ping(p, int64(i)))
			send(t, ws, p, profile.Message{Kind: profile.Request, Type: "message.send",
				Data: profile.MustData(map[string]int{"id": i})})
		}
		var got []string
		for range 5 {
			m := read(t, ws, p)
			got = append(got, m.Type)
		}
		want := "pong message.received message.received pong message.received"
		if strings.Join(got, " ") != want {
			t.Errorf("got %v, want %s", got, want)
		}
		waitLine(t, s, "swallow-pongs every=2: dropped server frame #3 (event pong)")
	})
	t.Run("delayed pong", func(t *testing.T) {
		p := profile.MattermostProfile()
		s, clock := newServer(t, p, chaos.DelayPongs(30*time.Second))
		ws := dial(t, resumeURL(t, s, "", 0))
		read(t, ws, p)
		send(t, ws, p, ping(p, 1))
		waitLine(t, s, "delay-pongs 30s: delayed server frame #2 (reply seq_reply=1 status=OK) by 30s")
		advance(t, clock)
		if m := read(t, ws, p); !p.IsPong(m, 1) {
			t.Fatalf("got %v", m)
		}
	})
	t.Run("flood before pong", func(t *testing.T) {
		p := profile.MattermostProfile()
		s, _ := newServer(t, p, chaos.FloodBeforePongs(3))
		ws := dial(t, resumeURL(t, s, "", 0))
		read(t, ws, p)
		send(t, ws, p, ping(p, 1))
		for seq := int64(1); seq <= 3; seq++ {
			if m := read(t, ws, p); m.Type != "flood" || m.Seq != seq {
				t.Fatalf("got %v, want flood seq=%d", m, seq)
			}
		}
		if m := read(t, ws, p); !p.IsPong(m, 1) {
			t.Fatalf("got %v, want the pong after the flood", m)
		}
		s.Emit("posted", nil)
		if m := read(t, ws, p); m.Seq != 4 {
			t.Fatalf("got %v, want seq 4: the flood is numbered in the session", m)
		}
		waitLine(t, s, "flood-before-pongs 3: added server frame #3 (event flood seq=1), server frame #4 (event flood seq=2), server frame #5 (event flood seq=3) before server frame #2 (reply seq_reply=1 status=OK)")
	})
}
