package proxy

import (
	"net"
	"time"

	"github.com/wschaos/wschaos/fakeserver"
	"github.com/wschaos/wschaos/internal/link"
	"github.com/wschaos/wschaos/internal/wire"
)

// noteUnserved records a connection net/http closed without a request
// reaching the handler (garbage, a slow-loris client), unless there is
// nothing to say or the proxy is closing.
func (p *Proxy) noteUnserved(nc net.Conn) {
	if p.isClosed() {
		return
	}
	note, status, ok := wire.Unserved(nc, p.headerWait())
	if !ok {
		return
	}
	e := Entry{Kind: fakeserver.KindNote, Note: note}
	if status != 0 {
		e.Kind, e.Status = fakeserver.KindRefuse, status
	}
	p.record(e)
}

// headerWait is how long a client has to send its request headers.
func (p *Proxy) headerWait() time.Duration {
	if p.headerTimeout > 0 {
		return p.headerTimeout
	}
	return link.ReadHeaderTimeout
}

func (p *Proxy) isClosed() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.closed
}

// controlReadWait is how long a control client has to send a whole request.
func (p *Proxy) controlReadWait() time.Duration {
	if p.controlReadTimeout > 0 {
		return p.controlReadTimeout
	}
	return controlReadWait
}

// idleWait is how long a keep-alive connection may wait for its next request.
func (p *Proxy) idleWait() time.Duration {
	if p.idleTimeout > 0 {
		return p.idleTimeout
	}
	return idleWait
}
