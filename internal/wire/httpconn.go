package wire

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// WatchedListener hands net/http connections it can watch until a request
// reaches the handler. net/http answers bytes that are no HTTP request
// (400, 431, 501) and drops a client that never finishes its headers
// within the header timeout without ever calling the handler, so this is
// the only layer that sees such a connection and can put it in the
// transcript. The fake server and the proxy both serve through one.
type WatchedListener struct{ *net.TCPListener }

func (l WatchedListener) Accept() (net.Conn, error) {
	c, err := l.AcceptTCP()
	if err != nil {
		return nil, err
	}
	return &watchedConn{TCPConn: c}, nil
}

// watchedConn is an accepted connection that notes, until it is served,
// how many bytes it read, whether a read timed out, and the status line
// net/http wrote instead of calling the handler. Embedding *net.TCPConn
// keeps what faults use after the upgrade (CloseWrite, SetLinger).
type watchedConn struct {
	*net.TCPConn
	served atomic.Bool // a request reached the handler: nothing more to note

	mu       sync.Mutex
	read     int
	timedOut bool
	answer   string // "400 Bad Request"
}

func (c *watchedConn) Read(b []byte) (int, error) {
	n, err := c.TCPConn.Read(b)
	if !c.served.Load() {
		var ne net.Error
		c.mu.Lock()
		c.read += n
		c.timedOut = c.timedOut || errors.As(err, &ne) && ne.Timeout()
		c.mu.Unlock()
	}
	return n, err
}

func (c *watchedConn) Write(b []byte) (int, error) {
	if !c.served.Load() {
		c.mu.Lock()
		if c.answer == "" {
			c.answer = statusLine(b)
		}
		c.mu.Unlock()
	}
	return c.TCPConn.Write(b)
}

// statusLine returns "400 Bad Request" from the start of a response.
func statusLine(b []byte) string {
	line, _, _ := strings.Cut(string(b[:min(len(b), 128)]), "\r\n")
	_, status, ok := strings.Cut(line, " ")
	if !ok || !strings.HasPrefix(line, "HTTP/") {
		return ""
	}
	return status
}

// watchKey carries a connection's *watchedConn in its requests' contexts.
type watchKey struct{}

// ConnContext is for http.Server.ConnContext: it lets the handler find
// the connection its request came on.
func ConnContext(ctx context.Context, c net.Conn) context.Context {
	return context.WithValue(ctx, watchKey{}, c)
}

// watched finds the *watchedConn under nc, through wrappers that give
// their socket with NetConn (as tls.Conn does).
func watched(nc net.Conn) (*watchedConn, bool) {
	for {
		switch c := nc.(type) {
		case *watchedConn:
			return c, true
		case interface{ NetConn() net.Conn }:
			nc = c.NetConn()
		default:
			return nil, false
		}
	}
}

// MarkServed records that r reached the handler: its connection is an
// attempt from now on, recorded as such.
func MarkServed(r *http.Request) {
	nc, _ := r.Context().Value(watchKey{}).(net.Conn)
	if c, ok := watched(nc); ok {
		c.served.Store(true)
	}
}

// Unserved describes a connection of a WatchedListener that net/http
// closed without a request reaching the handler: what the client sent and
// the status net/http answered (0 if none). ok is false when there is
// nothing to note: the connection was served, or sent nothing at all and
// hung up (a dial given up before its request: not bad input, and it
// happens in runs that behave). headerWait is the header timeout, for the
// note.
func Unserved(nc net.Conn, headerWait time.Duration) (note string, status int, ok bool) {
	c, ok := watched(nc)
	if !ok || c.served.Load() {
		return "", 0, false
	}
	c.mu.Lock()
	read, timedOut, answer := c.read, c.timedOut, c.answer
	c.mu.Unlock()
	switch {
	case timedOut:
		note = fmt.Sprintf("no HTTP request within %v (%d bytes of one)", headerWait, read)
	case answer != "":
		note = fmt.Sprintf("not an HTTP request the server can read (%d bytes)", read)
	case read > 0:
		note = fmt.Sprintf("client hung up in the middle of its HTTP request (%d bytes)", read)
	default:
		return "", 0, false
	}
	if code, _, _ := strings.Cut(answer, " "); answer != "" {
		status, _ = strconv.Atoi(code) // net/http's answer, written without the handler
	} else if timedOut {
		note += ": connection dropped"
	}
	return note, status, true
}
