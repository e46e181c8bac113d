//go:build linux

package quiet

import (
	"io"
	"net"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// bound is how long a test waits for a state it cannot be told of (a
// goroutine parking, a packet crossing loopback).
const bound = 10 * time.Second

// pair is a loopback world: a listener and one accepted connection.
type pair struct {
	ln             net.Listener
	client, server *net.TCPConn
	port           int
}

func newPair(t *testing.T) *pair {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen on loopback: %v", err)
	}
	t.Cleanup(func() { ln.Close() })
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatalf("dial %s: %v", ln.Addr(), err)
	}
	s, err := ln.Accept()
	if err != nil {
		t.Fatalf("accept on %s: %v", ln.Addr(), err)
	}
	p := &pair{ln: ln, client: c.(*net.TCPConn), server: s.(*net.TCPConn), port: ln.Addr().(*net.TCPAddr).Port}
	t.Cleanup(func() { p.client.Close(); p.server.Close() })
	return p
}

// awaitObserved polls Observe until it says idle == want, and returns why.
func awaitObserved(t *testing.T, want bool, ports ...int) string {
	t.Helper()
	deadline := time.Now().Add(bound)
	for {
		idle, why := Observe(ports...)
		if idle == want {
			return why
		}
		if time.Now().After(deadline) {
			t.Fatalf("still idle = %v after %v: %s", idle, bound, why)
		}
		time.Sleep(time.Millisecond) // polling a state nothing signals
	}
}

// showsBusy waits until Observe finds something in flight that about
// names, then shows it found in enough observations, spaced as Detector
// spaces them, for Detector never to call the world idle.
func showsBusy(t *testing.T, about string, ports ...int) {
	t.Helper()
	deadline := time.Now().Add(bound)
	for {
		idle, why := Observe(ports...)
		if !idle && strings.Contains(why, about) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("never busy for %q within %v; the last observation: idle = %v, %s", about, bound, idle, why)
		}
		time.Sleep(time.Millisecond) // polling a state nothing signals
	}
	for range 2 * need {
		idle, why := Observe(ports...)
		if idle {
			t.Fatalf("idle, while %s", about)
		}
		if !strings.Contains(why, about) {
			t.Fatalf("busy for another reason than %q: %s", about, why)
		}
		time.Sleep(Gap) // the spacing under test, not a wait for an event
	}
}

// With every goroutine parked and nothing on the wire, the world is idle,
// and a Detector says so for good.
func TestIdleWhenEverythingIsParked(t *testing.T) {
	p := newPair(t)
	read := make(chan error, 1)
	go func() { _, err := p.server.Read(make([]byte, 1)); read <- err }()
	awaitObserved(t, true, p.port)
	d := NewDetector(p.port)
	deadline := time.Now().Add(bound)
	for !d.Idle("same") {
		if time.Now().After(deadline) {
			t.Fatalf("never idle for good: %s", d.Why())
		}
		time.Sleep(time.Millisecond)
	}
	// And the parked reader still wakes when a byte comes.
	p.client.Write([]byte("x"))
	if err := <-read; err != nil {
		t.Fatalf("read: %v", err)
	}
}

// A goroutine that runs is work in flight, wherever it is.
func TestBusyWhileAGoroutineSpins(t *testing.T) {
	awaitObserved(t, true)
	var stop atomic.Bool
	var done sync.WaitGroup
	done.Add(1)
	go func() {
		defer done.Done()
		for !stop.Load() {
		}
	}()
	halt := func() { stop.Store(true); done.Wait() }
	t.Cleanup(halt)
	showsBusy(t, "created by github.com/wschaos/wschaos/internal/quiet.TestBusyWhileAGoroutineSpins")
	halt()
	awaitObserved(t, true)
}

// A goroutine blocked writing to a full buffer is work in flight, even on
// a socket that is not the world's.
func TestBusyWhileAWriteWaits(t *testing.T) {
	p := newPair(t)
	awaitObserved(t, true)
	wrote := make(chan error, 1)
	go func() {
		_, err := p.client.Write(make([]byte, 64<<20)) // more than both buffers
		wrote <- err
	}()
	showsBusy(t, "waits to write") // no ports: only the goroutine tells
	p.client.Close()               // the write fails and returns
	p.server.Close()
	<-wrote
	awaitObserved(t, true)
}

// Bytes in a socket that nobody reads are work in flight: a read will
// come for them.
func TestBusyWhileBytesSitUnread(t *testing.T) {
	p := newPair(t)
	awaitObserved(t, true, p.port)
	if _, err := p.client.Write([]byte("hello")); err != nil {
		t.Fatalf("write: %v", err)
	}
	showsBusy(t, "rx 5", p.port)
	if _, err := io.ReadFull(p.server, make([]byte, 5)); err != nil {
		t.Fatalf("read: %v", err)
	}
	awaitObserved(t, true, p.port)
}

// A connection in the accept queue is work in flight: an Accept will
// take it.
func TestBusyWhileAConnectionWaitsToBeAccepted(t *testing.T) {
	p := newPair(t)
	awaitObserved(t, true, p.port)
	c, err := net.Dial("tcp", p.ln.Addr().String())
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	defer c.Close()
	showsBusy(t, "waits to be accepted", p.port)
	s, err := p.ln.Accept()
	if err != nil {
		t.Fatalf("accept: %v", err)
	}
	defer s.Close()
	awaitObserved(t, true, p.port)
}

// A socket whose peer has closed, not yet closed by its owner, is work in
// flight: its owner has an end of stream to read.
func TestBusyWhileASocketIsInCloseWait(t *testing.T) {
	p := newPair(t)
	awaitObserved(t, true, p.port)
	p.client.Close()
	showsBusy(t, "CLOSE_WAIT", p.port)
	p.server.Close()
	awaitObserved(t, true, p.port)
}

// A socket the kernel has reset, still open in the process, is work in
// flight although it is in no table: its owner has an error to read.
func TestBusyWhileAResetSocketIsOpen(t *testing.T) {
	p := newPair(t)
	awaitObserved(t, true, p.port)
	p.server.SetLinger(0) // close sends RST
	p.server.Close()
	showsBusy(t, "in no table", p.port)
	p.client.Close()
	awaitObserved(t, true, p.port)
}

// Sockets on other ports do not count: the world is its own ports.
func TestOtherPortsDoNotCount(t *testing.T) {
	world, other := newPair(t), newPair(t)
	awaitObserved(t, true, world.port)
	other.client.Write([]byte("hello")) // unread on the other pair
	showsBusy(t, "rx 5", other.port)
	if idle, why := Observe(world.port); !idle {
		t.Errorf("busy over another world's bytes: %s", why)
	}
}

// Every line of the real tables parses, and states read as numbered.
func TestParseTCPLine(t *testing.T) {
	line := "   3: 0100007F:A1B2 0100007F:0050 08 00000000:00000005 00:00000000 00000000  1000        0 424242 1 0000000000000000 20 4 30 10 -1"
	s, err := parseTCPLine([]byte(line))
	if err != nil {
		t.Fatal(err)
	}
	want := tcpSocket{local: 0xA1B2, remote: 0x50, state: tcpCloseWait, rx: 5, inode: 424242}
	if s != want {
		t.Errorf("parseTCPLine = %+v, want %+v", s, want)
	}
	if s.busy() == "" {
		t.Errorf("%v is at rest", s)
	}
	if _, err := parseTCPLine([]byte("   3: 0100007F 0100007F:0050 08")); err == nil {
		t.Error("a short line parsed")
	}
	if idle, why := socketsAtRest([]int{0}); !idle {
		t.Errorf("the tables of this machine do not read at rest on no port: %s", why)
	}
}

// How long one observation takes: it bounds how often a wait can look.
func BenchmarkObserve(b *testing.B) {
	p := &pair{}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer ln.Close()
	p.port = ln.Addr().(*net.TCPAddr).Port
	for b.Loop() {
		Observe(p.port)
	}
}

// The socket monitor and the text tables describe a world's sockets
// alike: ports, state, queues and descriptor, TIME_WAIT aside.
func TestSocketMonitorAgreesWithTheTables(t *testing.T) {
	p := newPair(t)
	if _, err := p.client.Write([]byte("hello")); err != nil { // unread: rx 5
		t.Fatalf("write: %v", err)
	}
	awaitBothAgree := func(why string) {
		t.Helper()
		deadline := time.Now().Add(bound)
		for {
			fromDiag, err := diagAll()
			if err != nil {
				t.Skipf("the socket monitor is not allowed here: %v", err)
			}
			diag, tables := onPort(fromDiag, p.port), onPort(tableSockets(t), p.port)
			if len(diag) >= 3 && strings.Join(diag, "\n") == strings.Join(tables, "\n") {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: the monitor says\n%s\nthe tables say\n%s", why, strings.Join(diag, "\n"), strings.Join(tables, "\n"))
			}
			time.Sleep(time.Millisecond) // a packet crossing loopback: nothing signals it
		}
	}
	awaitBothAgree("a listener and a connection with 5 bytes unread")
	p.client.Close()
	awaitBothAgree("the client closed: FIN_WAIT2 beside CLOSE_WAIT")
}

// tableSockets reads the text tables, as readSockets does without the
// monitor.
func tableSockets(t *testing.T) []tcpSocket {
	t.Helper()
	diagRefused.Store(true)
	defer diagRefused.Store(false)
	var out []tcpSocket
	for _, path := range tcpTables {
		data, err := readTable(path)
		if err != nil {
			continue
		}
		lines := strings.Split(strings.TrimSpace(string(data)), "\n")[1:]
		for _, l := range lines {
			s, err := parseTCPLine([]byte(l))
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, s)
		}
	}
	return out
}

// onPort lists, sorted, the sockets with port at one end, TIME_WAIT
// aside (the monitor leaves it out).
func onPort(ss []tcpSocket, port int) []string {
	var out []string
	for _, s := range ss {
		if (s.local == port || s.remote == port) && s.state != tcpTimeWait {
			out = append(out, s.String())
		}
	}
	slices.Sort(out)
	return out
}

// Where the socket monitor is refused, the tables judge the same worlds.
func TestTheTablesJudgeWithoutTheMonitor(t *testing.T) {
	diagRefused.Store(true)
	defer diagRefused.Store(false)
	for name, f := range map[string]func(*testing.T){
		"unread":    TestBusyWhileBytesSitUnread,
		"accept":    TestBusyWhileAConnectionWaitsToBeAccepted,
		"closewait": TestBusyWhileASocketIsInCloseWait,
		"reset":     TestBusyWhileAResetSocketIsOpen,
		"ports":     TestOtherPortsDoNotCount,
	} {
		t.Run(name, f)
	}
}
