package proxy

import (
	"context"
	"crypto/tls"
	"net"
	"time"
)

// interruptible dials the upstream's TCP connection for gorilla's Dialer
// and lets the dial's context interrupt the handshake on it as well.
// gorilla's DialContext watches its context only while it connects; the
// handshake after that is bounded by the context's deadline alone, so
// without this, Close (or a client giving up) would wait out dialTimeout
// on an upstream that accepted and never answered.
type interruptible struct {
	// ctx is the dial's own context. Not the one dial is passed: gorilla
	// cancels that one as DialContext returns, open connection or not.
	ctx  context.Context
	stop func() bool // set by dial: disarms the interruption
}

// dial is Dialer.NetDialContext.
func (i *interruptible) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	nc, err := (&net.Dialer{}).DialContext(ctx, network, addr)
	if err != nil {
		return nil, err
	}
	i.stop = context.AfterFunc(i.ctx, func() {
		nc.SetDeadline(time.Unix(1, 0)) // in the past: every pending read and write fails now
	})
	return nc, nil
}

// dialRelay is Dialer.NetDialContext: the TCP connection, as the socket
// the relay will buffer, keeping what the handshake reads.
func (i *interruptible) dialRelay(ctx context.Context, network, addr string) (net.Conn, error) {
	nc, err := i.dial(ctx, network, addr)
	if err != nil {
		return nil, err
	}
	return &relayConn{Conn: nc, teeing: true}, nil
}

// dialTLS is Dialer.NetDialTLSContext, for a wss:// upstream: the relay
// buffers above TLS, so one flush is one run of TLS records, and the
// handshake's read-ahead is kept in the clear. config nil verifies the
// upstream's certificate against the system's roots.
func (i *interruptible) dialTLS(config *tls.Config) func(context.Context, string, string) (net.Conn, error) {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		nc, err := i.dial(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		cfg := &tls.Config{}
		if config != nil {
			cfg = config.Clone()
		}
		if cfg.ServerName == "" {
			host, _, err := net.SplitHostPort(addr)
			if err != nil {
				host = addr
			}
			cfg.ServerName = host
		}
		tc := tls.Client(nc, cfg)
		if err := tc.HandshakeContext(ctx); err != nil {
			nc.Close()
			return nil, err
		}
		return &relayConn{Conn: tc, teeing: true}, nil
	}
}

// interrupted disarms the interruption once the dial has returned, and
// reports whether it had already fired: the connection is then unusable,
// and the dial failed for the context's reason whatever gorilla says.
func (i *interruptible) interrupted() bool {
	return i.stop != nil && !i.stop()
}
