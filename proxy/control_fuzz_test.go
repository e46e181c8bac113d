package proxy_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/wschaos/wschaos/proxy"
	"github.com/wschaos/wschaos/vclock"
)

// FuzzControlAPI sends the control API any method, path and body. Whatever
// it is sent, it must not panic, must answer 2xx or 4xx (a 4xx with an
// APIError that says what is wrong), and must keep serving: after each
// request it still resets, lists and reports status. The seed corpus in
// testdata/fuzz/FuzzControlAPI holds one request of each kind the API
// knows, good and bad.
func FuzzControlAPI(f *testing.F) {
	f.Add("POST", "/faults", []byte(`{"fault":"delay","args":["5s"],"select":{"dir":"server"}}`))
	f.Add("PUT", "/faults/1", []byte(`{"fault":"drop","select":{"every":2}}`))
	f.Add("DELETE", "/faults/1", []byte(nil))
	f.Add("GET", "/status", []byte(nil))
	// The proxy's listener is never dialled: the handler alone is under
	// test, and Start only sets the clock and the faults up.
	p := proxy.NewUnstartedServer("ws://127.0.0.1:1/ws")
	p.Clock = vclock.New()
	p.Start()
	f.Cleanup(p.Close)
	h := p.ControlHandler()

	f.Fuzz(func(t *testing.T, method, path string, body []byte) {
		// Read as the server reads it, so the handler gets only what
		// net/http would deliver (it answers the rest 400 itself). Sent as
		// a local tool sends it, so it gets past the guard.
		raw := fmt.Sprintf("%s %s HTTP/1.1\r\nHost: 127.0.0.1:1\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n", method, path, len(body))
		req, err := http.ReadRequest(bufio.NewReader(io.MultiReader(strings.NewReader(raw), bytes.NewReader(body))))
		if err != nil {
			t.Skip("net/http would not deliver this request")
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		checkAnswer(t, method+" "+path, rec)

		for _, after := range []struct {
			method, path string
			status       int
		}{{"POST", "/reset", http.StatusNoContent}, {"GET", "/faults", http.StatusOK}, {"GET", "/status", http.StatusOK}} {
			rec := httptest.NewRecorder()
			req := httptest.NewRequest(after.method, after.path, nil)
			req.Host = "localhost"
			h.ServeHTTP(rec, req)
			if rec.Code != after.status {
				t.Fatalf("after %s %q: %s %s answered %d %s; the API stopped serving", method, path, after.method, after.path, rec.Code, rec.Body)
			}
		}
	})
}

// checkAnswer fails t unless rec is a 2xx (with JSON when it has a body)
// or a 4xx whose JSON body names what is wrong.
func checkAnswer(t *testing.T, what string, rec *httptest.ResponseRecorder) {
	t.Helper()
	switch body := rec.Body.Bytes(); {
	case rec.Code >= 200 && rec.Code < 300:
		if len(body) > 0 && !json.Valid(body) {
			t.Fatalf("%s: %d with a body that is not JSON: %q", what, rec.Code, body)
		}
	case rec.Code >= 400 && rec.Code < 500:
		var ae proxy.APIError
		if err := json.Unmarshal(body, &ae); err != nil || ae.Error == "" || rec.Header().Get("Content-Type") != "application/json" {
			t.Fatalf("%s: %d without a JSON error (%s): %q", what, rec.Code, rec.Header().Get("Content-Type"), body)
		}
	default:
		t.Fatalf("%s: answered %d %q, want a 2xx or a 4xx", what, rec.Code, body)
	}
}
