package control_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/wschaos/wschaos/proxy"
	"github.com/wschaos/wschaos/proxy/control"
)

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return c
}

// The client against a real proxy's API: every call, end to end.
func TestClientDrivesARealProxy(t *testing.T) {
	p := proxy.NewUnstartedServer("ws://127.0.0.1:1/ws")
	p.ControlAddr = "127.0.0.1:0"
	p.Start()
	t.Cleanup(p.Close)
	tr := &http.Transport{}
	t.Cleanup(tr.CloseIdleConnections)
	c := control.New(p.ControlURL, &http.Client{Transport: tr})

	added, err := c.Add(ctx(t), proxy.FaultSpec{Fault: "drop", Select: map[string]string{"dir": "server"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Update(ctx(t), added.ID, proxy.FaultSpec{Fault: "delay", Args: []string{"2s"}}); err != nil {
		t.Fatal(err)
	}
	list, err := c.List(ctx(t))
	if err != nil || len(list) != 1 || !strings.Contains(list[0].Fault, "delay") {
		t.Fatalf("list after update: %+v, %v", list, err)
	}
	if err := c.Remove(ctx(t), added.ID); err != nil {
		t.Fatal(err)
	}
	var ce *control.Error
	if err := c.Remove(ctx(t), added.ID); !errors.As(err, &ce) || ce.Status != http.StatusNotFound {
		t.Errorf("removing it twice: %v, want a 404 *control.Error", err)
	}
	if _, err := c.Add(ctx(t), proxy.FaultSpec{Fault: "drop", Select: map[string]string{"dir": "sideways"}}); !errors.As(err, &ce) ||
		ce.Status != http.StatusBadRequest || ce.Field != "select.dir" {
		t.Errorf("a bad spec: %v, want a 400 naming select.dir", err)
	}
	if err := c.Reset(ctx(t)); err != nil {
		t.Fatal(err)
	}
	if st, err := c.Status(ctx(t)); err != nil || st.Open != 0 {
		t.Errorf("status: %+v, %v", st, err)
	}
}

// Answers that are not the API's (a wrong URL, a proxy in the way) become
// errors that say what came back, briefly, instead of a decoding puzzle.
func TestClientReportsAnswersThatAreNotTheAPIs(t *testing.T) {
	page := "<html>" + strings.Repeat("x", 10_000) + "</html>"
	for _, tc := range []struct {
		name   string
		status int
		body   string
		want   string
	}{
		{"an HTML error page", http.StatusNotFound, page, "HTTP 404: <html>xxx"},
		{"an empty error", http.StatusBadGateway, "", "HTTP 502: Bad Gateway"},
		{"a success that is not JSON", http.StatusOK, page, "the answer is not the API's JSON"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
				w.WriteHeader(tc.status)
				w.Write([]byte(tc.body))
			}))
			defer srv.Close()
			_, err := control.New(srv.URL, nil).List(ctx(t))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want it to contain %q", err, tc.want)
			}
			var ce *control.Error
			if tc.status >= 300 && (!errors.As(err, &ce) || !ce.NotAPI) {
				t.Errorf("%v: want a *control.Error with NotAPI", err)
			}
			if len(err.Error()) > 400 {
				t.Errorf("the error quotes %d bytes of the answer", len(err.Error()))
			}
		})
	}
}
