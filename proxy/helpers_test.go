package proxy_test

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
	"github.com/wschaos/wschaos/chaos"
	"github.com/wschaos/wschaos/internal/wstest"
	"github.com/wschaos/wschaos/proxy"
	"github.com/wschaos/wschaos/vclock"
)

// patience bounds every real-time wait in these tests; a healthy run takes
// milliseconds, so hitting it means the test is broken.
const patience = 5 * time.Second

// quiet is how long a test listens to conclude that nothing arrives.
const quiet = 50 * time.Millisecond

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), patience)
	t.Cleanup(cancel)
	return c
}

// newProxy starts a proxy to upstream on a fresh virtual clock.
func newProxy(t *testing.T, upstream string, faults ...chaos.Fault) (*proxy.Proxy, *vclock.Clock) {
	t.Helper()
	clock := vclock.New()
	p := proxy.NewUnstartedServer(upstream)
	p.Clock, p.Faults = clock, faults
	p.Start()
	t.Cleanup(p.Close)
	return p, clock
}

// echo is a plain gorilla echo server: it echoes every message, speaks
// subprotocol "v2.chat" when offered, records each request, and on
// "close-me CODE" closes with that code and reason "bye", on "drop-me"
// drops the socket without a close frame.
type echo struct {
	*httptest.Server
	mu     sync.Mutex
	reqs   []*http.Request
	closes chan *websocket.CloseError // close frames it received
}

func newEcho(t *testing.T) *echo {
	t.Helper()
	e := &echo{closes: make(chan *websocket.CloseError, 4)}
	up := websocket.Upgrader{Subprotocols: []string{"v2.chat"}}
	e.Server = wstest.StartServer(t, func(w http.ResponseWriter, r *http.Request) {
		e.mu.Lock()
		e.reqs = append(e.reqs, r)
		e.mu.Unlock()
		if r.URL.Path == "/refuse" {
			w.Header().Set("Retry-After", "7")
			http.Error(w, "busy", http.StatusTooManyRequests)
			return
		}
		ws, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer ws.Close()
		for {
			op, data, err := ws.ReadMessage()
			var ce *websocket.CloseError
			if errors.As(err, &ce) {
				e.closes <- ce
				return
			}
			if err != nil {
				return
			}
			if string(data) == "drop-me" {
				return // the deferred Close drops the socket: no close frame
			}
			if code, ok := strings.CutPrefix(string(data), "close-me "); ok {
				ws.WriteControl(websocket.CloseMessage, []byte(closeMsg(code)), time.Now().Add(patience))
				ws.ReadMessage() // the answer
				return
			}
			if ws.WriteMessage(op, data) != nil {
				return
			}
		}
	}, false)
	return e
}

func closeMsg(code string) string {
	n := 0
	for _, c := range code {
		n = n*10 + int(c-'0')
	}
	return string(websocket.FormatCloseMessage(n, "bye"))
}

func (e *echo) wsURL() string { return "ws" + strings.TrimPrefix(e.URL, "http") }

func (e *echo) requests() []*http.Request {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]*http.Request(nil), e.reqs...)
}

// peer is a plain gorilla client with a reader goroutine, so a test can
// wait for "nothing arrives" without a read deadline (after one, gorilla
// refuses every later read).
type peer struct {
	ws   *websocket.Conn
	msgs chan string
	end  chan error
}

// dial connects a peer, closed at cleanup.
func dial(t *testing.T, url string, h http.Header, protos ...string) *peer {
	t.Helper()
	ws := wstest.Dial(t, ctx(t), &websocket.Dialer{Subprotocols: protos}, url, h)
	pr := &peer{ws: ws, msgs: make(chan string, 64), end: make(chan error, 1)}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			_, data, err := ws.ReadMessage()
			if err != nil {
				pr.end <- err
				return
			}
			pr.msgs <- string(data)
		}
	}()
	t.Cleanup(func() {
		ws.Close()
		<-done
	})
	return pr
}

// readMsg returns the next message, failing after patience.
func readMsg(t *testing.T, pr *peer) string {
	t.Helper()
	select {
	case m := <-pr.msgs:
		return m
	default:
	}
	select {
	case m := <-pr.msgs:
		return m
	case err := <-pr.end:
		select { // the reader sends every message before the end
		case m := <-pr.msgs:
			pr.end <- err
			return m
		default:
		}
		t.Fatalf("read: connection ended: %v", err)
	case <-time.After(patience):
		t.Fatal("read: nothing after", patience)
	}
	return ""
}

// readErr waits for the connection to end and returns why.
func readErr(t *testing.T, pr *peer) error {
	t.Helper()
	for {
		select {
		case m := <-pr.msgs:
			t.Logf("read before the end: %s", m)
		case err := <-pr.end:
			return err
		case <-time.After(patience):
			t.Fatal("the connection did not end after", patience)
		}
	}
}

// nothing asserts that no message arrives for a short while.
func nothing(t *testing.T, pr *peer) {
	t.Helper()
	select {
	case m := <-pr.msgs:
		t.Fatalf("want nothing, got %q", m)
	case err := <-pr.end:
		t.Fatalf("want nothing, got the end: %v", err)
	case <-time.After(quiet):
	}
}

func write(t *testing.T, pr *peer, s string) {
	t.Helper()
	if err := pr.ws.WriteMessage(websocket.TextMessage, []byte(s)); err != nil {
		t.Fatalf("write: %v", err)
	}
}

// waitFor waits until the transcript has an entry whose line contains
// every one of parts.
func waitFor(t *testing.T, tr *proxy.Transcript, parts ...string) {
	t.Helper()
	err := tr.Wait(ctx(t), func(es []proxy.Entry) bool {
		for _, e := range es {
			if containsAll(e.String(), parts) {
				return true
			}
		}
		return false
	})
	if err != nil {
		t.Fatalf("waiting for %q: %v", parts, err)
	}
}

func containsAll(s string, parts []string) bool {
	for _, p := range parts {
		if !strings.Contains(s, p) {
			return false
		}
	}
	return true
}

func deadline() time.Time { return time.Now().Add(patience) }

// waitDeadline waits until the clock's next deadline is at virtual time
// at: a timer armed by another goroutine, which Advance must not outrun.
func waitDeadline(t *testing.T, clock *vclock.Clock, at time.Duration) {
	t.Helper()
	stop := time.Now().Add(patience)
	for {
		if next, ok := clock.Next(); ok && next.Sub(clock.Start()) == at {
			return
		}
		if time.Now().After(stop) {
			t.Fatalf("no timer due at +%v", at)
		}
		time.Sleep(time.Millisecond) // real time: waiting for another goroutine, not for the clock
	}
}

func newClock() *vclock.Clock { return vclock.New() }
