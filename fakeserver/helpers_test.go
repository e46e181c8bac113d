package fakeserver_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/wschaos/wschaos/chaos"
	"github.com/wschaos/wschaos/fakeserver"
	"github.com/wschaos/wschaos/internal/wstest"
	"github.com/wschaos/wschaos/profile"
	"github.com/wschaos/wschaos/transcript"
	"github.com/wschaos/wschaos/vclock"
)

// patience bounds every real-time wait in these tests; a healthy run takes
// milliseconds, so hitting it means the test is broken.
const patience = 5 * time.Second

// quiet is how long a test listens to conclude that nothing arrives.
const quiet = 50 * time.Millisecond

// newServer starts a server on a fresh virtual clock, closed at cleanup.
func newServer(t *testing.T, p *profile.Profile, faults ...chaos.Fault) (*fakeserver.Server, *vclock.Clock) {
	t.Helper()
	clock := vclock.New()
	s := fakeserver.NewUnstartedServer(p)
	s.Clock = clock
	s.Faults = faults
	s.Start()
	t.Cleanup(s.Close)
	return s, clock
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), patience)
	t.Cleanup(cancel)
	return c
}

// dial connects a plain gorilla client, closed at cleanup.
func dial(t *testing.T, url string) *websocket.Conn {
	t.Helper()
	ws := wstest.Dial(t, ctx(t), websocket.DefaultDialer, url, nil)
	t.Cleanup(func() { ws.Close() })
	return ws
}

// resumeURL is a mattermost connect URL.
func resumeURL(t *testing.T, s *fakeserver.Server, id string, seq int64) string {
	t.Helper()
	u, err := s.Profile.ConnectURL(s.URL, profile.ConnectQuery{ConnectionID: id, Seq: seq})
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// readRaw reads the next message, or fails the test after patience.
func readRaw(t *testing.T, ws *websocket.Conn) (int, []byte, error) {
	t.Helper()
	ws.SetReadDeadline(time.Now().Add(patience))
	return ws.ReadMessage()
}

// read reads and decodes the next server message.
func read(t *testing.T, ws *websocket.Conn, p *profile.Profile) profile.Message {
	t.Helper()
	_, data, err := readRaw(t, ws)
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	m, err := p.Codec.Decode(data, profile.Server)
	if err != nil {
		t.Fatalf("decode %s: %v", data, err)
	}
	return m
}

// readClose reads until the connection ends and returns the close error.
func readClose(t *testing.T, ws *websocket.Conn) error {
	t.Helper()
	for {
		if _, data, err := readRaw(t, ws); err != nil {
			return err
		} else if data != nil {
			t.Logf("read before close: %s", data)
		}
	}
}

// nothing asserts that no message arrives for a short while.
func nothing(t *testing.T, ws *websocket.Conn) {
	t.Helper()
	ws.SetReadDeadline(time.Now().Add(quiet))
	_, data, err := ws.ReadMessage()
	var ne interface{ Timeout() bool }
	if err == nil || !errors.As(err, &ne) || !ne.Timeout() {
		t.Fatalf("want nothing, got %q, %v", data, err)
	}
}

func send(t *testing.T, ws *websocket.Conn, p *profile.Profile, m profile.Message) {
	t.Helper()
	data, err := p.Codec.Encode(m)
	if err != nil {
		t.Fatal(err)
	}
	if err := ws.WriteMessage(websocket.TextMessage, data); err != nil {
		t.Fatalf("write: %v", err)
	}
}

// waitLine waits for a transcript line containing want and returns it.
func waitLine(t *testing.T, s *fakeserver.Server, want string) transcript.Entry {
	t.Helper()
	var found transcript.Entry
	err := s.Transcript().Wait(ctx(t), func(es []transcript.Entry) bool {
		for _, e := range es {
			if strings.Contains(e.String(), want) {
				found = e
				return true
			}
		}
		return false
	})
	if err != nil {
		t.Fatalf("waiting for %q: %v", want, err)
	}
	return found
}

// waitCount waits until n transcript lines contain want.
func waitCount(t *testing.T, s *fakeserver.Server, want string, n int) {
	t.Helper()
	err := s.Transcript().Wait(ctx(t), func(es []transcript.Entry) bool {
		got := 0
		for _, e := range es {
			if strings.Contains(e.String(), want) {
				got++
			}
		}
		return got >= n
	})
	if err != nil {
		t.Fatalf("waiting for %d lines with %q: %v", n, want, err)
	}
}

// lines returns the transcript lines that contain want.
func lines(s *fakeserver.Server, want string) []string {
	var out []string
	for _, l := range strings.Split(s.Transcript().String(), "\n") {
		if strings.Contains(l, want) {
			out = append(out, l)
		}
	}
	return out
}

// advance moves the clock to the next timer, once one is armed, and
// returns how far it moved.
func advance(t *testing.T, clock *vclock.Clock) time.Duration {
	t.Helper()
	if err := clock.BlockUntilContext(ctx(t), 1); err != nil {
		t.Fatalf("no timer armed: %v", err)
	}
	d, ok := clock.AdvanceToNext()
	if !ok {
		t.Fatal("no timer to advance to")
	}
	return d
}

func ping(p *profile.Profile, seq int64) profile.Message { return p.Ping(seq) }

func request(typ string, seq int64, data any) profile.Message {
	m := profile.Message{Kind: profile.Request, Type: typ, Seq: seq, HasSeq: true}
	if data != nil {
		m.Data = profile.MustData(data)
	}
	return m
}

func closeCode(err error) int {
	var ce *websocket.CloseError
	if errors.As(err, &ce) {
		return ce.Code
	}
	return 0
}
