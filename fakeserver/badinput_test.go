package fakeserver_test

import (
	"fmt"
	"net"
	"strings"
	"testing"

	"github.com/gorilla/websocket"
	"github.com/onsi/gomega"
	"github.com/wschaos/wschaos/fakeserver"
	"github.com/wschaos/wschaos/internal/wstest"
	"github.com/wschaos/wschaos/profile"
	"github.com/wschaos/wschaos/vclock"
)

// Bad input from one client must cost that client its connection, with a
// clear close code or HTTP status, and nothing else: a healthy client
// connected before it keeps being served, new clients still connect, the
// transcript keeps every entry it had, and the bad connection is in it
// with what was wrong.

// healthy is a client that must not notice what other clients do.
type healthy struct {
	t     *testing.T
	s     *fakeserver.Server
	ws    *websocket.Conn
	pings int64
}

func newHealthy(t *testing.T, s *fakeserver.Server) *healthy {
	t.Helper()
	h := &healthy{t: t, s: s, ws: dial(t, s.URL)}
	h.check()
	return h
}

// check sends a ping and expects its pong: the connection still works.
func (h *healthy) check() {
	h.t.Helper()
	p := h.s.Profile
	h.pings++
	send(h.t, h.ws, p, ping(p, h.pings))
	if m := read(h.t, h.ws, p); m.Type != "pong" {
		h.t.Fatalf("healthy client got %v, want a pong", m)
	}
}

// arrived returns the transcript in arrival order, as lines.
func arrived(s *fakeserver.Server) []string {
	var out []string
	for _, e := range s.Transcript().Since(0) {
		out = append(out, e.String())
	}
	return out
}

// unharmed checks what bad input must leave alone: the healthy client,
// the transcript recorded before it (kept, as it was), and new clients.
func unharmed(t *testing.T, s *fakeserver.Server, h *healthy, before []string) {
	t.Helper()
	h.check()
	if err := wstest.KeptAsItWas(before, arrived(s)); err != nil {
		t.Fatal(err)
	}
	fresh := dial(t, s.URL)
	send(t, fresh, s.Profile, ping(s.Profile, 1))
	if m := read(t, fresh, s.Profile); m.Type != "pong" {
		t.Fatalf("a new client got %v, want a pong", m)
	}
	fresh.Close()
}

// rawDial opens a TCP connection to the server, closed at cleanup.
func rawDial(t *testing.T, s *fakeserver.Server) net.Conn {
	t.Helper()
	nc, err := net.DialTimeout("tcp", wstest.HostOf(s.URL), patience)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	return nc
}

func TestBadFramesCloseTheirConnectionWithTheRightCodeAndNothingElse(t *testing.T) {
	wstest.NoLeaks(t, patience)
	for _, tc := range []struct {
		name string
		send []byte
		code int
		line string // in the transcript
	}{
		{"invalid UTF-8 in a text frame", wstest.Frame(0x81, []byte("{\"type\":\"ping\",\"payload\":\"\xff\xfe\"}"), true),
			1007, "close 1007 by server: client text frame #1 is not valid UTF-8"},
		{"invalid UTF-8 across fragments", append(wstest.Frame(0x01, []byte(`{"type":"x","payload":"`+"\xc3"), true),
			wstest.Frame(0x80, []byte("(\"}"), true)...),
			1007, "close 1007 by server: client text frame #1 is not valid UTF-8"},
		{"a frame over the read limit", wstest.BigHeader(1<<20+1, true), 1009, "close 1009 by server: client frame over 1048576 bytes"},
		{"a frame claiming 2^63 bytes", wstest.BigHeader(1<<63, true), 1009, "close 1009 by server: client frame over 1048576 bytes"},
		{"an unmasked frame", wstest.Frame(0x81, []byte("a"), false), 1002, "close 1002 by server: websocket: bad MASK"},
		{"a reserved opcode", wstest.Frame(0x83, []byte("a"), true), 1002, "close 1002 by server: websocket: bad opcode 3"},
		{"reserved bits", wstest.Frame(0xf1, []byte("a"), true), 1002, "close 1002 by server: websocket: RSV"},
		{"a fragmented ping", wstest.Frame(0x09, []byte("a"), true), 1002, "close 1002 by server: websocket: FIN not set on control"},
		{"a continuation of nothing", wstest.Frame(0x80, []byte("a"), true), 1002, "close 1002 by server: websocket: continuation after FIN"},
		{"a close frame with a reserved code", wstest.Frame(0x88, []byte{0x03, 0xed}, true), 1002, "close 1002 by server: websocket: bad close code 1005"},
		{"a close reason that is not UTF-8", wstest.Frame(0x88, []byte{0x03, 0xe8, 0xff}, true), 1002, "close 1002 by server: websocket: invalid utf8 payload in close frame"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, _ := newServer(t, profile.QueueProfile())
			h := newHealthy(t, s)
			before := arrived(s)

			bad := dial(t, s.URL)
			if _, err := bad.NetConn().Write(tc.send); err != nil {
				t.Fatal(err)
			}
			if code := closeCode(readClose(t, bad)); code != tc.code {
				t.Errorf("close code %d, want %d", code, tc.code)
			}
			e := waitLine(t, s, "#2 "+tc.line)
			t.Logf("recorded: %s", e)
			unharmed(t, s, h, before)
			gomega.NewWithT(t).Eventually(s.OpenConns).WithTimeout(patience).Should(gomega.Equal(1))
		})
	}
}

func TestBadHandshakesAreAnsweredWithAnHTTPErrorAndRecorded(t *testing.T) {
	wstest.NoLeaks(t, patience)
	for _, tc := range []struct {
		name   string
		send   string
		status string
		line   string
	}{
		{"garbage instead of a request", "\x16\x03\x01\x02\x00garbage\r\n\r\n",
			"HTTP/1.1 400 Bad Request", "#- refuse 400: not an HTTP request the server can read (16 bytes)"},
		{"a request line without a version", "GET /ws\r\n\r\n",
			"HTTP/1.1 400 Bad Request", "#- refuse 400: not an HTTP request the server can read"},
		{"headers over a megabyte", "GET /ws HTTP/1.1\r\nHost: x\r\nX-Big: " + strings.Repeat("a", 1<<20+8192) + "\r\n\r\n",
			"HTTP/1.1 431 Request Header Fields Too Large", "#- refuse 431: not an HTTP request the server can read"},
		{"an upgrade of an unknown version", "GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
			"Sec-WebSocket-Version: 7\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n",
			"HTTP/1.1 400 Bad Request", "#2 refuse 400: not upgraded: websocket: unsupported version"},
		{"an upgrade without a key", "GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
			"Sec-WebSocket-Version: 13\r\n\r\n",
			"HTTP/1.1 400 Bad Request", "#2 refuse 400: not upgraded: websocket: not a websocket handshake"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, _ := newServer(t, profile.QueueProfile())
			h := newHealthy(t, s)
			before := arrived(s)

			nc := rawDial(t, s)
			go nc.Write([]byte(tc.send)) // the server may answer before it reads it all
			if got := wstest.StatusOf(nc, patience); got != tc.status {
				t.Errorf("answer %q, want %q", got, tc.status)
			}
			waitLine(t, s, tc.line)
			unharmed(t, s, h, before)
		})
	}
}

func TestSlowClientsAreDroppedAtTheHeaderTimeoutWithoutBlockingOthers(t *testing.T) {
	wstest.NoLeaks(t, patience)
	s := fakeserver.NewUnstartedServer(profile.QueueProfile())
	s.Clock = vclock.New()
	fakeserver.SetHeaderTimeout(s, wstest.SlowLorisWait)
	s.Start()
	t.Cleanup(s.Close)
	h := newHealthy(t, s)
	before := arrived(s)

	const each = 10
	kinds := []struct {
		name  string
		bytes string // trickled one byte at a time, then nothing
	}{
		{"headers byte by byte", "GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nX-Slow: " + strings.Repeat("z", 200)},
		{"nothing at all", ""},
		{"bytes without a line end", strings.Repeat("\x00\xff", 100)},
	}
	var payloads []string
	for _, k := range kinds {
		payloads = append(payloads, k.bytes)
	}
	slow := wstest.StartSlowClients(func() net.Conn { return rawDial(t, s) }, payloads, each, patience)
	// While they trickle, everyone else is served.
	h.check()
	unharmed(t, s, h, before)
	took, err := slow.Wait()
	if took < wstest.SlowLorisWait {
		t.Errorf("slow clients dropped after %v, before the %v header timeout", took, wstest.SlowLorisWait)
	}
	if err != nil {
		t.Error(err)
	}
	waitCount(t, s, "no HTTP request within 300ms", each*len(kinds))
	// Those that sent nothing are dropped in silence; net/http answers some
	// partial requests 400 at the timeout, and drops others.
	if n := len(lines(s, "#- note no HTTP request within 300ms (0 bytes of one): connection dropped")); n != each {
		t.Errorf("%d silent clients recorded, want %d:\n%s", n, each, s.Transcript())
	}
	unharmed(t, s, h, before)
}

func TestThousandsOfJunkConnectionsLeaveTheServerServing(t *testing.T) {
	wstest.NoLeaks(t, patience)
	s, _ := newServer(t, profile.QueueProfile())
	h := newHealthy(t, s)
	before := arrived(s)

	// A quarter hang up at once, a quarter in the middle of a request (which
	// net/http answers 400 too), the rest send garbage and read the 400.
	junk := func(i int) error {
		nc, err := net.DialTimeout("tcp", wstest.HostOf(s.URL), patience)
		if err != nil {
			return err
		}
		defer nc.Close()
		switch i % 4 {
		case 0:
			return nil
		case 1:
			_, err = nc.Write([]byte("GET /ws HTTP/1.1\r\nHost: "))
			return err
		}
		if _, err := nc.Write([]byte(fmt.Sprintf("JUNK %d\r\n\r\n", i))); err != nil {
			return err
		}
		if got := wstest.StatusOf(nc, patience); got != "HTTP/1.1 400 Bad Request" {
			return fmt.Errorf("junk %d answered %q", i, got)
		}
		return nil
	}
	if err := wstest.Flood(wstest.JunkConns, wstest.JunkAtOnce, 200, h.check, junk); err != nil { // h.check: served throughout
		t.Fatal(err)
	}

	waitCount(t, s, "#- refuse 400: not an HTTP request the server can read (24 bytes)", wstest.JunkConns/4)
	waitCount(t, s, "#- refuse 400: not an HTTP request", wstest.JunkConns*3/4)
	unharmed(t, s, h, before)
	if n := len(lines(s, "#- ")); n != wstest.JunkConns*3/4 {
		t.Errorf("%d junk connections recorded, want %d (those that hang up at once sent nothing)", n, wstest.JunkConns*3/4)
	}
	gomega.NewWithT(t).Eventually(s.OpenConns).WithTimeout(patience).Should(gomega.Equal(1))
}
