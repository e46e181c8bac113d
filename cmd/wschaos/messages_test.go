package main

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// --upstream 127.0.0.1:19000 names a server as everything else does:
// the proxy takes ws:// and says so, rather than fail in url.Parse's
// words ("first path segment in URL cannot contain colon").
func TestProxyUpstreamWithoutSchemeIsTakenAsWS(t *testing.T) {
	p, err := newProxyFromFlags([]string{"--upstream", "127.0.0.1:19000/ws"})
	if err != nil {
		t.Fatal(err)
	}
	if p.Upstream != "ws://127.0.0.1:19000/ws" {
		t.Errorf("upstream %q", p.Upstream)
	}
	ctx, cancel := context.WithCancel(context.Background())
	out := &syncBuffer{}
	done := make(chan error, 1)
	go func() { done <- proxyUntil(ctx, []string{"--upstream", "127.0.0.1:19000"}, out) }()
	waitLine(t, context.Background(), out, " → ")
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "wschaos proxy: --upstream has no scheme: taking ws://127.0.0.1:19000\n") {
		t.Errorf("stderr:\n%s", out)
	}
}

// A faults file holding one object, not a list, says so and shows the
// shape, rather than "cannot unmarshal object into Go value of type
// []proxy.FaultSpec".
func TestProxyFaultsFileHoldingAnObject(t *testing.T) {
	f := filepath.Join(t.TempDir(), "faults.json")
	os.WriteFile(f, []byte(`  {"fault":"drop"}`), 0o600)
	_, err := newProxyFromFlags([]string{"--upstream", "ws://h/", "--faults", f})
	want := "proxy: " + f + ` holds one JSON object; a faults file is a list of fault specs: wrap it in [ ], e.g. [{"fault":"drop","select":{"type":"posted"}}]`
	if err == nil || err.Error() != want {
		t.Errorf("got %v\nwant %s", err, want)
	}
}

// A taken --control port says it is the control API's address, which
// flag to change, and exits 4; a taken --listen says its own.
func TestProxyPortTakenSaysWhichAddress(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	taken := ln.Addr().String()
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--control", taken}, "proxy: cannot listen on " + taken + ", the control API's address (--control): bind: address already in use"},
		{[]string{"--listen", taken}, "proxy: cannot listen on " + taken + ", the address clients connect to (--listen): bind: address already in use"},
	} {
		err := proxyUntil(context.Background(), append([]string{"--upstream", "ws://127.0.0.1:1/ws"}, tc.args...), &syncBuffer{})
		if exitCode(err) != exitListen || err == nil || !strings.HasPrefix(err.Error(), tc.want) {
			t.Errorf("proxy %q: exit %d, %v\nwant exit 4, %s", tc.args, exitCode(err), err, tc.want)
		}
	}
}

// A misspelt fault name in a faults file gets the nearest one.
func TestProxyFaultsFileDidYouMean(t *testing.T) {
	f := filepath.Join(t.TempDir(), "faults.json")
	os.WriteFile(f, []byte(`[{"fault":"swallow-pong"}]`), 0o600)
	_, err := newProxyFromFlags([]string{"--upstream", "ws://h/", "--faults", f})
	if err == nil || !strings.Contains(err.Error(), `fault [0] (did you mean "swallow-pongs"?): failed to build fault "swallow-pong"`) {
		t.Errorf("got %v", err)
	}
}
