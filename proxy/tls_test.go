package proxy_test

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/wschaos/wschaos/chaos"
	"github.com/wschaos/wschaos/internal/wstest"
	"github.com/wschaos/wschaos/proxy"
	"github.com/wschaos/wschaos/transcript"
)

// bigBuffer holds the biggest message of these tests in one frame, on the
// client and in the TLS upstream: each message then crosses every wire as
// one frame, in the length form its size calls for.
const bigBuffer = 128 << 10

// tlsEcho is a gorilla echo server behind TLS (httptest's certificate,
// for 127.0.0.1): it echoes every message, and reports how each of its
// connections ended.
type tlsEcho struct {
	*httptest.Server
	ends chan tlsEnd
}

// tlsEnd is how a connection to a tlsEcho ended: the WebSocket read error
// that ended it, then what a read of the TCP socket under TLS found after
// that: io.EOF after a FIN, ECONNRESET after an RST.
type tlsEnd struct{ ws, tcp error }

func newTLSEcho(t *testing.T) *tlsEcho {
	t.Helper()
	e := &tlsEcho{ends: make(chan tlsEnd, 4)}
	up := websocket.Upgrader{ReadBufferSize: bigBuffer, WriteBufferSize: bigBuffer}
	e.Server = wstest.StartServer(t, func(w http.ResponseWriter, r *http.Request) {
		ws, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer ws.Close()
		for {
			op, data, err := ws.ReadMessage()
			if err != nil {
				tcp := ws.NetConn().(*tls.Conn).NetConn()
				tcp.SetReadDeadline(deadline())
				_, terr := tcp.Read(make([]byte, 1))
				e.ends <- tlsEnd{err, terr}
				return
			}
			if ws.WriteMessage(op, data) != nil {
				return
			}
		}
	}, true)
	return e
}

// ended waits for a connection to e to end, and returns how it did.
func (e *tlsEcho) ended(t *testing.T) tlsEnd {
	t.Helper()
	select {
	case end := <-e.ends:
		return end
	case <-time.After(patience):
		t.Fatal("the upstream's connection did not end after", patience)
	}
	return tlsEnd{}
}

func (e *tlsEcho) wssURL() string { return "wss" + strings.TrimPrefix(e.URL, "https") }

// trusting is a TLS config that trusts e's certificate.
func (e *tlsEcho) trusting() *tls.Config {
	pool := x509.NewCertPool()
	pool.AddCert(e.Certificate())
	return &tls.Config{RootCAs: pool}
}

// newTLSProxy starts a proxy to e on a fresh virtual clock, trusting e's
// certificate.
func newTLSProxy(t *testing.T, e *tlsEcho, faults ...chaos.Fault) *proxy.Proxy {
	t.Helper()
	p := proxy.NewUnstartedServer(e.wssURL())
	p.Clock, p.Faults, p.UpstreamTLS = newClock(), faults, e.trusting()
	p.Start()
	t.Cleanup(p.Close)
	return p
}

// dialBig connects a gorilla client that sends each message in one
// frame, closed at cleanup. Its reads are the test's own, not a reader
// goroutine's, so they see each message's type.
func dialBig(t *testing.T, url string) *websocket.Conn {
	t.Helper()
	d := &websocket.Dialer{ReadBufferSize: bigBuffer, WriteBufferSize: bigBuffer}
	ws := wstest.Dial(t, ctx(t), d, url, nil)
	t.Cleanup(func() { ws.Close() })
	ws.SetReadDeadline(deadline())
	return ws
}

// tlsMessage is one message of the TLS relay test.
type tlsMessage struct {
	op   int
	data []byte
}

// tlsMessages are text and binary messages of every length form: 7 bits
// (small), 16 bits (1 KiB) and 64 bits (70 KiB).
func tlsMessages() []tlsMessage {
	var ms []tlsMessage
	for _, n := range []int{5, 1 << 10, 70 << 10} {
		text := make([]byte, n)
		bin := make([]byte, n)
		for i := range n {
			text[i] = "abcdefghijklmnopqrstuvwxyz0123456789"[i%36]
			bin[i] = byte(i*31 + i/256) // every byte value, not in plain order
		}
		ms = append(ms, tlsMessage{websocket.TextMessage, text}, tlsMessage{websocket.BinaryMessage, bin})
	}
	return ms
}

func TestRelaysToATLSUpstream(t *testing.T) {
	wstest.NoLeaks(t, patience)
	up := newTLSEcho(t)
	p := newTLSProxy(t, up)
	ws := dialBig(t, p.URL)

	ms := tlsMessages()
	for i, m := range ms {
		if err := ws.WriteMessage(m.op, m.data); err != nil {
			t.Fatalf("message %d: write: %v", i, err)
		}
		op, got, err := ws.ReadMessage()
		if err != nil {
			t.Fatalf("message %d (%d bytes): read: %v", i, len(m.data), err)
		}
		if op != m.op || !bytes.Equal(got, m.data) {
			t.Fatalf("message %d: echo is op %d, %d bytes; want op %d, the %d bytes sent", i, op, len(got), m.op, len(m.data))
		}
	}

	// Every message is recorded whole, each way, on both sides.
	kinds := []transcript.Kind{transcript.KindRecv, proxy.KindUpSend, proxy.KindUpRecv, transcript.KindSend}
	err := p.Transcript().Wait(ctx(t), func(es []proxy.Entry) bool {
		for _, m := range ms {
			for _, k := range kinds {
				if !hasFrame(es, k, m) {
					return false
				}
			}
		}
		return true
	})
	if err != nil {
		for _, m := range ms {
			for _, k := range kinds {
				if !hasFrame(p.Transcript().Entries(), k, m) {
					t.Errorf("no %s entry of op %d, %d bytes", k, m.op, len(m.data))
				}
			}
		}
		t.Fatal(err)
	}
	if s := p.Transcript().String(); strings.Contains(s, "failed") {
		t.Errorf("transcript:\n%s", s)
	}

	if err := ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(1000, "done"), deadline()); err != nil {
		t.Fatal(err)
	}
	var ce *websocket.CloseError
	if _, _, err := ws.ReadMessage(); !errors.As(err, &ce) || ce.Code != 1000 {
		t.Fatalf("client got %v, want the upstream's close 1000", err)
	}
	if end := up.ended(t); !errors.As(end.ws, &ce) || ce.Code != 1000 || ce.Text != "done" {
		t.Errorf("upstream got %v, want close 1000 \"done\"", end.ws)
	}
	waitFor(t, p.Transcript(), `close 1000 "done" by client`)
	p.Close()
	if st := p.Status(); st.Open != 0 {
		t.Errorf("after Close: %d connections open", st.Open)
	}
}

// hasFrame reports whether es has an entry of kind for m, payload whole.
func hasFrame(es []proxy.Entry, kind transcript.Kind, m tlsMessage) bool {
	for _, e := range es {
		if e.Kind == kind && e.Op == m.op && e.Data == string(m.data) {
			return true
		}
	}
	return false
}

func TestUntrustedTLSUpstreamIs502(t *testing.T) {
	wstest.NoLeaks(t, patience)
	up := newTLSEcho(t)
	p, _ := newProxy(t, up.wssURL()) // UpstreamTLS nil: the system's roots, which do not hold httptest's
	_, resp, err := websocket.DefaultDialer.DialContext(ctx(t), p.URL, nil)
	if err == nil {
		t.Fatal("dial succeeded through an untrusted upstream")
	}
	if resp == nil {
		t.Fatalf("dial: %v, want HTTP 502", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadGateway {
		t.Errorf("got HTTP %d, want 502", resp.StatusCode)
	}
	waitFor(t, p.Transcript(), "#1 up-dial: / failed: TLS: upstream certificate not trusted")
	waitFor(t, p.Transcript(), "#1 refuse 502")
	select {
	case end := <-up.ends:
		t.Errorf("the upstream upgraded a connection (ended: %v)", end.ws)
	default:
	}
}

// A wss:// upstream that answers in the clear is named for what it is.
func TestPlainUpstreamBehindWSSIs502(t *testing.T) {
	up := httptest.NewServer(http.NotFoundHandler())
	defer up.Close()
	p, _ := newProxy(t, "wss://"+strings.TrimPrefix(up.URL, "http://"))
	_, resp, err := websocket.DefaultDialer.DialContext(ctx(t), p.URL, nil)
	if err == nil || resp == nil || resp.StatusCode != http.StatusBadGateway {
		t.Fatalf("dial: %v %v, want HTTP 502", resp, err)
	}
	resp.Body.Close()
	waitFor(t, p.Transcript(), "#1 up-dial: / failed: TLS: upstream does not speak TLS")
}

// The cuts reach the TLS upstream's socket as they reach a plain one: the
// FIN cut ends it with a FIN, the RST cut (which sets the linger of the
// TCP socket under TLS) with an RST.
func TestCutsReachATLSUpstreamsSocket(t *testing.T) {
	for _, tc := range []struct {
		kind  chaos.CutKind
		name  string
		reset bool
	}{{chaos.FIN, "FIN", false}, {chaos.RST, "RST", true}} {
		t.Run(tc.name, func(t *testing.T) {
			wstest.NoLeaks(t, patience)
			up := newTLSEcho(t)
			p := newTLSProxy(t, up)
			ws := dial(t, p.URL, nil)
			write(t, ws, "x")
			readMsg(t, ws)
			p.CutAll(chaos.Cut{Kind: tc.kind})
			var ce *websocket.CloseError
			switch err := readErr(t, ws); {
			case tc.reset && !errors.Is(err, syscall.ECONNRESET):
				t.Errorf("client got %v, want a reset", err)
			case !tc.reset && (!errors.As(err, &ce) || ce.Code != websocket.CloseAbnormalClosure):
				t.Errorf("client got %v, want an abnormal closure (1006)", err)
			}
			end := up.ended(t)
			if reset := errors.Is(end.ws, syscall.ECONNRESET) || errors.Is(end.tcp, syscall.ECONNRESET); reset != tc.reset {
				t.Errorf("upstream got %v, then %v from its TCP socket; want a reset: %v", end.ws, end.tcp, tc.reset)
			}
			waitFor(t, p.Transcript(), "close 1006 by server (cut all): "+tc.name)
		})
	}
}
