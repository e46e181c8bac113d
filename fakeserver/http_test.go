package fakeserver_test

import (
	"net/http"
	"testing"
)

// httpGet makes a plain request without keep-alive, so no transport
// goroutine outlives the test.
func httpGet(t *testing.T, url string) (int, error) {
	t.Helper()
	tr := &http.Transport{DisableKeepAlives: true}
	defer tr.CloseIdleConnections()
	req, err := http.NewRequestWithContext(ctx(t), http.MethodGet, url, nil)
	if err != nil {
		return 0, err
	}
	resp, err := tr.RoundTrip(req)
	if err != nil {
		return 0, err
	}
	resp.Body.Close()
	return resp.StatusCode, nil
}
