package proxy_test

import (
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/wschaos/wschaos/internal/wstest"
	"github.com/wschaos/wschaos/proxy"
	"github.com/wschaos/wschaos/proxy/control"
)

// The server and the Go client are built against the one contract in
// api.go; this drives a real Set with the real client, end to end, so a
// shape that drifts on either side fails here.
func TestControlClientDrivesASet(t *testing.T) {
	wstest.NoLeaks(t, patience)
	up := newEcho(t)
	s, def := newSet(t, up.wsURL())
	tr := &http.Transport{}
	t.Cleanup(tr.CloseIdleConnections)
	root := control.New(s.ControlURL, &http.Client{Transport: tr, Timeout: patience})

	info, err := root.CreateProxy(ctx(t), proxy.ProxyConfig{Name: "api", Upstream: up.wsURL()})
	if err != nil || info.Name != "api" || !info.Enabled {
		t.Fatalf("CreateProxy: %+v, %v", info, err)
	}
	api := root.Proxy("api")
	if _, err := api.Add(ctx(t), proxy.FaultSpec{Fault: "swallow-pongs"}); err != nil {
		t.Fatal(err)
	}
	pr := dial(t, "ws://"+info.Listen+"/ws", nil)
	write(t, pr, "hi")
	readMsg(t, pr)
	if res, err := api.Cut(ctx(t), proxy.CutSpec{Kind: "code", Code: 4001, Reason: "test"}); err != nil || res.Cut != 1 {
		t.Errorf("Cut: %+v, %v", res, err)
	}
	readErr(t, pr)
	if err := api.Disable(ctx(t)); err != nil {
		t.Fatal(err)
	}
	st, err := api.Status(ctx(t))
	if err != nil || st.Enabled || st.Attempts != 1 || len(st.Connections) != 1 || st.Connections[0].OpenFor < 0 {
		t.Errorf("Status while disabled: %+v, %v", st, err)
	}
	if err := api.Enable(ctx(t)); err != nil {
		t.Fatal(err)
	}
	list, err := root.Proxies(ctx(t))
	if err != nil || len(list) != 2 || list[0].Name != "api" || len(list[0].Faults) != 1 || list[0].Faults[0].Note == "" || !strings.HasPrefix(def.URL, "ws://"+list[1].Listen) {
		t.Errorf("Proxies: %+v, %v", list, err)
	}
	if got, err := root.ProxyInfo(ctx(t), "api"); err != nil || got.Attempts != 1 {
		t.Errorf("ProxyInfo: %+v, %v", got, err)
	}
	if err := root.DeleteProxy(ctx(t), "api"); err != nil {
		t.Fatal(err)
	}
	var ce *control.Error
	if _, err := root.CreateProxy(ctx(t), proxy.ProxyConfig{Name: proxy.DefaultName, Upstream: up.wsURL()}); !errors.As(err, &ce) ||
		ce.Status != http.StatusConflict || ce.Field != "name" {
		t.Errorf("a taken name: %v, want a 409 naming the field", err)
	}
	if _, err := root.Proxy(proxy.DefaultName).Status(ctx(t)); err != nil {
		t.Errorf("the default's Status through the unprefixed endpoints: %v", err)
	}
}
