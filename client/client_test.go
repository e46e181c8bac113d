package client_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/wschaos/wschaos/client"
	"github.com/wschaos/wschaos/profile"
)

// server is a minimal queue-profile peer: it sends each string put on out,
// records what it receives, and closes with code when told.
type server struct {
	*httptest.Server
	out  chan string
	mu   sync.Mutex
	recv []string
}

func newServer(t *testing.T) *server {
	t.Helper()
	s := &server{out: make(chan string, 16)}
	up := websocket.Upgrader{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer c.Close()
		done := make(chan struct{})
		go func() {
			defer close(done)
			for {
				_, b, err := c.ReadMessage()
				if err != nil {
					return
				}
				s.mu.Lock()
				s.recv = append(s.recv, string(b))
				s.mu.Unlock()
			}
		}()
		for {
			select {
			case m := <-s.out:
				c.WriteMessage(websocket.TextMessage, []byte(m))
			case <-done:
				return
			}
		}
	}))
	t.Cleanup(s.Close)
	return s
}

func wsURL(s *server) string { return "ws" + strings.TrimPrefix(s.URL, "http") }

// waitPatience bounds, in real time, each wait for an effect; effects take
// milliseconds.
const waitPatience = 5 * time.Second

func waitFor[T any](t *testing.T, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(waitPatience):
		t.Fatalf("timed out waiting for %s", what)
		panic("unreachable")
	}
}

func startConnected(t *testing.T, s *server, p *profile.Profile) *client.Client {
	t.Helper()
	c := client.New(wsURL(s), &client.Options{Profile: p})
	connected := make(chan struct{}, 1)
	unsub := c.OnState(func(ch client.StateChange) {
		if ch.To == client.StateConnected {
			select {
			case connected <- struct{}{}:
			default:
			}
		}
	})
	defer unsub()
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	waitFor(t, connected, "connected")
	return c
}

func TestSubscribeByTypeAndAll(t *testing.T) {
	s := newServer(t)
	c := startConnected(t, s, profile.QueueProfile())
	panels := make(chan profile.Message, 4)
	all := make(chan profile.Message, 4)
	unsubPanels := c.Subscribe("panel.updated", func(m profile.Message) { panels <- m })
	c.Subscribe("", func(m profile.Message) { all <- m })

	s.out <- `{"type":"panel.updated","payload":{"id":"p1"}}`
	s.out <- `{"type":"session.created","payload":{}}`
	if got := waitFor(t, panels, "panel.updated").Field("id"); got != "p1" {
		t.Fatalf("panel id = %q, want p1", got)
	}
	for _, want := range []string{"panel.updated", "session.created"} {
		if got := waitFor(t, all, want).Type; got != want {
			t.Fatalf("all subscriber got %q, want %q (arrival order)", got, want)
		}
	}

	unsubPanels()
	unsubPanels() // twice is harmless
	s.out <- `{"type":"panel.updated","payload":{"id":"p2"}}`
	waitFor(t, all, "second panel.updated")
	select {
	case m := <-panels:
		t.Fatalf("unsubscribed callback still got %v", m)
	default:
	}
}

func TestBadFrameIsReportedNotFatal(t *testing.T) {
	s := newServer(t)
	c := startConnected(t, s, profile.QueueProfile())
	errs := make(chan error, 1)
	msgs := make(chan profile.Message, 1)
	c.OnError(func(err error) { errs <- err })
	c.Subscribe("", func(m profile.Message) { msgs <- m })

	s.out <- `not json at all`
	err := waitFor(t, errs, "decode error")
	if !errors.Is(err, profile.ErrEnvelope) || !strings.Contains(err.Error(), "not json at all") {
		t.Fatalf("error %q should wrap ErrEnvelope and quote the frame", err)
	}
	s.out <- `{"type":"pong"}`
	waitFor(t, msgs, "the next good frame")
	if c.State() != client.StateConnected {
		t.Fatalf("state %v after a bad frame, want connected", c.State())
	}
}

func TestServerErrorPutsClientInErrorState(t *testing.T) {
	s := newServer(t)
	c := startConnected(t, s, profile.QueueProfile())
	changes := make(chan client.StateChange, 4)
	c.OnState(func(ch client.StateChange) { changes <- ch })
	s.out <- `{"type":"error","payload":{"message":"quota exceeded"}}`
	ch := waitFor(t, changes, "error state")
	if ch.To != client.StateError || ch.Err == nil || !strings.Contains(ch.Err.Error(), "quota exceeded") {
		t.Fatalf("got %+v, want the error state with the server's message", ch)
	}
}

func TestMisuse(t *testing.T) {
	c := client.New("ws://127.0.0.1:1/never", nil)
	if err := c.Close(); err != nil {
		t.Fatalf("Close before Start: %v", err)
	}
	if err := c.Start(); !errors.Is(err, client.ErrClosed) {
		t.Fatalf("Start after Close = %v, want ErrClosed", err)
	}
	if err := c.Send(context.Background(), "message.send", nil); !errors.Is(err, client.ErrClosed) {
		t.Fatalf("Send after Close = %v, want ErrClosed", err)
	}

	s := newServer(t)
	c = startConnected(t, s, profile.QueueProfile())
	if err := c.Start(); !errors.Is(err, client.ErrStarted) {
		t.Fatalf("second Start = %v, want ErrStarted", err)
	}
	if err := c.Send(context.Background(), "message.send", func() {}); err == nil || !strings.Contains(err.Error(), "marshal") {
		t.Fatalf("Send of an unmarshalable value = %v, want a marshal error", err)
	}
}

func TestCloseFromCallbackDoesNotDeadlock(t *testing.T) {
	s := newServer(t)
	c := startConnected(t, s, profile.QueueProfile())
	closed := make(chan error, 1)
	c.Subscribe("bye", func(profile.Message) { closed <- c.Close() })
	s.out <- `{"type":"bye"}`
	if err := waitFor(t, closed, "Close from a callback"); err != nil {
		t.Fatal(err)
	}
	if c.State() != client.StateDisconnected {
		t.Fatalf("state %v after Close, want disconnected", c.State())
	}
}

func TestMaxAttemptsGivesUp(t *testing.T) {
	dead := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "down", http.StatusServiceUnavailable)
	}))
	defer dead.Close()
	p := profile.MattermostProfile()
	p.Backoff = backoffInstant{}
	c := client.New("ws"+strings.TrimPrefix(dead.URL, "http"), &client.Options{Profile: p, MaxAttempts: 3})
	gaveUp := make(chan client.StateChange, 1)
	c.OnState(func(ch client.StateChange) {
		if ch.To == client.StateGaveUp {
			gaveUp <- ch
		}
	})
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ch := waitFor(t, gaveUp, "gave up")
	if !strings.Contains(ch.Err.Error(), "4 failed attempts") || !strings.Contains(ch.Err.Error(), "503") {
		t.Fatalf("give-up error %q should count the failures and say why the last failed", ch.Err)
	}
}
