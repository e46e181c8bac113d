package fakeserver_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/gorilla/websocket"
	"github.com/wschaos/wschaos/chaos"
	"github.com/wschaos/wschaos/profile"
)

// turnRounds is how many times each check races the client against the
// server's bookkeeping: the losing order, were it possible, would show.
const turnRounds = 100

// What a client sees of the server comes after the server has recorded
// it: a spec that steps the clock as soon as the client reacts must find
// the whole turn in the transcript, stamped before the step.
func TestTheClientSeesATurnOnlyOnceItIsInTheTranscript(t *testing.T) {
	t.Run("a close during the open, and what the open then could not send", func(t *testing.T) {
		s, _ := newServer(t, profile.MattermostProfile(),
			chaos.AcceptThenClose(chaos.Cut{Kind: chaos.CloseFrame, Code: 1012, Reason: "restart"}))
		for i := 1; i <= turnRounds; i++ {
			ws := dial(t, resumeURL(t, s, "", 0))
			if code := closeCode(readClose(t, ws)); code != 1012 {
				t.Fatalf("round %d: close %d, want 1012", i, code)
			}
			ws.Close()
			got := s.Transcript().String() // at once: no waiting
			for _, want := range []string{
				fmt.Sprintf("#%d close 1012 \"restart\" by server", i),
				fmt.Sprintf("#%d note server frame #1 (event hello seq=0) not sent: connection closing", i),
			} {
				if !strings.Contains(got, want) {
					t.Fatalf("round %d: the client saw the close before the transcript had %q:\n%s", i, want, got)
				}
			}
		}
	})
	t.Run("a frame sent", func(t *testing.T) {
		p := profile.QueueProfile()
		s, _ := newServer(t, p)
		ws := dial(t, s.URL)
		for i := 1; i <= turnRounds; i++ {
			send(t, ws, p, ping(p, int64(i)))
			if m := read(t, ws, p); m.Type != "pong" {
				t.Fatalf("round %d: got %v, want a pong", i, m)
			}
			if n := len(lines(s, `send {"type":"pong"}`)); n != i { // at once: no waiting
				t.Fatalf("round %d: the client read pong %d while the transcript had %d", i, i, n)
			}
		}
	})
	t.Run("a FIN", func(t *testing.T) {
		s, _ := newServer(t, profile.QueueProfile(), chaos.AcceptThenClose(chaos.Cut{Kind: chaos.FIN}))
		for i := 1; i <= turnRounds; i++ {
			ws := dial(t, s.URL)
			if err := readClose(t, ws); closeCode(err) != 0 && closeCode(err) != websocket.CloseAbnormalClosure {
				t.Fatalf("round %d: %v, want the socket dropped", i, err)
			}
			ws.Close()
			if want := fmt.Sprintf("#%d close 1006 by server (accept-then-close fin): FIN", i); !strings.Contains(s.Transcript().String(), want) {
				t.Fatalf("round %d: the client saw the FIN before the transcript had %q:\n%s", i, want, s.Transcript())
			}
		}
	})
}
