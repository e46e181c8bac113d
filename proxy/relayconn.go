package proxy

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math/rand/v2"
	"net"
	"slices"
	"sync"
	"time"

	"github.com/wschaos/wschaos/internal/link"
)

// flushAt is how many sealed bytes make a turn flush at once rather than
// wait for its reader to run dry: it bounds what one socket holds back.
const flushAt = 64 << 10

// relayConn is one of a proxied connection's two sockets. Once relaying
// starts, what gorilla writes to it waits in a buffer, and leaves in one
// system call when the connection flushes: when a reader has consumed
// everything its socket delivered and is about to block, when a turn from
// a timer or a command ends, or when flushAt bytes are waiting. A burst of
// frames that arrived in one read so leaves in one write, while a lone
// frame leaves as soon as the turn that relayed it is over.
//
// Bytes become flushable only when sealed, at the end of the turn that
// wrote them, after the turn's entries are in the transcript: whoever sees
// a relayed frame can read its entry.
type relayConn struct {
	net.Conn

	// beforeRead runs before each read of the socket may block; set
	// before relaying starts, read-only after.
	beforeRead func()
	// teeing keeps what the upstream's handshake reads in tee: gorilla's
	// Dialer reads ahead, and the frames the upstream sent right after its
	// answer are then in gorilla's buffer, which the relay does not read
	// through. Used by the reader only, before relaying starts.
	teeing bool
	tee    []byte

	mu       sync.Mutex
	batching bool    // relaying has started: writes are buffered
	buf      []byte  // written and not yet flushed
	held     *[]byte // buf's array, borrowed from writeBuffers
	sealed   int     // buf[:sealed] may be flushed
	err      error   // the first failed flush: every later write fails with it
	// partial marks a frame written in part (writePiece): other writes
	// wait in later until its last piece, so they do not land inside it.
	partial bool
	later   []byte

	flushMu sync.Mutex // one flush at a time, so bytes leave in order
}

func newRelayConn(nc net.Conn) *relayConn { return &relayConn{Conn: nc} }

// startBatching buffers every write from now on; before runs ahead of each
// read that may block.
func (r *relayConn) startBatching(before func()) {
	r.beforeRead = before
	r.mu.Lock()
	r.batching = true
	r.mu.Unlock()
}

func (r *relayConn) Read(b []byte) (int, error) {
	if r.beforeRead != nil {
		r.beforeRead()
	}
	n, err := r.Conn.Read(b)
	if r.teeing {
		r.tee = append(r.tee, b[:n]...)
	}
	return n, err
}

// afterHandshake stops keeping what the handshake read, and returns what
// of it came after the HTTP answer's blank line: the upstream's first
// frames, read ahead into gorilla's buffer. A 101 answer has no body.
func (r *relayConn) afterHandshake() []byte {
	tee := r.tee
	r.teeing, r.tee = false, nil
	if i := bytes.Index(tee, []byte("\r\n\r\n")); i >= 0 {
		return tee[i+4:]
	}
	return nil
}

func (r *relayConn) Write(b []byte) (int, error) {
	r.mu.Lock()
	if !r.batching {
		r.mu.Unlock()
		return r.Conn.Write(b) // the handshake
	}
	defer r.mu.Unlock()
	if r.err != nil {
		return 0, r.err
	}
	if r.partial {
		r.later = append(r.later, b...)
		return len(b), nil
	}
	r.buf = append(r.borrowed(), b...)
	return len(b), nil
}

// writePiece writes b, a piece of a frame relayed as it comes: partial
// says more of the frame is to come. What else is written meanwhile
// follows the frame's last piece. Relaying must have started.
func (r *relayConn) writePiece(b []byte, partial bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.err != nil {
		return
	}
	r.buf = append(r.borrowed(), b...)
	r.partial = partial
	if !partial && r.later != nil {
		r.buf = append(r.buf, r.later...)
		r.later = nil
	}
}

// writeFrame frames a data message as one frame into the buffer, masked
// with a fresh key when masked (a frame to the upstream): the payload is
// copied once, where gorilla would mask it into a buffer of its own
// first. Relaying must have started.
func (r *relayConn) writeFrame(op int, payload []byte, masked bool) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.err != nil {
		return r.err
	}
	if r.partial {
		r.later = appendFrame(r.later, op, payload, masked)
		return nil
	}
	r.buf = appendFrame(r.borrowed(), op, payload, masked)
	return nil
}

// borrowed is buf, in an array from writeBuffers if it had none. r.mu
// must be held.
func (r *relayConn) borrowed() []byte {
	if r.held == nil {
		r.held = writeBuffers.get()
		r.buf = *r.held
	}
	return r.buf
}

// appendFrame appends a final frame of op with payload to dst.
func appendFrame(dst []byte, op int, payload []byte, masked bool) []byte {
	var mask byte
	if masked {
		mask = maskBit
	}
	dst = append(dst, finBit|byte(op))
	switch n := len(payload); {
	case n < 126:
		dst = append(dst, mask|byte(n))
	case n <= 0xffff:
		dst = binary.BigEndian.AppendUint16(append(dst, mask|126), uint16(n))
	default:
		dst = binary.BigEndian.AppendUint64(append(dst, mask|127), uint64(n))
	}
	if !masked {
		return append(dst, payload...)
	}
	dst = binary.LittleEndian.AppendUint32(dst, rand.Uint32())
	key := dst[len(dst)-4:]
	n := len(dst)
	dst = slices.Grow(dst, len(payload))[:n+len(payload)]
	unmask(dst[n:], payload, key) // masking is the same XOR
	return dst
}

// SetWriteDeadline applies to the handshake only: once relaying, each
// flush sets its own, and gorilla's per-frame deadline would reach the
// socket before the frame does.
func (r *relayConn) SetWriteDeadline(t time.Time) error {
	r.mu.Lock()
	batching := r.batching
	r.mu.Unlock()
	if batching {
		return nil
	}
	return r.Conn.SetWriteDeadline(t)
}

// seal makes everything written so far flushable, and reports whether
// enough waits for a flush now.
func (r *relayConn) seal() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.sealed = len(r.buf)
	return r.sealed >= flushAt
}

// flush writes the sealed bytes, within link.WriteWait. An error sticks: the
// socket takes no more writes, and the caller ends the connection.
func (r *relayConn) flush() error {
	r.flushMu.Lock()
	defer r.flushMu.Unlock()
	r.mu.Lock()
	if r.err != nil || r.sealed == 0 {
		err := r.err
		r.mu.Unlock()
		return err
	}
	out, rest, held := r.buf[:r.sealed], r.buf[r.sealed:], r.held
	r.buf, r.held, r.sealed = nil, nil, 0
	if len(rest) > 0 { // written by a turn not yet over
		r.buf = append(r.borrowed(), rest...)
	}
	r.mu.Unlock()

	r.Conn.SetWriteDeadline(time.Now().Add(link.WriteWait))
	_, err := r.Conn.Write(out)
	*held = out
	writeBuffers.put(held) // an idle socket holds no array

	if err != nil {
		r.mu.Lock()
		if r.err == nil {
			r.err = err
		}
		r.mu.Unlock()
	}
	return err
}

// NetConn returns the socket under the buffer, as tls.Conn does.
func (r *relayConn) NetConn() net.Conn { return r.Conn }

// SetLinger and CloseWrite reach the TCP socket, for the RST and FIN cuts;
// SetLinger under TLS too.
func (r *relayConn) SetLinger(sec int) error {
	var nc net.Conn = r.Conn
	if t, ok := nc.(interface{ NetConn() net.Conn }); ok {
		nc = t.NetConn()
	}
	if l, ok := nc.(interface{ SetLinger(int) error }); ok {
		return l.SetLinger(sec)
	}
	return errors.ErrUnsupported
}

func (r *relayConn) CloseWrite() error {
	if cw, ok := r.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return errors.ErrUnsupported
}

// relayListener hands net/http connections it can later relay through,
// and resets those accepted while its proxy is disabled.
type relayListener struct {
	net.Listener
	p *Proxy
}

func (l relayListener) Accept() (net.Conn, error) {
	for {
		nc, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		if !l.p.resetDisabled(nc) {
			return newRelayConn(nc), nil
		}
	}
}

// relayReadBuffer is each socket's read buffer: what one read system call
// can bring in, and so how many frames one flush can carry on (gorilla's
// default, 4 KiB, holds four 1 KiB messages; 32 KiB gave a fifth more
// throughput in BenchmarkEchoThroughput).
const relayReadBuffer = 32 << 10

// relayWriteBuffers makes gorilla's Dialer give a connection a write
// buffer only when it writes a message through gorilla, which the relay
// never does (writeFrame): it writes control frames only.
var relayWriteBuffers = &sync.Pool{}
