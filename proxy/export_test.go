package proxy

import "time"

// SetHeaderTimeout shortens how long p waits for a client's request
// headers, so a test of slow clients need not wait readHeaderTimeout. Call
// it before Start.
func SetHeaderTimeout(p *Proxy, d time.Duration) { p.headerTimeout = d }
