package proxy_test

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/wschaos/wschaos/internal/wstest"
	"github.com/wschaos/wschaos/proxy"
	"github.com/wschaos/wschaos/proxy/control"
	"github.com/wschaos/wschaos/vclock"
)

// call sends one control request with the given headers ("Host" sets the
// request's Host) and returns the status and the APIError of the answer.
func call(t *testing.T, method, url, body string, headers map[string]string) (int, proxy.APIError) {
	t.Helper()
	status, b := send(t, method, url, body, headers)
	var ae proxy.APIError
	json.Unmarshal(b, &ae)
	return status, ae
}

// send sends one control request with the given headers ("Host" sets the
// request's Host) and returns the status and the body.
func send(t *testing.T, method, url, body string, headers map[string]string) (int, []byte) {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx(t), method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range headers {
		if k == "Host" {
			req.Host = v
			continue
		}
		req.Header.Set(k, v)
	}
	hc := &http.Client{Timeout: patience}
	t.Cleanup(hc.CloseIdleConnections)
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

// The attack seen with a real browser: a page on another origin sends the
// API "simple" requests (text/plain, no preflight), and a page whose name
// was rebound to 127.0.0.1 reads /status. None of it may change or read
// anything.
func TestControlAPIRefusesABrowserPageOnAnotherOriginAndDNSRebinding(t *testing.T) {
	wstest.NoLeaks(t, patience)
	p, cc, _ := controlled(t, "ws://127.0.0.1:1/ws")
	if _, err := cc.Add(ctx(t), proxy.FaultSpec{Fault: "drop"}); err != nil {
		t.Fatal(err)
	}
	evil := map[string]string{"Origin": "https://evil.example", "Content-Type": "text/plain;charset=UTF-8"}

	status, ae := call(t, "POST", p.ControlURL+"/faults", `{"fault":"black-hole-after","args":["0s"]}`, evil)
	if status != 403 || ae.Field != "Origin" || !strings.Contains(ae.Error, `"https://evil.example" is not the API's own`) {
		t.Errorf("POST /faults from a foreign origin: %d %+v, want 403 naming the Origin", status, ae)
	}
	status, ae = call(t, "POST", p.ControlURL+"/reset", "", evil)
	if status != 403 || ae.Field != "Origin" {
		t.Errorf("POST /reset from a foreign origin: %d %+v, want 403", status, ae)
	}
	status, ae = call(t, "GET", p.ControlURL+"/status", "", map[string]string{"Host": "rebind.attacker.example"})
	if status != 403 || ae.Field != "Host" || !strings.Contains(ae.Error, "rebind.attacker.example") {
		t.Errorf("GET /status with a rebound Host: %d %+v, want 403 naming the Host", status, ae)
	}
	status, ae = call(t, "GET", p.ControlURL+"/status", "", map[string]string{"Host": "rebind.attacker.example:" + port(p.ControlURL)})
	if status != 403 || ae.Field != "Host" {
		t.Errorf("GET /status with a rebound Host and the port: %d %+v, want 403", status, ae)
	}
	status, ae = call(t, "GET", p.ControlURL+"/status", "", map[string]string{"Sec-Fetch-Site": "cross-site"})
	if status != 403 || ae.Field != "Sec-Fetch-Site" {
		t.Errorf("GET /status from another site: %d %+v, want 403", status, ae)
	}
	status, _ = call(t, "GET", p.ControlURL+"/status", "", map[string]string{"Origin": "null"})
	if status != 403 {
		t.Errorf("GET /status from a sandboxed page (Origin null): %d, want 403", status)
	}

	// Nothing was installed or removed.
	list, err := cc.List(ctx(t))
	if err != nil || len(list) != 1 || list[0].Fault != "drop" {
		t.Errorf("faults after the attack = %+v, %v; want the one drop", list, err)
	}

	// What a local tool sends is answered: no Origin or its own, a
	// loopback name, any port.
	for _, h := range []map[string]string{
		nil,
		{"Origin": p.ControlURL},
		{"Host": "localhost:" + port(p.ControlURL)},
		{"Host": "LOCALHOST."},
		{"Host": "[::1]:9"},
		{"Host": "127.0.0.2"},
		{"Sec-Fetch-Site": "same-origin"},
	} {
		if status, ae := call(t, "GET", p.ControlURL+"/status", "", h); status != 200 {
			t.Errorf("GET /status with %v: %d %+v, want 200", h, status, ae)
		}
	}
}

// A write must be application/json: a web page can send text/plain,
// form data and multipart without a preflight, but not that.
func TestControlAPIWantsJSONWrites(t *testing.T) {
	wstest.NoLeaks(t, patience)
	p, cc, _ := controlled(t, "ws://127.0.0.1:1/ws")
	spec := `{"fault":"drop"}`
	for _, ct := range []string{"", "text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", "application/jsonx"} {
		status, ae := call(t, "POST", p.ControlURL+"/faults", spec, map[string]string{"Content-Type": ct})
		if status != 415 || ae.Field != "Content-Type" || !strings.Contains(ae.Error, "want application/json") {
			t.Errorf("POST /faults as %q: %d %+v, want 415 naming application/json", ct, status, ae)
		}
		status, _ = call(t, "PUT", p.ControlURL+"/faults/1", spec, map[string]string{"Content-Type": ct})
		if status != 415 {
			t.Errorf("PUT /faults/1 as %q: %d, want 415", ct, status)
		}
	}
	status, ae := call(t, "POST", p.ControlURL+"/reset", "", map[string]string{"Content-Type": "text/plain"})
	if status != 415 {
		t.Errorf("POST /reset as text/plain: %d %+v, want 415", status, ae)
	}
	if list, _ := cc.List(ctx(t)); len(list) != 0 {
		t.Errorf("faults installed: %+v", list)
	}
	if status, ae := call(t, "POST", p.ControlURL+"/faults", spec, map[string]string{"Content-Type": "application/json; charset=utf-8"}); status != 201 {
		t.Errorf("POST /faults as JSON with a charset: %d %+v, want 201", status, ae)
	}
	if status, ae := call(t, "POST", p.ControlURL+"/reset", "", nil); status != 204 {
		t.Errorf("POST /reset with no body: %d %+v, want 204", status, ae)
	}
}

// With ControlToken set, every request needs it, even from loopback.
func TestControlTokenIsRequiredOfEveryRequest(t *testing.T) {
	wstest.NoLeaks(t, patience)
	p := proxy.NewUnstartedServer("ws://127.0.0.1:1/ws")
	p.Clock, p.ControlAddr, p.ControlToken = vclock.New(), "127.0.0.1:0", "s3cret"
	p.Start()
	t.Cleanup(p.Close)
	for _, auth := range []string{"", "Bearer", "Bearer s3cre", "Bearer s3cret2", "Basic czNjcmV0", "bearer s3cret"} {
		for _, path := range []string{"/status", "/faults"} {
			status, ae := call(t, "GET", p.ControlURL+path, "", map[string]string{"Authorization": auth})
			if status != 401 || ae.Field != "Authorization" || !strings.Contains(ae.Error, "Bearer TOKEN") {
				t.Errorf("GET %s with Authorization %q: %d %+v, want 401", path, auth, status, ae)
			}
		}
	}
	if status, _ := call(t, "GET", p.ControlURL+"/status", "", map[string]string{"Authorization": "Bearer s3cret"}); status != 200 {
		t.Errorf("with the token: %d, want 200", status)
	}
	tr := &http.Transport{}
	t.Cleanup(tr.CloseIdleConnections)
	cc := control.New(p.ControlURL, &http.Client{Transport: tr, Timeout: patience})
	var ce *control.Error
	if _, err := cc.Add(ctx(t), proxy.FaultSpec{Fault: "drop"}); !errors.As(err, &ce) || ce.Status != 401 {
		t.Errorf("client without the token: %v, want HTTP 401", err)
	}
	cc.Token = "s3cret"
	if _, err := cc.Add(ctx(t), proxy.FaultSpec{Fault: "drop"}); err != nil {
		t.Errorf("client with the token: %v", err)
	}
}

// Bound to every interface, the API answers a request that names this
// machine by any IP (which no rebinding can forge), but not by a name.
func TestControlAPIBoundEverywhereAnswersIPHostsOnly(t *testing.T) {
	wstest.NoLeaks(t, patience)
	p := proxy.NewUnstartedServer("ws://127.0.0.1:1/ws")
	p.Clock, p.ControlAddr, p.ControlToken = vclock.New(), "0.0.0.0:0", "t"
	p.Start()
	t.Cleanup(p.Close)
	url := "http://127.0.0.1:" + port(p.ControlURL)
	auth := "Bearer t"
	if status, ae := call(t, "GET", url+"/status", "", map[string]string{"Host": "192.0.2.7:80", "Authorization": auth}); status != 200 {
		t.Errorf("an IP Host: %d %+v, want 200", status, ae)
	}
	if status, _ := call(t, "GET", url+"/status", "", map[string]string{"Host": "rebind.attacker.example", "Authorization": auth}); status != 403 {
		t.Errorf("a name Host: %d, want 403", status)
	}
}

func TestBeyondLoopback(t *testing.T) {
	for addr, want := range map[string]bool{
		"127.0.0.1:0": false, "[::1]:9": false, "localhost:9": false, "127.1.2.3:9": false,
		":19011": true, "0.0.0.0:1": true, "[::]:1": true, "192.168.1.5:1": true, "myhost:1": true,
	} {
		if got := proxy.BeyondLoopback(addr); got != want {
			t.Errorf("BeyondLoopback(%q) = %v, want %v", addr, got, want)
		}
	}
}

// port is the port of a base URL "http://host:port".
func port(base string) string { return base[strings.LastIndex(base, ":")+1:] }
