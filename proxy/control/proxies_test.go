package control_test

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wschaos/wschaos/proxy"
	"github.com/wschaos/wschaos/proxy/control"
)

// standIn answers the control API's proxy-level endpoints as api.go
// promises them, for the endpoints the real handler may not have yet, and
// records every request as "METHOD PATH BODY".
type standIn struct {
	*httptest.Server
	mu   sync.Mutex
	seen []string
}

func newStandIn(t *testing.T) *standIn {
	s := &standIn{}
	info := proxy.ProxyInfo{Name: "web", Listen: "127.0.0.1:9100", Upstream: "ws://127.0.0.1:8080/ws", Enabled: true, Faults: []proxy.FaultInfo{}}
	mux := http.NewServeMux()
	answer := func(status int, v any) http.HandlerFunc {
		return func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(status)
			if v != nil {
				json.NewEncoder(w).Encode(v)
			}
		}
	}
	for _, prefix := range []string{"", "/proxies/{name}"} {
		mux.HandleFunc("POST "+prefix+"/cut", answer(http.StatusOK, proxy.CutResult{Cut: 2}))
		mux.HandleFunc("POST "+prefix+"/enable", answer(http.StatusNoContent, nil))
		mux.HandleFunc("POST "+prefix+"/disable", answer(http.StatusNoContent, nil))
	}
	mux.HandleFunc("GET /proxies", answer(http.StatusOK, proxy.ProxyList{Proxies: []proxy.ProxyInfo{info}}))
	mux.HandleFunc("POST /proxies", answer(http.StatusCreated, info))
	mux.HandleFunc("GET /proxies/web", answer(http.StatusOK, info))
	mux.HandleFunc("DELETE /proxies/web", answer(http.StatusNoContent, nil))
	mux.HandleFunc("/", answer(http.StatusNotFound, proxy.APIError{Error: "no such proxy", Field: "name"}))
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		s.mu.Lock()
		s.seen = append(s.seen, strings.TrimSpace(r.Method+" "+r.URL.EscapedPath()+" "+strings.TrimSpace(string(body))))
		s.mu.Unlock()
		if len(body) > 0 && r.Header.Get("Content-Type") != "application/json" {
			answer(http.StatusUnsupportedMediaType, proxy.APIError{Error: "want application/json", Field: "Content-Type"})(w, r)
			return
		}
		mux.ServeHTTP(w, r)
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *standIn) requests() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.seen...)
}

// Each new method sends the request api.go lists, under /proxies/{name}
// for a named proxy and unprefixed for the default one, and decodes the
// answer.
func TestClientSpeaksTheProxyLevelEndpoints(t *testing.T) {
	s := newStandIn(t)
	c := control.New(s.URL+"/", nil)

	if res, err := c.Proxy("web").Cut(ctx(t), proxy.CutSpec{Kind: "code", Code: 4000}); err != nil || res.Cut != 2 {
		t.Errorf("Cut: %+v, %v", res, err)
	}
	if _, err := c.Proxy(proxy.DefaultName).Cut(ctx(t), proxy.CutSpec{Kind: "rst"}); err != nil {
		t.Errorf("Cut on the default proxy: %v", err)
	}
	if err := c.Disable(ctx(t)); err != nil {
		t.Errorf("Disable: %v", err)
	}
	if err := c.Proxy("web").Enable(ctx(t)); err != nil {
		t.Errorf("Enable: %v", err)
	}
	if list, err := c.Proxies(ctx(t)); err != nil || len(list) != 1 || list[0].Name != "web" || !list[0].Enabled {
		t.Errorf("Proxies: %+v, %v", list, err)
	}
	off := false
	cfg := proxy.ProxyConfig{Name: "web", Upstream: "ws://127.0.0.1:8080/ws", Enabled: &off,
		Faults: []proxy.FaultSpec{{Fault: "swallow-pongs"}}}
	if info, err := c.Proxy("elsewhere").CreateProxy(ctx(t), cfg); err != nil || info.Listen != "127.0.0.1:9100" {
		t.Errorf("CreateProxy: %+v, %v", info, err)
	}
	if info, err := c.ProxyInfo(ctx(t), "web"); err != nil || info.Upstream != "ws://127.0.0.1:8080/ws" {
		t.Errorf("ProxyInfo: %+v, %v", info, err)
	}
	if err := c.DeleteProxy(ctx(t), "web"); err != nil {
		t.Errorf("DeleteProxy: %v", err)
	}
	var ce *control.Error
	if err := c.DeleteProxy(ctx(t), "a/b"); !errors.As(err, &ce) || ce.Status != 404 || ce.Field != "name" {
		t.Errorf("DeleteProxy of an unknown one: %v, want the API's 404 naming the field", err)
	}

	want := []string{
		`POST /proxies/web/cut {"kind":"code","code":4000}`,
		`POST /cut {"kind":"rst"}`,
		`POST /disable`,
		`POST /proxies/web/enable`,
		`GET /proxies`,
		`POST /proxies {"name":"web","upstream":"ws://127.0.0.1:8080/ws","enabled":false,"faults":[{"fault":"swallow-pongs"}]}`,
		`GET /proxies/web`,
		`DELETE /proxies/web`,
		`DELETE /proxies/a%2Fb`,
	}
	if got := s.requests(); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("requests:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// Answer sees each success body as the API sent it, which a tool's --json
// prints; a failure is not an answer to print.
func TestClientHandsAnswersOverAsSent(t *testing.T) {
	s := newStandIn(t)
	c := control.New(s.URL, nil)
	var got []string
	c.Answer = func(b []byte) { got = append(got, string(b)) }
	c.Proxy("web").Cut(ctx(t), proxy.CutSpec{Kind: "fin"})
	c.Enable(ctx(t))
	c.DeleteProxy(ctx(t), "nope")
	if len(got) != 2 || got[0] != "{\"cut\":2}\n" || got[1] != "" {
		t.Errorf("answers %q, want the cut's JSON then the enable's empty body", got)
	}
}

// A scoped client drives the real handler's per-proxy endpoints the same
// way: the default proxy's name addresses the unprefixed ones.
func TestScopedClientDrivesARealProxy(t *testing.T) {
	p := proxy.NewUnstartedServer("ws://127.0.0.1:1/ws")
	p.ControlAddr = "127.0.0.1:0"
	p.ControlToken = "s3cret"
	p.Start()
	t.Cleanup(p.Close)
	tr := &http.Transport{}
	t.Cleanup(tr.CloseIdleConnections)
	root := control.New(p.ControlURL, &http.Client{Transport: tr})
	root.Token = "s3cret"
	var answers []string
	root.Answer = func(b []byte) { answers = append(answers, strings.TrimSpace(string(b))) }
	c := root.Proxy(proxy.DefaultName)
	added, err := c.Add(ctx(t), proxy.FaultSpec{Fault: "swallow-pongs"})
	if err != nil {
		t.Fatal(err)
	}
	if list, err := c.List(ctx(t)); err != nil || len(list) != 1 || list[0].ID != added.ID {
		t.Errorf("List: %+v, %v", list, err)
	}
	if len(answers) != 2 || !strings.HasPrefix(answers[0], `{"id":1,"fault":"swallow-pongs"`) {
		t.Errorf("answers %q", answers)
	}
	root.Token = "wrong"
	var ce *control.Error
	if _, err := root.Proxy("").Status(ctx(t)); !errors.As(err, &ce) || ce.Status != http.StatusUnauthorized {
		t.Errorf("a wrong token: %v, want 401", err)
	}
}

// Status reads a connection's durations as numbers of milliseconds under
// names ending _ms, as older proxies' Go duration strings, and as
// proxy.Duration's own JSON, whichever that is.
func TestStatusReadsDurationsInEitherForm(t *testing.T) {
	own, _ := json.Marshal(proxy.Status{Attempts: 1, Open: 1, Connections: []proxy.ConnStatus{{
		Attempt: 1, URL: "/ws", State: "open",
		OpenedAt: proxy.Duration(1500 * time.Millisecond), OpenFor: proxy.Duration(2250 * time.Millisecond),
		ClientToUpstream: proxy.DirStatus{Frames: 3, Bytes: 42},
	}}})
	for _, tc := range []struct{ name, body string }{
		{"milliseconds", `{"attempts":1,"open":1,"connections":[{"attempt":1,"url":"/ws","state":"open","opened_at_ms":1500,"open_for_ms":2250.0,"client_to_upstream":{"frames":3,"bytes":42},"upstream_to_client":{}}]}`},
		{"strings", `{"attempts":1,"open":1,"connections":[{"attempt":1,"url":"/ws","state":"open","opened_at":"1.5s","open_for":"2.25s","client_to_upstream":{"frames":3,"bytes":42},"upstream_to_client":{}}]}`},
		{"proxy.Duration's own", string(own)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, tc.body) }))
			defer srv.Close()
			st, err := control.New(srv.URL, nil).Status(ctx(t))
			if err != nil {
				t.Fatal(err)
			}
			if len(st.Connections) != 1 {
				t.Fatalf("status %+v", st)
			}
			cs := st.Connections[0]
			if cs.OpenedAt != proxy.Duration(1500*time.Millisecond) || cs.OpenFor != proxy.Duration(2250*time.Millisecond) || cs.ClosedAt != 0 ||
				cs.State != "open" || cs.ClientToUpstream.Bytes != 42 || st.Attempts != 1 {
				t.Errorf("status %+v", cs)
			}
		})
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		io.WriteString(w, `{"connections":[{"opened_at_ms":"soon"}]}`)
	}))
	defer srv.Close()
	if _, err := control.New(srv.URL, nil).Status(ctx(t)); err == nil || !strings.Contains(err.Error(), `connections[0]: opened_at_ms: "soon" is not a number of milliseconds`) {
		t.Errorf("a bad duration: %v", err)
	}
}
