package proxy_test

import (
	"context"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/wschaos/wschaos/internal/wstest"
	"github.com/wschaos/wschaos/profile"
	"github.com/wschaos/wschaos/proxy"
	"github.com/wschaos/wschaos/transcript"
	"github.com/wschaos/wschaos/vclock"
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

// With a profile whose client reports its last close code in the connect
// query, the proxy's dial entry carries the code as the fake server's
// does; a malformed one is left for the upstream to judge.
func TestDialEntryCarriesTheReportedCode(t *testing.T) {
	up := newEcho(t)
	clock := vclock.New()
	p := proxy.NewUnstartedServer(up.wsURL())
	p.Clock, p.Profile = clock, profile.MattermostProfile()
	p.Start()
	t.Cleanup(p.Close)

	relays(t, dial(t, p.URL+"?disconnect_err_code=4000", nil))
	waitFor(t, p.Transcript(), "#1 dial /?disconnect_err_code=4000 (reports 4000)")
	relays(t, dial(t, p.URL+"?disconnect_err_code=x", nil))
	waitFor(t, p.Transcript(), "#2 open")
	for _, e := range p.Transcript().Entries() {
		if e.Kind == transcript.KindDial && e.Attempt == 1 && e.ReportedCode != profile.StatusPingTimeout {
			t.Errorf("dial #1 ReportedCode = %d, want 4000", e.ReportedCode)
		}
		if e.Kind == transcript.KindDial && e.Attempt == 2 && e.ReportedCode != 0 {
			t.Errorf("dial #2 ReportedCode = %d, want 0 for a malformed code", e.ReportedCode)
		}
	}
}
