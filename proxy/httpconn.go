package proxy

import (
	"time"

	"github.com/wschaos/wschaos/internal/link"
)

// headerWait is how long a client has to send its request headers.
func (p *Proxy) headerWait() time.Duration {
	return link.Or(p.headerTimeout, link.ReadHeaderTimeout)
}

func (p *Proxy) isClosed() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.closed
}

// controlReadWait is how long a control client has to send a whole request.
func (p *Proxy) controlReadWait() time.Duration {
	return link.Or(p.controlReadTimeout, controlReadWait)
}

// idleWait is how long a keep-alive connection may wait for its next request.
func (p *Proxy) idleWait() time.Duration {
	return link.Or(p.idleTimeout, idleWait)
}
