package proxy

import (
	"bytes"
	"errors"
	"net"
	"sync"
	"testing"
	"time"
)

// writesConn is a net.Conn that keeps each Write as it came, and fails
// them all once fail is set.
type writesConn struct {
	net.Conn // nil: relayConn calls only Write and SetWriteDeadline
	mu       sync.Mutex
	writes   [][]byte
	fail     error
}

func (w *writesConn) Write(b []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.fail != nil {
		return 0, w.fail
	}
	w.writes = append(w.writes, bytes.Clone(b))
	return len(b), nil
}

func (w *writesConn) SetWriteDeadline(time.Time) error { return nil }

func (w *writesConn) got() [][]byte {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.writes
}

func newTestRelay() (*relayConn, *writesConn) {
	under := &writesConn{}
	r := newRelayConn(under)
	r.startBatching(nil)
	return r, under
}

func TestRelayConnWritesABurstInOneCall(t *testing.T) {
	r, under := newTestRelay()
	for _, frame := range []string{"one", "two", "three"} {
		if _, err := r.Write([]byte(frame)); err != nil {
			t.Fatalf("Write(%q): %v", frame, err)
		}
	}
	if err := r.flush(); err != nil || len(under.got()) != 0 {
		t.Fatalf("flush before seal wrote %q (err %v); unsealed bytes must wait for their turn's entries", under.got(), err)
	}
	r.seal()
	r.Write([]byte("four")) // the next turn's: not sealed
	if err := r.flush(); err != nil {
		t.Fatalf("flush: %v", err)
	}
	if got := under.got(); len(got) != 1 || string(got[0]) != "onetwothree" {
		t.Fatalf("flush wrote %q, want one write of the sealed burst \"onetwothree\"", got)
	}
	r.seal()
	r.flush()
	if got := under.got(); len(got) != 2 || string(got[1]) != "four" {
		t.Fatalf("second flush wrote %q, want \"four\" after the first", got)
	}
}

func TestRelayConnFailedFlushSticks(t *testing.T) {
	r, under := newTestRelay()
	under.fail = errors.New("connection reset by peer")
	r.Write([]byte("lost"))
	r.seal()
	if err := r.flush(); err == nil {
		t.Fatal("flush to a failing socket succeeded")
	}
	under.fail = nil
	if _, err := r.Write([]byte("after")); err == nil {
		t.Fatal("Write after a failed flush succeeded; the socket must take no more")
	}
	if err := r.flush(); err == nil {
		t.Fatal("flush after a failed flush succeeded")
	}
	if len(under.got()) != 0 {
		t.Fatalf("bytes reached a socket that failed: %q", under.got())
	}
}

func TestRelayConnSealSaysWhenToFlushAtOnce(t *testing.T) {
	r, _ := newTestRelay()
	r.Write(make([]byte, flushAt-1))
	if r.seal() {
		t.Fatalf("seal asked for a flush with %d bytes waiting, under flushAt", flushAt-1)
	}
	r.Write([]byte{0})
	if !r.seal() {
		t.Fatalf("seal did not ask for a flush with flushAt (%d) bytes waiting", flushAt)
	}
}

func TestRelayConnPassesTheHandshakeThrough(t *testing.T) {
	under := &writesConn{}
	r := newRelayConn(under)
	r.Write([]byte("HTTP/1.1 101 Switching Protocols\r\n"))
	if len(under.got()) != 1 {
		t.Fatalf("a write before relaying started was held back: %q", under.got())
	}
}
