package fakeserver_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/wschaos/wschaos/chaos"
	"github.com/wschaos/wschaos/profile"
	"github.com/wschaos/wschaos/transcript"
)

func TestRefuseAnswersStatusAndRecordsIt(t *testing.T) {
	s, _ := newServer(t, profile.QueueProfile(),
		chaos.OnAttempt(1, chaos.RefuseRetryAfter(429, 1500*time.Millisecond)))

	_, resp, err := websocket.DefaultDialer.DialContext(ctx(t), s.URL, nil)
	if !errors.Is(err, websocket.ErrBadHandshake) || resp == nil || resp.StatusCode != 429 {
		t.Fatalf("dial: %v, %+v; want a 429 refusal", err, resp)
	}
	if got := resp.Header.Get("Retry-After"); got != "2" {
		t.Errorf("Retry-After = %q, want 2 (1.5s rounded up)", got)
	}
	dial(t, s.URL) // attempt 2 goes through
	waitLine(t, s, "#2 open")

	want := "+0s        #1 dial /ws\n" +
		"+0s        #1 refuse 429 (refuse 429 retry-after=1.5s attempts=1)\n" +
		"+0s        #2 dial /ws\n" +
		"+0s        #2 open\n"
	if got := s.Transcript().String(); got != want {
		t.Errorf("transcript:\n%s\nwant:\n%s", got, want)
	}
	e := s.Transcript().Entries()[1]
	if e.Kind != transcript.KindRefuse || e.Status != 429 || e.Attempt != 1 {
		t.Errorf("refuse entry = %+v", e)
	}
}

func TestStallHoldsTheHandshakeForVirtualTime(t *testing.T) {
	s, clock := newServer(t, profile.QueueProfile(), chaos.Stall(10*time.Second))
	done := make(chan error, 1)
	go func() {
		ws, _, err := websocket.DefaultDialer.DialContext(ctx(t), s.URL, nil)
		if err == nil {
			ws.Close()
		}
		done <- err
	}()

	waitLine(t, s, "stall (stall 10s): for 10s")
	select {
	case err := <-done:
		t.Fatalf("dial finished during the stall: %v", err)
	default:
	}
	if d := advance(t, clock); d != 10*time.Second {
		t.Fatalf("advanced %v, want the 10s stall", d)
	}
	if err := <-done; err != nil {
		t.Fatalf("dial after the stall: %v", err)
	}
	if l := waitLine(t, s, "open"); l.At != 10*time.Second {
		t.Errorf("open at %v, want +10s", l.At)
	}
}

func TestStallForeverEndsWhenTheClientGivesUpOrTheServerCloses(t *testing.T) {
	s, _ := newServer(t, profile.QueueProfile(), chaos.Stall(-1))

	short, cancel := context.WithTimeout(ctx(t), quiet)
	defer cancel()
	if _, _, err := websocket.DefaultDialer.DialContext(short, s.URL, nil); err == nil {
		t.Fatal("dial through a stall forever succeeded")
	}
	waitLine(t, s, "#1 note stalled handshake: client gave up")

	done := make(chan error, 1)
	go func() {
		_, _, err := websocket.DefaultDialer.DialContext(ctx(t), s.URL, nil)
		done <- err
	}()
	waitLine(t, s, "#2 stall (stall forever)")
	s.Close()
	if err := <-done; err == nil {
		t.Fatal("dial succeeded through a closed server")
	}
}

func TestResetHandshakeDropsTheTCPConnection(t *testing.T) {
	s, _ := newServer(t, profile.QueueProfile(), chaos.ResetHandshake())
	_, resp, err := websocket.DefaultDialer.DialContext(ctx(t), s.URL, nil)
	if err == nil || resp != nil {
		t.Fatalf("dial = %v, %v; want a network error and no HTTP answer", resp, err)
	}
	waitLine(t, s, "#1 reset (reset-handshake)")
}

func TestBadResumeQueryIsRefusedWith400(t *testing.T) {
	s, _ := newServer(t, profile.MattermostProfile())
	_, resp, err := websocket.DefaultDialer.DialContext(ctx(t), s.URL+"?sequence_number=x", nil)
	if !errors.Is(err, websocket.ErrBadHandshake) || resp.StatusCode != 400 {
		t.Fatalf("dial: %v; want 400", err)
	}
	l := waitLine(t, s, "refuse 400")
	if !strings.Contains(l.Note, `sequence_number "x"`) || l.URL != "" {
		t.Errorf("refusal = %q", l.String())
	}
	if got := lines(s, "dial"); len(got) != 1 || !strings.HasSuffix(got[0], "dial /ws?sequence_number=x") {
		t.Errorf("dial lines = %q; want the path and query", got)
	}
}

func TestPlainHTTPIsRefusedAndRecorded(t *testing.T) {
	s, _ := newServer(t, profile.QueueProfile())
	status, err := httpGet(t, "http"+strings.TrimPrefix(s.URL, "ws"))
	if err != nil {
		t.Fatal(err)
	}
	if status != 400 {
		t.Errorf("plain GET answered %d, want 400", status)
	}
	waitLine(t, s, "#1 refuse 400: not upgraded")
}

func graphqlWS() *profile.Profile { return profile.ByName("graphql-ws") }

// dialProtos dials url offering protos and returns the connection and the
// subprotocol the server selected.
func dialProtos(t *testing.T, url string, protos ...string) (*websocket.Conn, string) {
	t.Helper()
	ws, resp, err := (&websocket.Dialer{Subprotocols: protos}).DialContext(ctx(t), url, nil)
	if err != nil {
		t.Fatalf("dial offering %q: %v, %+v", protos, err, resp)
	}
	t.Cleanup(func() { ws.Close() })
	return ws, ws.Subprotocol()
}

func TestProfileSubprotocolIsSelected(t *testing.T) {
	s, _ := newServer(t, graphqlWS())
	if _, got := dialProtos(t, s.URL, "graphql-transport-ws"); got != "graphql-transport-ws" {
		t.Errorf("selected %q, want graphql-transport-ws", got)
	}
	if _, got := dialProtos(t, s.URL, "graphql-ws", "graphql-transport-ws"); got != "graphql-transport-ws" {
		t.Errorf("offering two: selected %q, want graphql-transport-ws", got)
	}
	waitLine(t, s, "#2 open")
}

func TestHandshakeWithoutTheSubprotocolIsRefused(t *testing.T) {
	s, _ := newServer(t, graphqlWS())
	for _, protos := range [][]string{nil, {"graphql-ws"}} {
		_, resp, err := (&websocket.Dialer{Subprotocols: protos}).DialContext(ctx(t), s.URL, nil)
		if !errors.Is(err, websocket.ErrBadHandshake) || resp == nil || resp.StatusCode != 400 {
			t.Fatalf("dial offering %q: %v, %+v; want a 400 refusal", protos, err, resp)
		}
	}
	waitLine(t, s, "#1 refuse 400: subprotocol graphql-transport-ws missing (offered: none)")
	waitLine(t, s, "#2 refuse 400: subprotocol graphql-transport-ws missing (offered: graphql-ws)")
	if n := s.OpenConns(); n != 0 {
		t.Errorf("%d connections open after two refusals", n)
	}
}

func TestNoSubprotocolIsSelectedWithoutOneInTheProfile(t *testing.T) {
	s, _ := newServer(t, profile.QueueProfile())
	if _, got := dialProtos(t, s.URL, "graphql-transport-ws"); got != "" {
		t.Errorf("selected %q for a profile with no subprotocol", got)
	}
}
