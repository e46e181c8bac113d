package main

import (
	"context"
	"encoding/pem"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/wschaos/wschaos/internal/wstest"
)

// tlsEchoServer starts a gorilla echo server behind TLS and returns its
// wss:// URL and a PEM file of its certificate.
func tlsEchoServer(t *testing.T) (url, caFile string) {
	t.Helper()
	srv := wstest.StartEcho(t, true)
	caFile = filepath.Join(t.TempDir(), "ca.pem")
	b := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
	if err := os.WriteFile(caFile, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return "wss" + strings.TrimPrefix(srv.URL, "https") + "/ws", caFile
}

// dialThrough dials the proxy at url and returns the HTTP status of its
// answer, and the connection when it upgraded.
func dialThrough(t *testing.T, url string) (*websocket.Conn, int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	ws, resp, err := websocket.DefaultDialer.DialContext(ctx, url, nil)
	if resp == nil {
		t.Fatalf("dial %s: %v", url, err)
	}
	resp.Body.Close()
	if err != nil {
		return nil, resp.StatusCode
	}
	t.Cleanup(func() { ws.Close() })
	return ws, resp.StatusCode
}

func TestProxyUpstreamCAVerifiesATLSUpstream(t *testing.T) {
	upstream, caFile := tlsEchoServer(t)

	p, err := newProxyFromFlags([]string{"--upstream", upstream, "--upstream-ca", caFile})
	if err != nil {
		t.Fatal(err)
	}
	if err := p.StartErr(); err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	ws, status := dialThrough(t, p.URL)
	if ws == nil {
		t.Fatalf("dial through the proxy: HTTP %d, want an upgrade", status)
	}
	ws.SetReadDeadline(time.Now().Add(5 * time.Second))
	for _, msg := range []string{"hello", strings.Repeat("x", 70<<10)} {
		if err := ws.WriteMessage(websocket.TextMessage, []byte(msg)); err != nil {
			t.Fatal(err)
		}
		if _, got, err := ws.ReadMessage(); err != nil || string(got) != msg {
			t.Fatalf("echo of %d bytes: %d bytes, %v", len(msg), len(got), err)
		}
	}

	// Without the flag, the system's roots do not trust the certificate.
	p2, err := newProxyFromFlags([]string{"--upstream", upstream})
	if err != nil {
		t.Fatal(err)
	}
	if err := p2.StartErr(); err != nil {
		t.Fatal(err)
	}
	defer p2.Close()
	if _, status := dialThrough(t, p2.URL); status != http.StatusBadGateway {
		t.Errorf("without --upstream-ca: HTTP %d, want 502", status)
	}
}

func TestProxyUpstreamCAErrors(t *testing.T) {
	dir := t.TempDir()
	noCert := filepath.Join(dir, "empty.pem")
	os.WriteFile(noCert, []byte("not a certificate\n"), 0o600)
	missing := filepath.Join(dir, "none.pem")
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--upstream", "wss://h/", "--upstream-ca", missing}, "proxy: --upstream-ca: open " + missing + ": "},
		{[]string{"--upstream", "wss://h/", "--upstream-ca", noCert}, "proxy: --upstream-ca " + noCert + ": no PEM certificate in it"},
		{[]string{"--upstream", "ws://h/", "--upstream-ca", noCert}, "--upstream-ca needs a wss:// upstream"},
	} {
		if _, err := newProxyFromFlags(tc.args); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: got %v, want %q", tc.args, err, tc.want)
		}
	}
}
