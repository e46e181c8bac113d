package proxy_test

import (
	"context"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/wschaos/wschaos/internal/wstest"
)

// An upstream that accepts the connection and never answers the
// handshake must not hold the proxy: when the client gives up, the
// upstream handshake is dropped at once, not after the proxy's own dial
// timeout (10 s).
func TestAClientGivingUpEndsItsUpstreamHandshake(t *testing.T) {
	wstest.NoLeaks(t, patience)
	up := newBadUpstream(t, nil)
	p, _ := newProxy(t, up.wsURL())

	short, cancel := context.WithTimeout(ctx(t), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	if ws, _, err := websocket.DefaultDialer.DialContext(short, p.URL+"/hang", nil); err == nil {
		ws.Close()
		t.Fatal("a dial to an upstream that never answers succeeded")
	}
	waitFor(t, p.Transcript(), "#1 up-dial: /hang failed: cancelled")
	if took := time.Since(start); took >= patience {
		t.Errorf("the upstream handshake ended %v after the client gave up", took)
	}
	waitFor(t, p.Transcript(), "#1 refuse 502")
	relays(t, dial(t, p.URL, nil)) // and the proxy serves on
}
