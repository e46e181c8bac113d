package proxy_test

import (
	"bufio"
	"crypto/sha1"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/wschaos/wschaos/internal/link/linktest"
	"github.com/wschaos/wschaos/internal/wstest"
	"github.com/wschaos/wschaos/proxy"
)

// Bad input from either side of one connection must cost that connection,
// with a clear close code to both sides or a clear HTTP status, and
// nothing else: a healthy connection opened before it keeps relaying, new
// clients still connect, the transcript keeps every entry it had, and the
// bad connection is in it with what was wrong.

// badUpstream is an upstream that, on path /bad, completes the handshake
// by hand and writes bytes gorilla never would; on /hang it never answers;
// on any other path it echoes like newEcho. closes gets the close code of each close frame a
// /bad connection receives (0: the socket ended without one).
type badUpstream struct {
	*httptest.Server
	send   []byte
	closes chan int
}

func newBadUpstream(t *testing.T, send []byte) *badUpstream {
	t.Helper()
	u := &badUpstream{send: send, closes: make(chan int, 4)}
	var wg sync.WaitGroup
	u.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		wg.Add(1) // while httptest still counts the request, so before Close returns
		defer wg.Done()
		switch r.URL.Path {
		case "/bad":
			u.serveBad(w, r)
			return
		case "/hang":
			<-r.Context().Done() // a handshake never answered
			return
		}
		wstest.Echo(w, r)
	}))
	t.Cleanup(func() {
		u.Server.CloseClientConnections()
		u.Server.Close()
		wg.Wait()
	})
	return u
}

func (u *badUpstream) serveBad(w http.ResponseWriter, r *http.Request) {
	nc, brw, err := http.NewResponseController(w).Hijack()
	if err != nil {
		return
	}
	defer nc.Close()
	sum := sha1.Sum([]byte(r.Header.Get("Sec-Websocket-Key") + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"))
	fmt.Fprintf(nc, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"+
		"Sec-WebSocket-Accept: %s\r\n\r\n", base64.StdEncoding.EncodeToString(sum[:]))
	nc.Write(u.send)
	nc.SetReadDeadline(time.Now().Add(patience))
	u.closes <- closeFrameCode(brw.Reader)
}

// closeFrameCode reads frames until a close frame and returns its code
// (1005 if it has none), or 0 if the stream ends first.
func closeFrameCode(r *bufio.Reader) int {
	for {
		var h [2]byte
		if _, err := io.ReadFull(r, h[:]); err != nil {
			return 0
		}
		n := uint64(h[1] & 0x7f)
		switch n {
		case 126:
			var b [2]byte
			io.ReadFull(r, b[:])
			n = uint64(binary.BigEndian.Uint16(b[:]))
		case 127:
			var b [8]byte
			io.ReadFull(r, b[:])
			n = binary.BigEndian.Uint64(b[:])
		}
		var key [4]byte
		if h[1]&0x80 != 0 {
			io.ReadFull(r, key[:])
		}
		payload := make([]byte, min(n, 1<<20))
		if _, err := io.ReadFull(r, payload); err != nil {
			return 0
		}
		for i := range payload {
			payload[i] ^= key[i%4]
		}
		if h[0]&0x0f == websocket.CloseMessage {
			if len(payload) < 2 {
				return websocket.CloseNoStatusReceived
			}
			return int(binary.BigEndian.Uint16(payload))
		}
	}
}

func (u *badUpstream) wsURL() string { return "ws" + strings.TrimPrefix(u.URL, "http") }

// relays checks that pr's connection still echoes.
func relays(t *testing.T, pr *peer) {
	t.Helper()
	write(t, pr, "still there?")
	if got := readMsg(t, pr); got != "still there?" {
		t.Fatalf("healthy connection echoed %q", got)
	}
}

// waitLine waits for a transcript line containing want.
func waitLine(t *testing.T, p *proxy.Proxy, want string) {
	t.Helper()
	waitFor(t, p.Transcript(), want)
}

// closeCodeOf is the code of a close error, 0 for any other error.
func closeCodeOf(err error) int {
	var ce *websocket.CloseError
	if errors.As(err, &ce) {
		return ce.Code
	}
	return 0
}

func TestBadClientFramesCloseBothSidesWithTheRightCode(t *testing.T) {
	wstest.NoLeaks(t, patience)
	// The proxy records the client's socket as the one that failed.
	for _, tc := range linktest.CommonBadFrames(16<<20, "client") {
		t.Run(tc.Name, func(t *testing.T) {
			up := newEcho(t)
			p, _ := newProxy(t, up.wsURL())
			linktest.BadFrame(t, subject(p), tc.Send, tc.Code, tc.Line, func() {
				select {
				case ce := <-up.closes:
					if ce.Code != tc.Code {
						t.Errorf("upstream got close %d, want %d", ce.Code, tc.Code)
					}
				case <-time.After(patience):
					t.Error("the upstream got no close frame")
				}
			})
		})
	}
}

func TestBadUpstreamFramesCloseBothSidesWithTheRightCode(t *testing.T) {
	wstest.NoLeaks(t, patience)
	for _, tc := range []struct {
		name string
		send []byte
		code int
		line string
	}{
		{"invalid UTF-8 in a text frame", wstest.Frame(0x81, []byte("caf\xe9"), false),
			1007, `close 1007 by server: server text frame #1 is not valid UTF-8`},
		{"a frame over the read limit", wstest.BigHeader(16<<20+1, false), 1009, "close 1009 by server: server frame over 16777216 bytes"},
		{"a frame claiming 2^63 bytes", wstest.BigHeader(1<<63, false), 1009, "close 1009 by server: server frame over 16777216 bytes"},
		{"a masked frame", wstest.Frame(0x81, []byte("a"), true), 1002, "close 1002 by server: websocket: bad MASK"},
		{"reserved bits", wstest.Frame(0xe1, []byte("a"), false), 1002, "close 1002 by server: websocket: RSV1 set, RSV2 set"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			up := newBadUpstream(t, tc.send)
			p, _ := newProxy(t, up.wsURL())
			sub := subject(p)
			healthy := sub.Healthy(t)
			before := sub.Arrived()

			bad := dial(t, p.URL+"/bad", nil)
			if code := closeCodeOf(readErr(t, bad)); code != tc.code {
				t.Errorf("client got close %d, want %d", code, tc.code)
			}
			if code := <-up.closes; code != tc.code {
				t.Errorf("upstream got close %d, want %d", code, tc.code)
			}
			waitLine(t, p, "#2 "+tc.line)
			sub.Unharmed(t, healthy, before)
		})
	}
}

func TestBadHandshakesAreRefusedBeforeTheUpstreamIsDialled(t *testing.T) {
	wstest.NoLeaks(t, patience)
	upgrade := "GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
	for _, tc := range append(linktest.CommonBadHandshakes(), []linktest.HandshakeCase{
		linktest.Case("a plain GET", "GET / HTTP/1.1\r\nHost: x\r\n\r\n",
			"HTTP/1.1 400 Bad Request", "#2 refuse 400: not a WebSocket upgrade"),
		linktest.Case("an upgrade by POST", strings.Replace(upgrade, "GET", "POST", 1)+"Content-Length: 0\r\n\r\n",
			"HTTP/1.1 400 Bad Request", "#2 refuse 400: not a WebSocket upgrade: method POST"),
		linktest.Case("an upgrade of an unknown version", upgrade+"Sec-WebSocket-Version: 7\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n",
			"HTTP/1.1 400 Bad Request", `#2 refuse 400: bad WebSocket upgrade: Sec-WebSocket-Version "7", want 13`),
		linktest.Case("an upgrade without a key", upgrade+"Sec-WebSocket-Version: 13\r\n\r\n",
			"HTTP/1.1 400 Bad Request", "#2 refuse 400: bad WebSocket upgrade: Sec-WebSocket-Key is not 16 bytes in base64"),
	}...) {
		t.Run(tc.Name, func(t *testing.T) {
			up := newEcho(t)
			p, _ := newProxy(t, up.wsURL())
			linktest.BadHandshake(t, subject(p), tc.Send, tc.Status, tc.Line, func() {
				if n := len(up.requests()); n != 1 {
					t.Errorf("the upstream saw %d requests, want only the healthy one", n)
				}
			})
		})
	}
}
