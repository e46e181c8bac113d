package client_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/wschaos/wschaos/client"
	"github.com/wschaos/wschaos/internal/flaw"
	"github.com/wschaos/wschaos/profile"
	"github.com/wschaos/wschaos/vclock"
)

// owner is the client's name on the shared virtual clock.
const owner = "client"

// peer is a WebSocket server a test scripts one connection at a time: it
// hands each dial to the test (conns), which reads what the client sent,
// writes what the server says and closes as it likes. It keeps no clock:
// the test steps the client's virtual clock between effects it has seen.
type peer struct {
	t *testing.T
	*httptest.Server
	// dials receives the URL of every attempt, accepted or not.
	dials chan *url.URL
	conns chan *peerConn

	mu sync.Mutex
	// refuse answers the next n attempts with HTTP 503.
	refuse int
	// stall holds attempts before the upgrade until the test ends or the
	// client gives up on them.
	stall bool
	// subprotocols the upgrader may select.
	subprotocols []string
	quit         chan struct{}
}

func newPeer(t *testing.T) *peer {
	t.Helper()
	p := &peer{t: t, dials: make(chan *url.URL, 64), conns: make(chan *peerConn, 16), quit: make(chan struct{})}
	p.Server = httptest.NewServer(http.HandlerFunc(p.serve))
	t.Cleanup(func() {
		close(p.quit)
		p.CloseClientConnections()
		p.Close()
	})
	return p
}

func (p *peer) url() string { return "ws" + strings.TrimPrefix(p.URL, "http") + "/ws" }

func (p *peer) set(f func(*peer)) {
	p.mu.Lock()
	defer p.mu.Unlock()
	f(p)
}

func (p *peer) serve(w http.ResponseWriter, r *http.Request) {
	p.dials <- r.URL
	p.mu.Lock()
	refuse, stall, up := p.refuse > 0, p.stall, websocket.Upgrader{Subprotocols: p.subprotocols}
	if refuse {
		p.refuse--
	}
	p.mu.Unlock()
	switch {
	case refuse:
		http.Error(w, "down", http.StatusServiceUnavailable)
		return
	case stall:
		select {
		case <-r.Context().Done():
		case <-p.quit:
		}
		return
	}
	ws, err := up.Upgrade(w, r, nil)
	if err != nil {
		return
	}
	pc := &peerConn{t: p.t, ws: ws, r: r, in: make(chan frame, 1024), end: make(chan profile.StatusCode, 1)}
	answer := ws.PingHandler()
	ws.SetPingHandler(func(data string) error {
		var err error
		if !pc.silent.Load() {
			err = answer(data) // before the test hears of the ping: its pong goes first
		}
		pc.in <- frame{op: websocket.PingMessage}
		return err
	})
	go pc.read()
	p.conns <- pc
}

// frame is one thing the client sent.
type frame struct {
	op   int
	data string
}

// peerConn is one accepted connection.
type peerConn struct {
	t  *testing.T
	ws *websocket.Conn
	r  *http.Request
	in chan frame
	// end gets how the client ended the socket: the code of its close
	// frame (1005 for a frame without one), or 1006 for none.
	end chan profile.StatusCode
	// silent: ping control frames get no pong.
	silent atomic.Bool
}

func (pc *peerConn) read() {
	for {
		op, data, err := pc.ws.ReadMessage()
		if err != nil {
			var ce *websocket.CloseError
			if errors.As(err, &ce) {
				pc.end <- profile.StatusCode(ce.Code)
			} else {
				pc.end <- profile.StatusAbnormalClosure
			}
			pc.ws.Close()
			return
		}
		pc.in <- frame{op: op, data: string(data)}
	}
}

// next returns the next data frame the client sent (ping frames skipped).
func (pc *peerConn) next() string {
	pc.t.Helper()
	for {
		f := waitFor(pc.t, pc.in, "a frame from the client")
		if f.op != websocket.PingMessage {
			return f.data
		}
	}
}

// nextPing waits for a ping control frame.
func (pc *peerConn) nextPing() {
	pc.t.Helper()
	for {
		if f := waitFor(pc.t, pc.in, "a ping frame from the client"); f.op == websocket.PingMessage {
			return
		}
	}
}

func (pc *peerConn) send(s string) {
	pc.t.Helper()
	if err := pc.ws.WriteMessage(websocket.TextMessage, []byte(s)); err != nil {
		pc.t.Fatalf("server write %s: %v", s, err)
	}
}

// closeWith sends a close frame with code and drops the connection.
func (pc *peerConn) closeWith(code profile.StatusCode) {
	pc.ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(int(code), "bye"), time.Now().Add(time.Second))
	pc.ws.Close()
}

// ended waits for the client's end of the socket.
func (pc *peerConn) ended() profile.StatusCode {
	pc.t.Helper()
	return waitFor(pc.t, pc.end, "the client to end the socket")
}

// rig is one client on a virtual clock, with its state changes on a
// channel.
type rig struct {
	t      *testing.T
	clock  *vclock.Clock
	c      *client.Client
	states chan client.StateChange
	msgs   chan profile.Message
}

type rigOption func(*client.Options)

func withFlaws(f flaw.Set) rigOption { return func(o *client.Options) { o.Flaws = f } }

func withConnectTimeout(d time.Duration) rigOption {
	return func(o *client.Options) { o.ConnectTimeout = d }
}

// newRig makes a client for url on a fresh virtual clock, with a seeded
// jitter source; Start is left to the test.
func newRig(t *testing.T, url string, p *profile.Profile, opts ...rigOption) *rig {
	t.Helper()
	r := &rig{t: t, clock: vclock.New(), states: make(chan client.StateChange, 256), msgs: make(chan profile.Message, 256)}
	o := client.Options{Profile: p, Clock: r.clock.For(owner), Rand: rand.New(rand.NewPCG(1, 2))}
	for _, f := range opts {
		f(&o)
	}
	r.c = client.New(url, &o)
	r.c.OnState(func(ch client.StateChange) { r.states <- ch })
	r.c.Subscribe("", func(m profile.Message) { r.msgs <- m })
	t.Cleanup(func() { r.c.Close() })
	return r
}

func (r *rig) start() {
	r.t.Helper()
	if err := r.c.Start(); err != nil {
		r.t.Fatal(err)
	}
}

// await waits for the next change to state to; changes to other states on
// the way are skipped, unless they are to a state in never.
func (r *rig) await(to client.State, never ...client.State) client.StateChange {
	r.t.Helper()
	for {
		ch := waitFor(r.t, r.states, "state "+to.String())
		if slices.Contains(never, ch.To) {
			r.t.Fatalf("at %v the client became %v (%v) before %v", r.now(), ch.To, ch.Err, to)
		}
		if ch.To == to {
			return ch
		}
	}
}

// awaitMsg waits for the client to deliver an event of type typ: it has
// acted on it, and on everything the server sent before it.
func (r *rig) awaitMsg(typ string) profile.Message {
	r.t.Helper()
	for {
		m := waitFor(r.t, r.msgs, "an event "+typ)
		if m.Kind == profile.Event && m.Type == typ {
			return m
		}
	}
}

// awaitReply waits for the client to deliver a reply to request seq.
func (r *rig) awaitReply(seq int64) profile.Message {
	r.t.Helper()
	for {
		m := waitFor(r.t, r.msgs, fmt.Sprintf("a reply to %d", seq))
		if m.Kind == profile.Reply && m.SeqReply == seq {
			return m
		}
	}
}

// now is the virtual time since the clock began.
func (r *rig) now() time.Duration { return r.clock.Elapsed() }

// step moves the clock to the client's next timer and returns the time
// it fired at.
func (r *rig) step() time.Duration {
	r.t.Helper()
	if _, ok := r.clock.AdvanceToNext(); !ok {
		r.t.Fatalf("no timer pending at %v: the client is stuck", r.now())
	}
	return r.now()
}

// next is when the client's next timer fires, as virtual time since the
// start; false when none is pending.
func (r *rig) next() (time.Duration, bool) {
	at, ok := r.clock.NextFor(owner)
	return at.Sub(r.clock.Start()), ok
}

// wantNext fails unless the client's next timer fires at want.
func (r *rig) wantNext(want time.Duration, what string) {
	r.t.Helper()
	at, ok := r.next()
	switch {
	case !ok:
		r.t.Fatalf("at %v no timer is pending; want %s at %v", r.now(), what, want)
	case at != want:
		r.t.Fatalf("at %v the next timer fires at %v; want %s at %v", r.now(), at, what, want)
	}
}

// wantNoTimer fails if the client has a timer pending.
func (r *rig) wantNoTimer(why string) {
	r.t.Helper()
	if at, ok := r.next(); ok {
		r.t.Fatalf("at %v a timer is pending for %v; want none: %s", r.now(), at, why)
	}
}

// send is Send with a background context, failing the test on an error.
func (r *rig) send(typ string, v any) {
	r.t.Helper()
	if err := r.c.Send(context.Background(), typ, v); err != nil {
		r.t.Fatalf("Send %s: %v", typ, err)
	}
}

func s(n float64) time.Duration { return time.Duration(n * float64(time.Second)) }
