package fakeserver

import "time"

// SetHeaderTimeout shortens how long s waits for a client's request
// headers, so a test of slow clients need not wait link.ReadHeaderTimeout. Call
// it before Start.
func SetHeaderTimeout(s *Server, d time.Duration) { s.headerTimeout = d }
