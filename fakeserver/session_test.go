package fakeserver_test

import (
	"strconv"
	"strings"
	"testing"

	"github.com/gorilla/websocket"
	"github.com/wschaos/wschaos/chaos"
	"github.com/wschaos/wschaos/profile"
)

// events reads n events and returns them as "type:seq" strings.
func events(t *testing.T, ws *websocket.Conn, p *profile.Profile, n int) string {
	t.Helper()
	var got []string
	for range n {
		m := read(t, ws, p)
		s := m.Type + ":" + strconv.FormatInt(m.Seq, 10)
		if m.Type == "hello" {
			s += "(" + m.Field("connection_id") + ")"
		}
		got = append(got, s)
	}
	return strings.Join(got, " ")
}

func TestSeqFaults(t *testing.T) {
	for _, tc := range []struct {
		fault chaos.Fault
		n     int
		want  string
	}{
		{chaos.SeqGap(2), 3, "hello:0(conn-1) e:1 e:3"},
		{chaos.SeqDuplicate(1), 5, "hello:0(conn-1) e:1 e:1 e:2 e:3"},
		{chaos.SeqSwap(1), 4, "hello:0(conn-1) e:2 e:1 e:3"},
		{chaos.NewHelloAfter(1), 5, "hello:0(conn-1) e:1 hello:0(conn-2) e:1 e:2"},
	} {
		t.Run(tc.fault.String(), func(t *testing.T) {
			p := profile.MattermostProfile()
			s, _ := newServer(t, p, tc.fault)
			ws := dial(t, resumeURL(t, s, "", 0))
			for range 3 {
				if err := s.Emit("e", nil); err != nil {
					t.Fatal(err)
				}
			}
			if got := events(t, ws, p, tc.n); got != tc.want {
				t.Errorf("client saw %s, want %s\n%s", got, tc.want, s.Transcript())
			}
			waitLine(t, s, "fault "+tc.fault.String())
		})
	}
}

func TestResume(t *testing.T) {
	t.Run("known id with seq in the buffer replays without hello", func(t *testing.T) {
		p := profile.MattermostProfile()
		s, _ := newServer(t, p)
		ws := dial(t, resumeURL(t, s, "", 0))
		s.Emit("a", nil)
		s.Emit("b", nil)
		if got := events(t, ws, p, 3); got != "hello:0(conn-1) a:1 b:2" {
			t.Fatalf("first connection saw %s", got)
		}
		ws.Close()
		waitLine(t, s, "#1 close 1006 by client")
		s.Emit("c", nil) // while away: kept
		waitLine(t, s, "note emit c: seq 3 kept for conn-1, which has no live connection")

		ws2 := dial(t, resumeURL(t, s, "conn-1", 2))
		if got := events(t, ws2, p, 2); got != "b:2 c:3" {
			t.Fatalf("resumed connection saw %s, want the replay from seq 2", got)
		}
		waitLine(t, s, "#2 open session=conn-1 resumed: replaying from seq 2")
		s.Emit("d", nil)
		if got := events(t, ws2, p, 1); got != "d:4" {
			t.Fatalf("then saw %s", got)
		}
	})
	t.Run("nothing missed resumes with nothing to replay", func(t *testing.T) {
		p := profile.MattermostProfile()
		s, _ := newServer(t, p)
		ws := dial(t, resumeURL(t, s, "", 0))
		events(t, ws, p, 1)
		ws.Close()
		ws2 := dial(t, resumeURL(t, s, "conn-1", 1))
		s.Emit("a", nil)
		if got := events(t, ws2, p, 1); got != "a:1" {
			t.Fatalf("saw %s", got)
		}
	})
	t.Run("unknown id gets a new session", func(t *testing.T) {
		p := profile.MattermostProfile()
		s, _ := newServer(t, p)
		ws := dial(t, resumeURL(t, s, "nope", 7))
		if got := events(t, ws, p, 1); got != "hello:0(conn-1)" {
			t.Fatalf("saw %s", got)
		}
		waitLine(t, s, `#1 open session=conn-1: unknown connection id "nope"`)
	})
	t.Run("evicted seq gets a new session", func(t *testing.T) {
		p := profile.MattermostProfile()
		p.Resume.BufferSize = 2
		s, _ := newServer(t, p)
		ws := dial(t, resumeURL(t, s, "", 0))
		for range 4 {
			s.Emit("e", nil)
		}
		events(t, ws, p, 5)
		ws.Close()
		ws2 := dial(t, resumeURL(t, s, "conn-1", 1))
		if got := events(t, ws2, p, 1); got != "hello:0(conn-2)" {
			t.Fatalf("saw %s", got)
		}
		waitLine(t, s, "#2 open session=conn-2: cannot resume conn-1 at seq 1 (buffer holds seq 3..4, next is 5); conn-1 abandoned")
		// The abandoned session cannot come back.
		ws2.Close()
		ws3 := dial(t, resumeURL(t, s, "conn-1", 5))
		if got := events(t, ws3, p, 1); got != "hello:0(conn-3)" {
			t.Fatalf("saw %s", got)
		}
	})
	t.Run("new hello mid-replay stops the old session's replay", func(t *testing.T) {
		p := profile.MattermostProfile()
		s, _ := newServer(t, p, chaos.OnAttempt(2, chaos.NewHelloAfter(1)))
		ws := dial(t, resumeURL(t, s, "", 0))
		for _, typ := range []string{"a", "b", "c"} {
			s.Emit(typ, nil)
		}
		events(t, ws, p, 4)
		ws.Close()
		waitLine(t, s, "#1 close")
		ws2 := dial(t, resumeURL(t, s, "conn-1", 1))
		s.Emit("d", nil)
		if got := events(t, ws2, p, 3); got != "a:1 hello:0(conn-2) d:1" {
			t.Fatalf("saw %s", got)
		}
		waitLine(t, s, "#2 note replay of conn-1 stopped: 2 events from seq 2 not sent, the connection moved to conn-2")
	})
	t.Run("new-session-on-resume", func(t *testing.T) {
		p := profile.MattermostProfile()
		s, _ := newServer(t, p, chaos.OnAttempt(2, chaos.NewSessionOnResume()))
		ws := dial(t, resumeURL(t, s, "", 0))
		s.Emit("a", nil)
		events(t, ws, p, 2)
		ws.Close()
		ws2 := dial(t, resumeURL(t, s, "conn-1", 2))
		if got := events(t, ws2, p, 1); got != "hello:0(conn-2)" {
			t.Fatalf("saw %s, want a new hello", got)
		}
		// Entries are published when the server's turn is over, which may
		// be after the client has read the hello.
		waitLine(t, s, `#2 send {"event":"hello"`)
		want := []string{
			"+0s        #2 open session=conn-2",
			"+0s        #2 fault new-session-on-resume attempts=2: new session conn-2 (conn-1 abandoned)",
		}
		got := lines(s, "#2 ")
		if len(got) < 4 || got[1] != want[0] || got[2] != want[1] {
			t.Errorf("attempt 2 lines:\n%s", strings.Join(got, "\n"))
		}
	})
}
