package fakeserver

import (
	"net"
	"time"

	"github.com/wschaos/wschaos/internal/link"
	"github.com/wschaos/wschaos/internal/wire"
)

// noteUnserved records a connection net/http closed without a request
// reaching the handler (garbage, a slow-loris client), unless there is
// nothing to say or the server is closing.
func (s *Server) noteUnserved(nc net.Conn) {
	if s.isClosed() {
		return
	}
	note, status, ok := wire.Unserved(nc, s.headerWait())
	if !ok {
		return
	}
	e := Entry{Kind: KindNote, Note: note}
	if status != 0 {
		e.Kind, e.Status = KindRefuse, status
	}
	s.record(e)
}

// headerWait is how long a client has to send its request headers.
func (s *Server) headerWait() time.Duration {
	if s.headerTimeout > 0 {
		return s.headerTimeout
	}
	return link.ReadHeaderTimeout
}
