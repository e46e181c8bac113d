package proxy_test

import (
	"bufio"
	"crypto/sha1"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/onsi/gomega"
	"github.com/wschaos/wschaos/internal/wstest"
	"github.com/wschaos/wschaos/proxy"
	"github.com/wschaos/wschaos/vclock"
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

// arrived returns the transcript in arrival order, as lines.
func arrived(p *proxy.Proxy) []string {
	var out []string
	for _, e := range p.Transcript().Since(0) {
		out = append(out, e.String())
	}
	return out
}

// unharmed checks what bad input must leave alone: the healthy
// connection, the transcript recorded before it (kept, as it was), and
// new clients.
func unharmed(t *testing.T, p *proxy.Proxy, healthy *peer, before []string) {
	t.Helper()
	relays(t, healthy)
	if err := wstest.KeptAsItWas(before, arrived(p)); err != nil {
		t.Fatal(err)
	}
	fresh := dial(t, p.URL, nil)
	relays(t, fresh)
	fresh.ws.Close()
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
	for _, tc := range []struct {
		name string
		send []byte
		code int
		line string
	}{
		{"invalid UTF-8 in a text frame", wstest.Frame(0x81, []byte("caf\xe9"), true),
			1007, "close 1007 by server: client text frame #1 is not valid UTF-8"},
		{"invalid UTF-8 across fragments", append(wstest.Frame(0x01, []byte("caf\xc3"), true), wstest.Frame(0x80, []byte("("), true)...),
			1007, "close 1007 by server: client text frame #1 is not valid UTF-8"},
		{"a frame over the read limit", wstest.BigHeader(16<<20+1, true), 1009, "close 1009 by server: client frame over 16777216 bytes"},
		{"a frame claiming 2^63 bytes", wstest.BigHeader(1<<63, true), 1009, "close 1009 by server: client frame over 16777216 bytes"},
		{"an unmasked frame", wstest.Frame(0x81, []byte("a"), false), 1002, "close 1002 by client: websocket: bad MASK"},
		{"a reserved opcode", wstest.Frame(0x83, []byte("a"), true), 1002, "close 1002 by client: websocket: bad opcode 3"},
		{"a fragmented ping", wstest.Frame(0x09, []byte("a"), true), 1002, "close 1002 by client: websocket: FIN not set on control"},
		{"a close frame with a reserved code", wstest.Frame(0x88, []byte{0x03, 0xed}, true), 1002, "close 1002 by client: websocket: bad close code 1005"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			up := newEcho(t)
			p, _ := newProxy(t, up.wsURL())
			healthy := dial(t, p.URL, nil)
			relays(t, healthy)
			before := arrived(p)

			bad := dial(t, p.URL, nil)
			if _, err := bad.ws.NetConn().Write(tc.send); err != nil {
				t.Fatal(err)
			}
			if code := closeCodeOf(readErr(t, bad)); code != tc.code {
				t.Errorf("client got close %d, want %d", code, tc.code)
			}
			select {
			case ce := <-up.closes:
				if ce.Code != tc.code {
					t.Errorf("upstream got close %d, want %d", ce.Code, tc.code)
				}
			case <-time.After(patience):
				t.Error("the upstream got no close frame")
			}
			waitLine(t, p, "#2 "+tc.line)
			unharmed(t, p, healthy, before)
			gomega.NewWithT(t).Eventually(func() int { return p.Status().Open }).WithTimeout(patience).Should(gomega.Equal(1))
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
			healthy := dial(t, p.URL, nil)
			relays(t, healthy)
			before := arrived(p)

			bad := dial(t, p.URL+"/bad", nil)
			if code := closeCodeOf(readErr(t, bad)); code != tc.code {
				t.Errorf("client got close %d, want %d", code, tc.code)
			}
			if code := <-up.closes; code != tc.code {
				t.Errorf("upstream got close %d, want %d", code, tc.code)
			}
			waitLine(t, p, "#2 "+tc.line)
			unharmed(t, p, healthy, before)
		})
	}
}

func TestBadHandshakesAreRefusedBeforeTheUpstreamIsDialled(t *testing.T) {
	wstest.NoLeaks(t, patience)
	upgrade := "GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
	for _, tc := range []struct {
		name   string
		send   string
		status string
		line   string
	}{
		{"garbage instead of a request", "\x16\x03\x01\x02\x00garbage\r\n\r\n",
			"HTTP/1.1 400 Bad Request", "#- refuse 400: not an HTTP request the server can read (16 bytes)"},
		{"headers over a megabyte", "GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + strings.Repeat("a", 1<<20+8192) + "\r\n\r\n",
			"HTTP/1.1 431 Request Header Fields Too Large", "#- refuse 431: not an HTTP request the server can read"},
		{"a plain GET", "GET / HTTP/1.1\r\nHost: x\r\n\r\n",
			"HTTP/1.1 400 Bad Request", "#2 refuse 400: not a WebSocket upgrade"},
		{"an upgrade by POST", strings.Replace(upgrade, "GET", "POST", 1) + "Content-Length: 0\r\n\r\n",
			"HTTP/1.1 400 Bad Request", "#2 refuse 400: not a WebSocket upgrade: method POST"},
		{"an upgrade of an unknown version", upgrade + "Sec-WebSocket-Version: 7\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n",
			"HTTP/1.1 400 Bad Request", `#2 refuse 400: bad WebSocket upgrade: Sec-WebSocket-Version "7", want 13`},
		{"an upgrade without a key", upgrade + "Sec-WebSocket-Version: 13\r\n\r\n",
			"HTTP/1.1 400 Bad Request", "#2 refuse 400: bad WebSocket upgrade: Sec-WebSocket-Key is not 16 bytes in base64"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			up := newEcho(t)
			p, _ := newProxy(t, up.wsURL())
			healthy := dial(t, p.URL, nil)
			relays(t, healthy)
			before := arrived(p)

			nc := rawDial(t, p)
			go nc.Write([]byte(tc.send)) // the proxy may answer before it reads it all
			if got := wstest.StatusOf(nc, patience); got != tc.status {
				t.Errorf("answer %q, want %q", got, tc.status)
			}
			waitLine(t, p, tc.line)
			if n := len(up.requests()); n != 1 {
				t.Errorf("the upstream saw %d requests, want only the healthy one", n)
			}
			unharmed(t, p, healthy, before)
		})
	}
}

// rawDial opens a TCP connection to the proxy, closed at cleanup.
func rawDial(t *testing.T, p *proxy.Proxy) net.Conn {
	t.Helper()
	nc, err := net.DialTimeout("tcp", wstest.HostOf(p.URL), patience)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	return nc
}

func TestSlowClientsAreDroppedAtTheHeaderTimeoutWithoutBlockingOthers(t *testing.T) {
	wstest.NoLeaks(t, patience)
	up := newEcho(t)
	p := proxy.NewUnstarted(up.wsURL())
	p.Clock = vclock.New()
	proxy.SetHeaderTimeout(p, wstest.SlowLorisWait)
	p.Start()
	t.Cleanup(p.Close)
	healthy := dial(t, p.URL, nil)
	relays(t, healthy)
	before := arrived(p)

	const each = 10
	trickles := []string{
		"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nX-Slow: " + strings.Repeat("z", 200), // headers byte by byte
		"",                              // nothing at all
		strings.Repeat("\x00\xff", 100), // bytes without a line end
	}
	slow := wstest.StartSlowClients(func() net.Conn { return rawDial(t, p) }, trickles, each, patience)
	unharmed(t, p, healthy, before) // while they trickle
	took, err := slow.Wait()
	if took < wstest.SlowLorisWait {
		t.Errorf("slow clients dropped after %v, before the %v header timeout", took, wstest.SlowLorisWait)
	}
	if err != nil {
		t.Error(err)
	}
	err = p.Transcript().Wait(ctx(t), func(es []proxy.Entry) bool {
		n := 0
		for _, e := range es {
			if strings.Contains(e.String(), "#- ") && strings.Contains(e.Note, "no HTTP request within 300ms") {
				n++
			}
		}
		return n == each*len(trickles)
	})
	if err != nil {
		t.Fatalf("not every slow client recorded: %v", err)
	}
	if n := len(up.requests()); n != 2 {
		t.Errorf("the upstream saw %d requests, want only the healthy client's and the new one's", n)
	}
	unharmed(t, p, healthy, before)
}

func TestThousandsOfJunkConnectionsLeaveTheProxyServing(t *testing.T) {
	wstest.NoLeaks(t, patience)
	up := newEcho(t)
	p, _ := newProxy(t, up.wsURL())
	healthy := dial(t, p.URL, nil)
	relays(t, healthy)
	before := arrived(p)

	// A quarter hang up at once, a quarter send garbage, half send an
	// upgrade with a bad key; all but the first read their 400.
	junk := func(i int) error {
		nc, err := net.DialTimeout("tcp", wstest.HostOf(p.URL), patience)
		if err != nil {
			return err
		}
		defer nc.Close()
		var req string
		switch i % 4 {
		case 0:
			return nil
		case 1:
			req = fmt.Sprintf("JUNK %d\r\n\r\n", i)
		default:
			req = "GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
				"Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: junk\r\n\r\n"
		}
		if _, err := nc.Write([]byte(req)); err != nil {
			return err
		}
		if got := wstest.StatusOf(nc, patience); got != "HTTP/1.1 400 Bad Request" {
			return fmt.Errorf("junk %d answered %q", i, got)
		}
		return nil
	}
	served := func() { relays(t, healthy) } // throughout the flood
	if err := wstest.Flood(wstest.JunkConns, wstest.JunkAtOnce, 200, served, junk); err != nil {
		t.Fatal(err)
	}

	var garbage, badKey int
	err := p.Transcript().Wait(ctx(t), func(es []proxy.Entry) bool {
		garbage, badKey = 0, 0
		for _, e := range es {
			switch l := e.String(); {
			case strings.Contains(l, "#- refuse 400: not an HTTP request"):
				garbage++
			case strings.Contains(l, "refuse 400: bad WebSocket upgrade: Sec-WebSocket-Key"):
				badKey++
			}
		}
		return garbage+badKey >= wstest.JunkConns*3/4
	})
	if err != nil || garbage != wstest.JunkConns/4 || badKey != wstest.JunkConns/2 {
		t.Fatalf("recorded %d garbage and %d bad keys, want %d and %d: %v", garbage, badKey, wstest.JunkConns/4, wstest.JunkConns/2, err)
	}
	if n := len(up.requests()); n != 1 {
		t.Errorf("the upstream saw %d requests, want only the healthy one", n)
	}
	unharmed(t, p, healthy, before)
	gomega.NewWithT(t).Eventually(func() int { return p.Status().Open }).WithTimeout(patience).Should(gomega.Equal(1))
	if n := p.Status().Attempts; n != 1+wstest.JunkConns/2+1 {
		t.Errorf("%d attempts; want %d: the healthy client, the bad keys, the new client", n, 1+wstest.JunkConns/2+1)
	}
}
