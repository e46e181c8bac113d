package proxy

import (
	"context"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/gorilla/websocket"
	"github.com/wschaos/wschaos/chaos"
	"github.com/wschaos/wschaos/internal/link"
	"github.com/wschaos/wschaos/transcript"
)

// hopHeaders are not forwarded upstream: gorilla writes its own handshake
// headers (and refuses duplicates), and hop-by-hop headers belong to one
// connection only.
var hopHeaders = map[string]bool{
	"Upgrade": true, "Connection": true, "Keep-Alive": true, "Te": true, "Trailer": true,
	"Transfer-Encoding": true, "Proxy-Authorization": true, "Proxy-Connection": true,
	"Host": true, "Content-Length": true,
	"Sec-Websocket-Key": true, "Sec-Websocket-Version": true,
	"Sec-Websocket-Extensions": true, "Sec-Websocket-Protocol": true,
}

// serveHTTP takes one attempt from request to a proxied connection: the
// handshake faults, the upstream dial, then the client's upgrade.
func (p *Proxy) serveHTTP(w http.ResponseWriter, r *http.Request) {
	n, rng, ok := p.door().Enter(w, r, &p.mu, &p.closed, &p.attempts, &p.wg, p.Seed)
	if !ok {
		return
	}
	defer p.wg.Done()
	dial := Entry{Attempt: n, Kind: transcript.KindDial, URL: r.URL.RequestURI()}
	if p.Profile != nil {
		// The code the client reports for its last close, as the fake
		// server records it; a malformed one is the upstream's to judge.
		q, _ := p.Profile.ParseConnectQuery(r.URL.Query())
		dial.ReportedCode = q.ReportedCode
	}
	p.record(dial)
	u := *r.URL
	a := &chaos.Attempt{N: n, URL: &u, Rand: rng}
	if !p.door().Handshakes(w, r, faultsOf[chaos.HandshakeFault](p.faults), a) {
		return
	}

	if problem := handshakeProblem(r); problem != "" {
		p.refuse(w, n, http.StatusBadRequest, "", problem, 0)
		return
	}
	up, resp, err := p.dialUpstream(r, n)
	if err != nil {
		p.relayRefusal(w, n, resp, err)
		return
	}
	header := http.Header{}
	if proto := up.Subprotocol(); proto != "" {
		header.Set("Sec-Websocket-Protocol", proto)
	}
	for _, c := range resp.Header.Values("Set-Cookie") {
		header.Add("Set-Cookie", c)
	}
	upgrader := websocket.Upgrader{
		HandshakeTimeout: link.WriteWait,
		CheckOrigin:      func(*http.Request) bool { return true }, // the upstream judges origins
		Error: func(w http.ResponseWriter, _ *http.Request, status int, reason error) {
			p.refuse(w, n, status, "", "not upgraded: "+reason.Error(), 0)
		},
	}
	ws, err := upgrader.Upgrade(w, r, header)
	if err != nil {
		up.Close()
		p.record(Entry{Attempt: n, Kind: transcript.KindNote, Note: "client not upgraded: upstream dropped"})
		return
	}
	p.serveConn(ws, up, n, rng, r.URL.RequestURI())
}

// handshakeProblem says what makes r an upgrade the client side would
// refuse, "" if nothing does. It is checked before the upstream is
// dialled, so a flood of bad upgrades never becomes a flood of upstream
// connections opened only to be dropped. (gorilla's Upgrade checks the same
// and more; what it alone finds is still refused, after the dial.)
func handshakeProblem(r *http.Request) string {
	version, key := r.Header.Get("Sec-Websocket-Version"), r.Header.Get("Sec-Websocket-Key")
	switch {
	case !websocket.IsWebSocketUpgrade(r):
		return "not a WebSocket upgrade"
	case r.Method != http.MethodGet:
		return "not a WebSocket upgrade: method " + r.Method
	case version != "13":
		return fmt.Sprintf("bad WebSocket upgrade: Sec-WebSocket-Version %.20q, want 13", version)
	}
	if b, err := base64.StdEncoding.DecodeString(key); err != nil || len(b) != 16 {
		return "bad WebSocket upgrade: Sec-WebSocket-Key is not 16 bytes in base64"
	}
	return ""
}

// dialUpstream opens the upstream side of attempt n with r's path, query,
// subprotocols and end-to-end headers.
func (p *Proxy) dialUpstream(r *http.Request, n int) (*websocket.Conn, *http.Response, error) {
	target := *p.upstream
	target.Path, target.RawPath = r.URL.Path, r.URL.RawPath
	target.RawQuery = joinQuery(p.upstream.RawQuery, r.URL.RawQuery)
	header := http.Header{}
	for k, vs := range r.Header {
		if !hopHeaders[http.CanonicalHeaderKey(k)] {
			header[k] = vs
		}
	}
	ctx, cancel := context.WithTimeout(r.Context(), dialTimeout)
	defer cancel()
	it := interruptible{ctx: ctx}
	d := websocket.Dialer{
		HandshakeTimeout:  dialTimeout,
		WriteBufferPool:   relayWriteBuffers,
		Subprotocols:      websocket.Subprotocols(r),
		Proxy:             nil, // the chaos proxy is the only proxy in the way
		NetDialContext:    it.dialRelay,
		NetDialTLSContext: it.dialTLS(p.UpstreamTLS),
	}
	go func() { // Close ends a dial in flight
		select {
		case <-p.done:
			cancel()
		case <-ctx.Done():
		}
	}()
	ws, resp, err := d.DialContext(ctx, target.String(), header)
	if it.interrupted() {
		p.logf(n, "upstream handshake interrupted: %v", err)
		if ws != nil {
			ws.Close()
		}
		ws, resp, err = nil, nil, ctx.Err()
	}
	e := Entry{Attempt: n, Kind: KindUpDial, URL: target.RequestURI(), Note: target.RequestURI()}
	if resp != nil && err != nil {
		e.Status = resp.StatusCode
		e.Note += fmt.Sprintf(" refused %d", resp.StatusCode)
	} else if err != nil {
		e.Note += " failed: " + dialFailure(err)
		p.logf(n, "upstream dial: %v", err)
	}
	p.record(e)
	if err != nil {
		return nil, resp, fmt.Errorf("failed to dial upstream %s: %w", target.Redacted(), err)
	}
	return ws, resp, nil
}

// joinQuery appends the request's query to the upstream URL's own.
func joinQuery(base, req string) string {
	switch {
	case base == "":
		return req
	case req == "":
		return base
	}
	return base + "&" + req
}

// dialFailure names a dial error without its run-dependent details (ports,
// addresses), so transcripts replay.
func dialFailure(err error) string {
	var op *net.OpError
	var cert *tls.CertificateVerificationError
	var alert tls.AlertError
	var header tls.RecordHeaderError
	switch {
	case errors.As(err, &cert):
		return "TLS: upstream certificate not trusted"
	case errors.As(err, &alert):
		return "TLS: upstream refused the handshake: " + alert.Error()
	case errors.As(err, &header):
		return "TLS: upstream does not speak TLS"
	case errors.Is(err, context.DeadlineExceeded):
		return "timed out"
	case errors.Is(err, context.Canceled):
		return "cancelled"
	case errors.Is(err, websocket.ErrBadHandshake):
		return "bad handshake"
	case errors.As(err, &op):
		return op.Op + " " + strings.TrimPrefix(op.Err.Error(), op.Op+" ")
	}
	return "error"
}

// relayRefusal answers the client as the upstream answered the proxy: the
// upstream's status and Retry-After when it refused, 502 when it could not
// be reached.
func (p *Proxy) relayRefusal(w http.ResponseWriter, n int, resp *http.Response, err error) {
	if resp != nil && resp.StatusCode != http.StatusSwitchingProtocols {
		if ra := resp.Header.Get("Retry-After"); ra != "" {
			w.Header().Set("Retry-After", ra)
		}
		p.refuse(w, n, resp.StatusCode, "", "relayed from upstream", 0)
		return
	}
	p.refuse(w, n, http.StatusBadGateway, "", "upstream unreachable", 0)
	p.logf(n, "%v", err)
}

// door is the engine's handshake side, on this proxy.
func (p *Proxy) door() *link.Door {
	return &link.Door{Who: "wschaos proxy", Clock: p.Clock, Done: p.done, Closed: p.isClosed, Since: p.since,
		Record: p.record, Logf: p.logf}
}

// refuse answers the attempt with an HTTP status, and records it.
func (p *Proxy) refuse(w http.ResponseWriter, n, status int, fault, note string, retryAfter time.Duration) {
	p.door().Refuse(w, n, status, fault, note, retryAfter)
}
