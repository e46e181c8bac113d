package fakeserver_test

import (
	"testing"

	"github.com/wschaos/wschaos/internal/link/linktest"
	"github.com/wschaos/wschaos/internal/wstest"
	"github.com/wschaos/wschaos/profile"
)

// Bad input from one client must cost that client its connection, with a
// clear close code or HTTP status, and nothing else: a healthy client
// connected before it keeps being served, new clients still connect, the
// transcript keeps every entry it had, and the bad connection is in it
// with what was wrong.

func TestBadFramesCloseTheirConnectionWithTheRightCodeAndNothingElse(t *testing.T) {
	wstest.NoLeaks(t, patience)
	// The fake server answers a framing error with a close of its own.
	for _, tc := range append(linktest.CommonBadFrames(1<<20, "server"), []linktest.FrameCase{
		linktest.Frame("reserved bits", wstest.Frame(0xf1, []byte("a"), true), 1002, "close 1002 by server: websocket: RSV"),
		linktest.Frame("a continuation of nothing", wstest.Frame(0x80, []byte("a"), true), 1002, "close 1002 by server: websocket: continuation after FIN"),
		linktest.Frame("a close reason that is not UTF-8", wstest.Frame(0x88, []byte{0x03, 0xe8, 0xff}, true), 1002, "close 1002 by server: websocket: invalid utf8 payload in close frame"),
	}...) {
		t.Run(tc.Name, func(t *testing.T) {
			s, _ := newServer(t, profile.QueueProfile())
			linktest.BadFrame(t, subject(s), tc.Send, tc.Code, tc.Line, nil)
		})
	}
}

func TestBadHandshakesAreAnsweredWithAnHTTPErrorAndRecorded(t *testing.T) {
	wstest.NoLeaks(t, patience)
	for _, tc := range append(linktest.CommonBadHandshakes(), []linktest.HandshakeCase{
		linktest.Case("a request line without a version", "GET /ws\r\n\r\n",
			"HTTP/1.1 400 Bad Request", "#- refuse 400: not an HTTP request the server can read"),
		linktest.Case("an upgrade of an unknown version", "GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"+
			"Sec-WebSocket-Version: 7\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n",
			"HTTP/1.1 400 Bad Request", "#2 refuse 400: not upgraded: websocket: unsupported version"),
		linktest.Case("an upgrade without a key", "GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"+
			"Sec-WebSocket-Version: 13\r\n\r\n",
			"HTTP/1.1 400 Bad Request", "#2 refuse 400: not upgraded: websocket: not a websocket handshake"),
	}...) {
		t.Run(tc.Name, func(t *testing.T) {
			s, _ := newServer(t, profile.QueueProfile())
			linktest.BadHandshake(t, subject(s), tc.Send, tc.Status, tc.Line, nil)
		})
	}
}
