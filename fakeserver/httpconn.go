package fakeserver

import (
	"net"
	"time"

	"github.com/wschaos/wschaos/internal/link"
)

// noteUnserved records a connection net/http closed without a request
// reaching the handler (garbage, a slow-loris client).
func (s *Server) noteUnserved(nc net.Conn) { s.door().NoteUnserved(nc, s.headerWait()) }

// headerWait is how long a client has to send its request headers.
func (s *Server) headerWait() time.Duration {
	return link.Or(s.headerTimeout, link.ReadHeaderTimeout)
}
