package main

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"
)

// runProxyFor starts `wschaos proxy args` and returns its stderr and the
// control API's URL, once it has said it.
func runProxyFor(t *testing.T, args ...string) (*syncBuffer, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	out := &syncBuffer{}
	done := make(chan error, 1)
	go func() { done <- proxyUntil(ctx, append([]string{"--upstream", "ws://127.0.0.1:1/ws"}, args...), out) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("proxy: %v", err)
		}
	})
	line := waitLine(t, ctx, out, "control API at ")
	return out, strings.TrimSpace(line[strings.Index(line, "http://"):])
}

// get sends GET url/status with auth as Authorization, as a local tool
// would, and returns the status.
func get(t *testing.T, base, auth string) int {
	t.Helper()
	base = "http://127.0.0.1:" + base[strings.LastIndex(base, ":")+1:]
	req, _ := http.NewRequest("GET", base+"/status", nil)
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	hc := &http.Client{Timeout: 5 * time.Second}
	defer hc.CloseIdleConnections()
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// --control beyond loopback was bound with no word: anyone on the network
// could change the faults. Now it needs a token, or --control-insecure,
// and either way stderr says so at start.
func TestProxyControlBeyondLoopbackNeedsATokenAndWarns(t *testing.T) {
	t.Setenv(controlTokenEnv, "")
	for _, addr := range []string{":0", "0.0.0.0:0", "[::]:0"} {
		_, err := newProxyFromFlags([]string{"--upstream", "ws://127.0.0.1:1/ws", "--control", addr})
		if err == nil || !strings.Contains(err.Error(), "reachable from other hosts: give --control-token TOKEN (or $WSCHAOS_CONTROL_TOKEN), or --control-insecure") {
			t.Errorf("--control %s without a token: %v, want a refusal naming --control-token and --control-insecure", addr, err)
		}
	}

	out, url := runProxyFor(t, "--control", "0.0.0.0:0", "--control-insecure")
	if !strings.Contains(out.String(), "WARNING: the control API on 0.0.0.0:0 is reachable from other hosts WITHOUT A TOKEN") {
		t.Errorf("no warning for an insecure bind:\n%s", out)
	}
	if s := get(t, url, ""); s != 200 {
		t.Errorf("insecure: GET /status = %d, want 200", s)
	}

	out, url = runProxyFor(t, "--control", "0.0.0.0:0", "--control-token", "s3cret")
	if !strings.Contains(out.String(), "WARNING: the control API on 0.0.0.0:0 is reachable from other hosts; every request must send Authorization: Bearer") ||
		strings.Contains(out.String(), "s3cret") {
		t.Errorf("the warning for a bind with a token (which it must not print):\n%s", out)
	}
	if s := get(t, url, ""); s != 401 {
		t.Errorf("without the token: GET /status = %d, want 401", s)
	}
	if s := get(t, url, "Bearer s3cret"); s != 200 {
		t.Errorf("with the token: GET /status = %d, want 200", s)
	}
}

// The token may come from the environment, so it is not in ps; on
// loopback there is nothing to warn about.
func TestProxyControlTokenFromTheEnvironment(t *testing.T) {
	t.Setenv(controlTokenEnv, "from-env")
	out, url := runProxyFor(t, "--control", "127.0.0.1:0")
	if strings.Contains(out.String(), "WARNING") {
		t.Errorf("a warning for a loopback bind:\n%s", out)
	}
	if s := get(t, url, ""); s != 401 {
		t.Errorf("without the token: %d, want 401", s)
	}
	if s := get(t, url, "Bearer from-env"); s != 200 {
		t.Errorf("with the token from %s: %d, want 200", controlTokenEnv, s)
	}
}

// serve on every interface says so at start; on loopback it does not.
func TestServeWarnsWhenReachableFromOtherHosts(t *testing.T) {
	for addr, warn := range map[string]bool{"0.0.0.0:0": true, "127.0.0.1:0": false} {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		out := &syncBuffer{}
		done := make(chan error, 1)
		go func() { done <- serve(ctx, []string{"--addr", addr, "--calm", "--emit", "0"}, out, &syncBuffer{}) }()
		waitLine(t, ctx, out, "judging reconnect waits")
		cancel()
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		if got := strings.Contains(out.String(), "WARNING: --addr "+addr+" is reachable from other hosts"); got != warn {
			t.Errorf("serve --addr %s: warned %v, want %v:\n%s", addr, got, warn, out)
		}
	}
}
