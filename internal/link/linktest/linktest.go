// Package linktest is the bad-input and shutdown suite both servers run:
// what the engine under them promises, checked the same way on the fake
// server and on the proxy. Each server's tests give a Start; the suite
// does the rest.
package linktest

import (
	"context"
	"fmt"
	"net"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/onsi/gomega"
	"github.com/onsi/gomega/gleak"
	"github.com/wschaos/wschaos/chaos"
	"github.com/wschaos/wschaos/internal/wstest"
	"github.com/wschaos/wschaos/profile"
	"github.com/wschaos/wschaos/transcript"
	"github.com/wschaos/wschaos/vclock"
)

// patience bounds every wait of the suite.
const patience = 5 * time.Second

// Server is a started server under the suite.
type Server struct {
	URL        string
	Transcript *transcript.Transcript
	// Dial opens a client connection (closed at cleanup).
	Dial func(t *testing.T) *websocket.Conn
	// Poke sends a message on ws that the server answers with one frame.
	Poke func(t *testing.T, ws *websocket.Conn)
	// Answered reads that answer, failing t if it is not one.
	Answered func(t *testing.T, ws *websocket.Conn)
	// Open is how many client connections are open.
	Open  func() int
	Close func()
	// Goroutines names the server's goroutines in a backtrace:
	// "wschaos/fakeserver.".
	Goroutines string
	// Clock is the server's virtual clock (Starter sets it).
	Clock *vclock.Clock
}

// Start starts a server on a virtual clock with faults, whose clients have
// headerWait for their request headers, closed at t's cleanup.
type Start func(t *testing.T, headerWait time.Duration, faults ...chaos.Fault) *Server

// Healthy opens a connection bad input must not harm, and returns a
// check that it is still served.
func (s *Server) Healthy(t *testing.T) func() {
	ws := s.Dial(t)
	check := func() {
		t.Helper()
		s.Poke(t, ws)
		s.Answered(t, ws)
	}
	check()
	return check
}

// Arrived returns the transcript in arrival order, as lines.
func (s *Server) Arrived() []string {
	var out []string
	for _, e := range s.Transcript.Since(0) {
		out = append(out, e.String())
	}
	return out
}

// Unharmed checks what bad input must leave alone: the healthy client,
// the transcript recorded before it (kept, as it was), and new clients.
func (s *Server) Unharmed(t *testing.T, check func(), before []string) {
	t.Helper()
	check()
	if err := wstest.KeptAsItWas(before, s.Arrived()); err != nil {
		t.Fatal(err)
	}
	fresh := s.Dial(t)
	s.Poke(t, fresh)
	s.Answered(t, fresh)
	fresh.Close()
}

// count waits until n transcript lines match re, and fails t if more do.
func (s *Server) count(t *testing.T, re string, n int) {
	t.Helper()
	rx := regexp.MustCompile(re)
	got := 0
	c, cancel := context.WithTimeout(context.Background(), patience)
	defer cancel()
	err := s.Transcript.Wait(c, func(es []transcript.Entry) bool {
		got = 0
		for _, e := range es {
			if rx.MatchString(e.String()) {
				got++
			}
		}
		return got >= n
	})
	if err != nil || got != n {
		t.Fatalf("%d lines match %q, want %d: %v\n%s", got, re, n, err, s.Transcript)
	}
}

func (s *Server) rawDial(t *testing.T) net.Conn {
	t.Helper()
	nc, err := net.DialTimeout("tcp", wstest.HostOf(s.URL), patience)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	return nc
}

// SlowClients: clients that trickle their request headers, or send none,
// are dropped at the header timeout and recorded, and nobody else waits
// for them meanwhile.
func SlowClients(t *testing.T, start Start) *Server {
	wstest.NoLeaks(t, patience)
	s := start(t, wstest.SlowLorisWait)
	check := s.Healthy(t)
	before := s.Arrived()

	const each = 10
	trickles := []string{
		"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nX-Slow: " + strings.Repeat("z", 200), // headers byte by byte
		"",                              // nothing at all
		strings.Repeat("\x00\xff", 100), // bytes without a line end
	}
	slow := wstest.StartSlowClients(func() net.Conn { return s.rawDial(t) }, trickles, each, patience)
	s.Unharmed(t, check, before) // while they trickle
	took, err := slow.Wait()
	if took < wstest.SlowLorisWait {
		t.Errorf("slow clients dropped after %v, before the %v header timeout", took, wstest.SlowLorisWait)
	}
	if err != nil {
		t.Error(err)
	}
	s.count(t, `#- .*no HTTP request within 300ms`, each*len(trickles))
	// Those that sent nothing are dropped in silence; net/http answers some
	// partial requests 400 at the timeout, and drops others.
	s.count(t, `#- note no HTTP request within 300ms \(0 bytes of one\): connection dropped`, each)
	s.Unharmed(t, check, before)
	return s
}

// JunkConnections: thousands of connections that hang up at once, stop
// mid-request, send garbage or a broken upgrade each cost only their own
// socket; the server serves throughout and records each but the first
// kind.
func JunkConnections(t *testing.T, start Start) *Server {
	wstest.NoLeaks(t, patience)
	s := start(t, 0)
	check := s.Healthy(t)
	before := s.Arrived()

	junk := func(i int) error {
		nc, err := net.DialTimeout("tcp", wstest.HostOf(s.URL), patience)
		if err != nil {
			return err
		}
		defer nc.Close()
		var req string
		switch i % 4 {
		case 0:
			return nil
		case 1:
			_, err = nc.Write([]byte("GET / HTTP/1.1\r\nHost: "))
			return err
		case 2:
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
	if err := wstest.Flood(wstest.JunkConns, wstest.JunkAtOnce, 200, check, junk); err != nil { // check: served throughout
		t.Fatal(err)
	}
	s.count(t, `#- refuse 400: not an HTTP request`, wstest.JunkConns/2)
	s.count(t, `#\d+ refuse 400: .*Sec-WebSocket-Key`, wstest.JunkConns/4)
	s.Unharmed(t, check, before)
	gomega.NewWithT(t).Eventually(s.Open).WithTimeout(patience).Should(gomega.Equal(1))
	return s
}

// Shutdown: Close ends every connection whatever it is doing (open, with
// a frame delayed, black-holed, its handshake stalled) and leaves no
// goroutine of the server blocked.
func Shutdown(t *testing.T, start Start) *Server {
	wstest.NoLeaks(t, patience)
	s := start(t, 0,
		chaos.OnAttempt(2, chaos.Dir(profile.Server, chaos.Delay(time.Minute))),
		chaos.OnAttempt(3, chaos.BlackHoleAfter(0)),
		chaos.OnAttempt(4, chaos.Stall(-1)),
	)
	open := s.Dial(t)
	s.Poke(t, open)
	s.Answered(t, open)
	delayed := s.Dial(t)
	s.Poke(t, delayed)
	s.count(t, `#2 fault .*delayed server frame #1`, 1)
	hole := s.Dial(t)
	s.count(t, `#3 fault .*black hole: nothing flows`, 1)
	stalled := make(chan error, 1)
	go func() {
		c, cancel := context.WithTimeout(context.Background(), 2*patience)
		defer cancel()
		ws, _, err := websocket.DefaultDialer.DialContext(c, s.URL, nil)
		if ws != nil {
			ws.Close()
		}
		stalled <- err
	}()
	s.count(t, `#4 stall`, 1)

	began := time.Now()
	s.Close()
	if took := time.Since(began); took >= patience {
		t.Errorf("Close took %v: it waited for something it should have ended", took)
	}
	// A goroutine may still be returning from its last call, but none may
	// be blocked: Close waited for every one to finish its work.
	for _, g := range gleak.Goroutines() {
		if strings.Contains(g.Backtrace, s.Goroutines) && g.State != "running" && g.State != "runnable" {
			t.Errorf("server goroutine blocked (%s) after Close:\n%s", g.State, g.Backtrace)
		}
	}
	for name, ws := range map[string]*websocket.Conn{"open": open, "delayed": delayed} {
		var ce *websocket.CloseError
		if _, _, err := readUntilError(ws); !asClose(err, &ce) || ce.Code != websocket.CloseGoingAway {
			t.Errorf("the %s connection ended with %v, want close 1001", name, err)
		}
	}
	if _, _, err := readUntilError(hole); err == nil {
		t.Error("black-holed connection still open after Close")
	}
	select {
	case err := <-stalled:
		if err == nil {
			t.Error("the stalled dial succeeded")
		}
	case <-time.After(patience):
		t.Fatal("the stalled dial still waits after Close")
	}
	s.count(t, `#2 note delayed server frame #1 .*never delivered: connection ended`, 1)
	s.Close() // idempotent
	return s
}

// Faults checks what fault words mean in the engine, the same on both
// servers: a fault whose behaviour is the engine's adds its case here.
func Faults(t *testing.T, start Start) {
	t.Run("delay keeps order", func(t *testing.T) { DelayKeepsOrder(t, start) })
	t.Run("slow-close", func(t *testing.T) { SlowClose(t, start) })
}

// DelayKeepsOrder: a delay aimed by a selector holds back the frames
// after the one it delays in that direction, though it leaves them
// untouched, as a slow link (and Toxiproxy's latency) does; they go
// right after it, in order. Each server answers a client's ping with a
// pong of the same payload (the fake server itself, the proxy's upstream
// through it), the frames the delay here picks among.
func DelayKeepsOrder(t *testing.T, start Start) *Server {
	s := start(t, 0, chaos.Dir(profile.Server, chaos.Index(1, chaos.Delay(time.Minute))))
	ws := s.Dial(t)
	pongs := make(chan string, 3)
	ws.SetPongHandler(func(data string) error { pongs <- data; return nil })
	go readUntilError(ws) // runs the pong handler
	ping := func(data string) {
		if err := ws.WriteControl(websocket.PingMessage, []byte(data), time.Now().Add(patience)); err != nil {
			t.Fatalf("ping %s: %v", data, err)
		}
	}
	ping("1")
	s.count(t, `delay 1m0s index=1 dir=server: delayed server frame #1 \(pong\) by 1m0s`, 1)
	ping("2")
	// Held, or (were the order not kept) sent at once.
	s.count(t, `server frame #2 \(pong\) held behind delayed server #1: delay keeps order|send pong "2"`, 1)
	s.count(t, `server frame #3 \(pong\) held behind delayed server #1|send pong "3"`, 0)
	s.Clock.Advance(time.Minute)
	for _, want := range []string{"1", "2"} {
		select {
		case got := <-pongs:
			if got != want {
				t.Fatalf("pong %q came when %q was due: a frame overtook the delayed one\n%s", got, want, s.Transcript)
			}
		case <-time.After(patience):
			t.Fatalf("no pong %q after the delay\n%s", want, s.Transcript)
		}
	}
	// Once the delayed frame has gone, nothing is held.
	ping("3")
	select {
	case got := <-pongs:
		if got != "3" {
			t.Fatalf("got pong %q, want 3", got)
		}
	case <-time.After(patience):
		t.Fatalf("pong 3 held after the delay was over\n%s", s.Transcript)
	}
	return s
}

// SlowClose: slow-close holds the answer to the client's close frame for
// its time, and the connection until then; a client that drops the
// socket meanwhile ends it at once.
func SlowClose(t *testing.T, start Start) *Server {
	s := start(t, 0, chaos.SlowClose(time.Minute))
	closeWith := func(ws *websocket.Conn) {
		msg := websocket.FormatCloseMessage(websocket.CloseNormalClosure, "bye")
		if err := ws.WriteControl(websocket.CloseMessage, msg, time.Now().Add(patience)); err != nil {
			t.Fatalf("close: %v", err)
		}
	}
	ws := s.Dial(t)
	ended := make(chan error, 1)
	go func() { _, _, err := readUntilError(ws); ended <- err }()
	closeWith(ws)
	s.count(t, `slow-close 1m0s: holding the answer to the client's close 1m0s`, 1)
	select {
	case err := <-ended:
		t.Fatalf("the client's close was answered before its time: %v\n%s", err, s.Transcript)
	default:
	}
	s.Clock.Advance(time.Minute)
	var ce *websocket.CloseError
	if err := <-ended; !asClose(err, &ce) || ce.Code != websocket.CloseNormalClosure {
		t.Fatalf("the held answer: %v, want close 1000\n%s", err, s.Transcript)
	}
	s.count(t, `slow-close 1m0s: answered the client's close`, 1)
	gomega.NewWithT(t).Eventually(s.Open).WithTimeout(patience).Should(gomega.Equal(0))

	gone := s.Dial(t)
	closeWith(gone)
	s.count(t, `slow-close 1m0s: holding the answer`, 2)
	gone.NetConn().Close()
	gomega.NewWithT(t).Eventually(s.Open).WithTimeout(patience).Should(gomega.Equal(0))
	s.count(t, `answered the client's close`, 1)
	return s
}

// readUntilError reads ws until it fails, within patience.
func readUntilError(ws *websocket.Conn) (int, []byte, error) {
	ws.SetReadDeadline(time.Now().Add(patience))
	for {
		op, b, err := ws.ReadMessage()
		if err != nil {
			return op, b, err
		}
	}
}

func asClose(err error, ce **websocket.CloseError) bool {
	c, ok := err.(*websocket.CloseError)
	*ce = c
	return ok
}

// Starter makes the Start of one kind of server: mk makes one, unstarted,
// on clock with faults and headerWait (0: the default); Starter starts it,
// closes it at cleanup, and hands the suite its subject.
func Starter[S interface{ Start() }](mk func(clock *vclock.Clock, headerWait time.Duration, faults []chaos.Fault) S, subject func(S) *Server) Start {
	return func(t *testing.T, headerWait time.Duration, faults ...chaos.Fault) *Server {
		clock := vclock.New()
		s := mk(clock, headerWait, faults)
		s.Start()
		sub := subject(s)
		sub.Clock = clock
		t.Cleanup(sub.Close)
		return sub
	}
}

// BadHandshake sends bytes on a raw connection to s and checks the answer
// is status, that line is recorded, and that nothing else is harmed. then,
// if not nil, checks what else the server promises.
func BadHandshake(t *testing.T, s *Server, bytes, status, line string, then func()) {
	t.Helper()
	check := s.Healthy(t)
	before := s.Arrived()
	nc := s.rawDial(t)
	go nc.Write([]byte(bytes)) // the server may answer before it reads it all
	if got := wstest.StatusOf(nc, patience); got != status {
		t.Errorf("answer %q, want %q", got, status)
	}
	s.count(t, regexp.QuoteMeta(line), 1)
	if then != nil {
		then()
	}
	s.Unharmed(t, check, before)
}

// HandshakeCase is bad input sent instead of a handshake: the status it
// is answered and the transcript line it leaves.
type HandshakeCase struct {
	Name, Send, Status, Line string
}

// CommonBadHandshakes are the cases net/http answers before either server
// sees a request, and so alike in both.
func CommonBadHandshakes() []HandshakeCase {
	return []HandshakeCase{
		{"garbage instead of a request", "\x16\x03\x01\x02\x00garbage\r\n\r\n",
			"HTTP/1.1 400 Bad Request", "#- refuse 400: not an HTTP request the server can read (16 bytes)"},
		{"headers over a megabyte", "GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + strings.Repeat("a", 1<<20+8192) + "\r\n\r\n",
			"HTTP/1.1 431 Request Header Fields Too Large", "#- refuse 431: not an HTTP request the server can read"},
	}
}

// Case is a HandshakeCase, for tables outside this package.
func Case(name, send, status, line string) HandshakeCase {
	return HandshakeCase{Name: name, Send: send, Status: status, Line: line}
}

// BadFrame sends bytes, a bad frame, on a new connection to s and checks
// that connection alone is closed with code and line recorded for it (it
// is attempt 2: the healthy client's is 1), and nothing else is harmed.
// then, if not nil, checks what else the server promises.
func BadFrame(t *testing.T, s *Server, bytes []byte, code int, line string, then func()) {
	t.Helper()
	check := s.Healthy(t)
	before := s.Arrived()
	bad := s.Dial(t)
	if _, err := bad.NetConn().Write(bytes); err != nil {
		t.Fatal(err)
	}
	var ce *websocket.CloseError
	if _, _, err := readUntilError(bad); !asClose(err, &ce) || ce.Code != code {
		t.Errorf("the bad connection ended with %v, want close %d", err, code)
	}
	s.count(t, regexp.QuoteMeta("#2 "+line), 1)
	if then != nil {
		then()
	}
	s.Unharmed(t, check, before)
	gomega.NewWithT(t).Eventually(s.Open).WithTimeout(patience).Should(gomega.Equal(1))
}

// FrameCase is a bad frame a client sends: the close code it is answered
// with and the transcript line it leaves.
type FrameCase struct {
	Name string
	Send []byte
	Code int
	Line string
}

// CommonBadFrames are the bad client frames both servers close a
// connection for with the same code and words. readLimit is the server's
// frame size limit; framingBy is the side the transcript says ended the
// connection for a framing error: "server" where the server answers it
// with a close of its own, "client" where the proxy records the client's
// socket as the one that failed.
func CommonBadFrames(readLimit int, framingBy string) []FrameCase {
	over := fmt.Sprintf("close 1009 by server: client frame over %d bytes", readLimit)
	framing := "close 1002 by " + framingBy + ": websocket: "
	return []FrameCase{
		// Messages that would decode (a ping, to a fake server) but for the
		// bytes that are not UTF-8: the check comes before any decoding.
		{"invalid UTF-8 in a text frame", wstest.Frame(0x81, []byte("{\"type\":\"ping\",\"payload\":\"\xff\xfe\"}"), true),
			1007, "close 1007 by server: client text frame #1 is not valid UTF-8"},
		{"invalid UTF-8 across fragments", append(wstest.Frame(0x01, []byte(`{"type":"x","payload":"`+"\xc3"), true),
			wstest.Frame(0x80, []byte("(\"}"), true)...),
			1007, "close 1007 by server: client text frame #1 is not valid UTF-8"},
		{"a frame over the read limit", wstest.BigHeader(uint64(readLimit)+1, true), 1009, over},
		{"a frame claiming 2^63 bytes", wstest.BigHeader(1<<63, true), 1009, over},
		{"an unmasked frame", wstest.Frame(0x81, []byte("a"), false), 1002, framing + "bad MASK"},
		{"a reserved opcode", wstest.Frame(0x83, []byte("a"), true), 1002, framing + "bad opcode 3"},
		{"a fragmented ping", wstest.Frame(0x09, []byte("a"), true), 1002, framing + "FIN not set on control"},
		{"a close frame with a reserved code", wstest.Frame(0x88, []byte{0x03, 0xed}, true), 1002, framing + "bad close code 1005"},
	}
}

// Frame is a FrameCase, for tables outside this package.
func Frame(name string, send []byte, code int, line string) FrameCase {
	return FrameCase{Name: name, Send: send, Code: code, Line: line}
}
