package proxy

import "time"

// SetHeaderTimeout shortens how long p waits for a client's request
// headers, so a test of slow clients need not wait link.ReadHeaderTimeout. Call
// it before Start.
func SetHeaderTimeout(p *Proxy, d time.Duration) { p.headerTimeout = d }

// SetControlReadTimeout shortens how long p's control API waits for a whole
// request, so a test of a trickled body need not wait controlReadWait. Call
// it before Start.
func SetControlReadTimeout(p *Proxy, d time.Duration) { p.controlReadTimeout = d }

// SetIdleTimeout shortens how long p keeps an idle keep-alive connection.
// Call it before Start.
func SetIdleTimeout(p *Proxy, d time.Duration) { p.idleTimeout = d }
