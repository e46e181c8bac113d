package fakeserver_test

import (
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/wschaos/wschaos/fakeserver"
	"github.com/wschaos/wschaos/profile"
	"github.com/wschaos/wschaos/transcript"
	"github.com/wschaos/wschaos/vclock"
)

// What the server does for each shipped profile's wire format, frame by
// frame as its real clients write them.

func TestPhoenixHeartbeatGetsAReplyWithItsRef(t *testing.T) {
	p := profile.ByName("phoenix")
	s, _ := newServer(t, p)
	ws := dial(t, s.URL)
	writeText(t, ws, `[null,"3","phoenix","heartbeat",{}]`)
	got := readText(t, ws)
	if !strings.HasPrefix(got, `[null,"3","phoenix","phx_reply",{`) || !strings.Contains(got, `"status":"ok"`) {
		t.Fatalf("got %s, want a phx_reply with ref 3 and status ok", got)
	}
	m, err := p.Codec.Decode([]byte(got), profile.Server)
	if err != nil || !p.IsPong(m, 3) {
		t.Fatalf("decoded %v, %v; want the pong of heartbeat 3", m, err)
	}
	waitLine(t, s, `#1 recv [null,"3","phoenix","heartbeat",{}]`)
}

func TestPhoenixRepliesToEveryPushWithItsRef(t *testing.T) {
	s, _ := newServer(t, profile.ByName("phoenix"))
	ws := dial(t, s.URL)
	for _, ref := range []string{"4", "5"} {
		writeText(t, ws, `[null,"`+ref+`","phoenix","new_msg",{"body":"hi"}]`)
		want := `[null,"` + ref + `","phoenix","phx_reply",{"response":{},"status":"ok"}]`
		if got := readText(t, ws); got != want {
			t.Fatalf("got %s, want %s", got, want)
		}
	}
}

// reconnecting-websocket sends whatever the application gives it: plain
// text, JSON or not. The server records it, answers nothing (no replies,
// no ack type, no heartbeat), and neither fails nor complains.
func TestPlainTextFramesAreRecordedAndNotAnswered(t *testing.T) {
	p := profile.ByName("reconnecting-websocket")
	var mu sync.Mutex
	var log strings.Builder
	s := fakeserver.NewUnstartedServer(p)
	s.Clock = vclock.New()
	s.Logger = slog.New(slog.NewTextHandler(lockedWriter{&mu, &log}, &slog.HandlerOptions{Level: slog.LevelDebug}))
	s.Start()
	t.Cleanup(s.Close)
	ws := dial(t, s.URL)

	for _, text := range []string{"hello", "{not json", `{"type":"ping"}`, "message", ""} {
		writeText(t, ws, text)
	}
	waitCount(t, s, "#1 recv", 5)
	if err := s.Emit("message", "server says hi"); err != nil {
		t.Fatal(err)
	}
	if got := readText(t, ws); got != "server says hi" {
		t.Errorf("got %q, want the emitted text as it is, and nothing before it", got)
	}
	waitLine(t, s, "#1 send server says hi")
	for _, e := range s.Transcript().Entries() {
		if e.Kind == transcript.KindRecv && (e.Note != "" || e.Msg == nil || e.Msg.Type != "message") {
			t.Errorf("recv %q: note %q, message %v; want a plain message", e.Data, e.Note, e.Msg)
		}
	}
	if n := len(lines(s, "send")); n != 1 {
		t.Errorf("%d sends, want only the emitted one:\n%s", n, s.Transcript())
	}
	mu.Lock()
	defer mu.Unlock()
	for _, bad := range []string{"level=WARN", "level=ERROR", "undecodable", "cannot", "failed"} {
		if strings.Contains(log.String(), bad) {
			t.Errorf("the log has %q:\n%s", bad, log.String())
		}
	}
}

// A browser's close() with no code sends a close frame with no status
// (mattermost's and phoenix's clients do so): it is a clean close, 1005,
// not a protocol error, and is answered with a close frame with none.
func TestCloseFrameWithoutAStatusIs1005ByTheClient(t *testing.T) {
	for _, name := range []string{"mattermost", "phoenix"} {
		t.Run(name, func(t *testing.T) {
			s, _ := newServer(t, profile.ByName(name))
			ws := dial(t, s.URL)
			waitLine(t, s, "#1 open")
			if err := ws.WriteControl(websocket.CloseMessage, nil, time.Now().Add(patience)); err != nil {
				t.Fatal(err)
			}
			if code := closeCode(readClose(t, ws)); code != websocket.CloseNoStatusReceived {
				t.Errorf("the server answered close %d, want a close frame with no status (1005)", code)
			}
			l := waitLine(t, s, "#1 close")
			if l.String() != "+0s        #1 close 1005 by client" || l.Code != profile.StatusNoStatus || l.By != profile.Client {
				t.Errorf("close line %q (%+v), want a close 1005 by the client", l.String(), l)
			}
			if bad := lines(s, "1002"); len(bad) > 0 {
				t.Errorf("recorded as a protocol error: %q", bad)
			}
		})
	}
}
