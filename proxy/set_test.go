package proxy_test

import (
	"encoding/json"
	"net"
	"strings"
	"testing"

	"github.com/wschaos/wschaos/internal/wstest"
	"github.com/wschaos/wschaos/proxy"
)

// newSet starts a set with its control API and the proxy named default
// in front of upstream.
func newSet(t *testing.T, upstream string) (*proxy.Set, *proxy.Proxy) {
	t.Helper()
	s := proxy.NewSet()
	s.ControlAddr = "127.0.0.1:0"
	def := proxy.NewUnstartedServer(upstream)
	if err := s.Add(proxy.DefaultName, def); err != nil {
		t.Fatal(err)
	}
	s.Start()
	t.Cleanup(s.Close)
	return s, def
}

// One upstream per process was all there was; Toxiproxy has many named
// proxies in one daemon, made through the API. A set serves each under
// /proxies/{name}, and the default one unprefixed too.
func TestSetServesNamedProxiesBesideTheDefault(t *testing.T) {
	wstest.NoLeaks(t, patience)
	up := newEcho(t)
	s, def := newSet(t, up.wsURL())

	status, body := api(t, "POST", s.ControlURL+"/proxies", `{"name":"api","upstream":"`+up.wsURL()+`","faults":[{"fault":"drop","select":{"dir":"server"}}]}`)
	var info proxy.ProxyInfo
	json.Unmarshal([]byte(body), &info)
	if status != 201 || info.Name != "api" || !info.Enabled || len(info.Faults) != 1 || strings.HasSuffix(info.Listen, ":0") {
		t.Fatalf("POST /proxies = %d %s", status, body)
	}
	silent := dial(t, "ws://"+info.Listen+"/ws", nil)
	write(t, silent, "hi")
	nothing(t, silent) // api drops the upstream's frames
	echoed := dial(t, def.URL+"/ws", nil)
	write(t, echoed, "hi")
	if got := readMsg(t, echoed); got != "hi" {
		t.Errorf("the default proxy relayed %q, want the echo", got)
	}

	status, body = api(t, "GET", s.ControlURL+"/proxies", "")
	var list proxy.ProxyList
	json.Unmarshal([]byte(body), &list)
	if status != 200 || len(list.Proxies) != 2 || list.Proxies[0].Name != "api" || list.Proxies[1].Name != "default" ||
		list.Proxies[0].Attempts != 1 || list.Proxies[1].Open != 1 {
		t.Errorf("GET /proxies = %d %s", status, body)
	}
	for _, path := range []string{"/faults", "/proxies/default/faults"} {
		if status, body := api(t, "GET", s.ControlURL+path, ""); status != 200 || strings.TrimSpace(body) != `{"faults":[]}` {
			t.Errorf("GET %s = %d %s, want the default's no faults", path, status, body)
		}
	}
	if status, body := api(t, "POST", s.ControlURL+"/proxies/api/cut", `{"kind":"rst"}`); status != 200 || strings.TrimSpace(body) != `{"cut":1}` {
		t.Errorf("POST /proxies/api/cut = %d %s", status, body)
	}
	readErr(t, silent)
	if status, body := api(t, "DELETE", s.ControlURL+"/proxies/api/faults/1", ""); status != 204 {
		t.Errorf("DELETE /proxies/api/faults/1 = %d %s", status, body)
	}
	if status, body := api(t, "DELETE", s.ControlURL+"/proxies/api", ""); status != 204 {
		t.Errorf("DELETE /proxies/api = %d %s", status, body)
	}
	if status, body := api(t, "GET", s.ControlURL+"/proxies/api/status", ""); status != 404 || !strings.Contains(body, `no proxy named \"api\" (proxies: default)`) {
		t.Errorf("GET a removed proxy's status = %d %s", status, body)
	}
	if _, err := net.Dial("tcp", info.Listen); err == nil {
		t.Errorf("a removed proxy still listens on %s", info.Listen)
	}
}

func TestSetRefusesBadNamesTakenNamesAndTakenPorts(t *testing.T) {
	up := newEcho(t)
	s, _ := newSet(t, up.wsURL())
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	okUp := `"upstream":"` + up.wsURL() + `"`
	for _, tc := range []struct {
		body   string
		status int
		field  string
		says   string
	}{
		{`{` + okUp + `}`, 400, "name", "missing"},
		{`{"name":"a/b",` + okUp + `}`, 400, "name", "want letters, digits"},
		{`{"name":"default",` + okUp + `}`, 409, "name", "a proxy has that name already"},
		{`{"name":"x"}`, 400, "upstream", "missing"},
		{`{"name":"x","upstream":"127.0.0.1:1"}`, 400, "upstream", "want ws://host:port/path"},
		{`{"name":"x",` + okUp + `,"listen":"` + taken.Addr().String() + `"}`, 409, "listen", taken.Addr().String() + " is taken"},
		{`{"name":"x",` + okUp + `,"listen":"nope"}`, 400, "listen", "want host:port"},
		{`{"name":"x",` + okUp + `,"profile":"nosuch"}`, 400, "profile", "nosuch"},
		{`{"name":"x",` + okUp + `,"faults":[{"fault":"drop","select":{"dir":"up"}}]}`, 400, "faults[0].select.dir", `want "client" or "server"`},
		{`{"name":"x",` + okUp + `,"faults":[{"fault":"drop"},{"fault":"seq-gap","args":[2]}]}`, 422, "faults[1].fault", "sequence number"},
		{`{"name":"x",` + okUp + `,"upstrem":"x"}`, 400, "body", `unknown field "upstrem"`},
	} {
		status, body := api(t, "POST", s.ControlURL+"/proxies", tc.body)
		var ae proxy.APIError
		json.Unmarshal([]byte(body), &ae)
		if status != tc.status || ae.Field != tc.field || !strings.Contains(ae.Error, tc.says) {
			t.Errorf("POST /proxies %s = %d %s\nwant %d on field %q saying %q", tc.body, status, body, tc.status, tc.field, tc.says)
		}
	}
	if names := s.Names(); len(names) != 1 {
		t.Errorf("refused proxies joined the set: %v", names)
	}

	status, body := api(t, "POST", s.ControlURL+"/proxies", `{"name":"off",`+okUp+`,"enabled":false}`)
	if status != 201 || !strings.Contains(body, `"enabled":false`) {
		t.Errorf("POST /proxies enabled false = %d %s", status, body)
	}
	if status, body := api(t, "GET", s.ControlURL+"/proxies/off/status", ""); status != 200 || !strings.Contains(body, `"enabled":false`) {
		t.Errorf("GET /proxies/off/status = %d %s", status, body)
	}
}

func TestSetWithoutADefaultSaysHowToAddressAProxy(t *testing.T) {
	s := proxy.NewSet()
	s.ControlAddr = "127.0.0.1:0"
	s.Start()
	defer s.Close()
	status, body := api(t, "GET", s.ControlURL+"/status", "")
	if status != 404 || !strings.Contains(body, `the proxy named \"default\", and there is none; address a proxy as /proxies/{name}/status`) {
		t.Errorf("GET /status with no default = %d %s", status, body)
	}
}

func TestReadConfigReadsJSONAndYAMLAndNamesTheBadEntry(t *testing.T) {
	json := `[{"name":"api","listen":"127.0.0.1:9001","upstream":"ws://127.0.0.1:8065/ws","faults":[{"fault":"delay","args":["1s"]}]},
	          {"name":"chat","upstream":"ws://127.0.0.1:8066/ws","enabled":false}]`
	yaml := `
- name: api
  listen: 127.0.0.1:9001
  upstream: ws://127.0.0.1:8065/ws
  faults:
    - fault: delay
      args: [1s]
- name: chat
  upstream: ws://127.0.0.1:8066/ws
  enabled: false
`
	for _, text := range []string{json, yaml} {
		cfgs, err := proxy.ReadConfig([]byte(text))
		if err != nil || len(cfgs) != 2 || cfgs[0].Name != "api" || cfgs[0].Listen != "127.0.0.1:9001" || len(cfgs[0].Faults) != 1 ||
			cfgs[0].Faults[0].Args[0] != "1s" || cfgs[1].Enabled == nil || *cfgs[1].Enabled {
			t.Errorf("ReadConfig:\n%s\n= %+v, %v", text, cfgs, err)
		}
	}
	for _, tc := range []struct{ text, want string }{
		{`{"name":"api"}`, "holds one object; a config file is a list of proxies: wrap it in [ ]"},
		{``, "empty: want a list of proxies"},
		{`[{"name":"api","upstrem":"ws://x"}]`, `proxy [0] "api": upstrem: unknown key (did you mean "upstream"?)`},
		{`[{"name":"a","upstream":"ws://x"},{"name":"a","upstream":"ws://y"}]`, `proxy [1] "a": name: proxy [0] has this name already`},
		{`[{"name":"a b","upstream":"ws://x"}]`, `proxy [0] "a b": name: "a b": want letters, digits`},
		{`[{"name":"a","upstream":"ws://x","listen":9001}]`, `proxy [0] "a": listen: want string, got a JSON number`},
		{`[{"name":"a","upstream":"ws://x","faults":[{"fault":"drop"},{"fault":"drop","selct":{}}]}]`, `proxy [0] "a": faults[1].selct: unknown key`},
		{"- name: a\n  upstream: ws://x\n  enabled: maybe\n", `proxy [0] "a": enabled: want bool, got a JSON string`},
		{`[3]`, `proxy [0]: want an object like`},
	} {
		_, err := proxy.ReadConfig([]byte(tc.text))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("ReadConfig(%q) = %v, want an error containing %q", tc.text, err, tc.want)
		}
	}
}

// A set's API is guarded as a proxy's is: its token, a foreign Origin.
func TestSetControlAPIIsGuarded(t *testing.T) {
	s := proxy.NewSet()
	s.ControlAddr, s.ControlToken = "127.0.0.1:0", "s3cret"
	s.Start()
	defer s.Close()
	if status, _ := call(t, "GET", s.ControlURL+"/proxies", "", nil); status != 401 {
		t.Errorf("GET /proxies without the token = %d, want 401", status)
	}
	auth := map[string]string{"Authorization": "Bearer s3cret"}
	if status, _ := call(t, "GET", s.ControlURL+"/proxies", "", auth); status != 200 {
		t.Errorf("GET /proxies with the token = %d, want 200", status)
	}
	auth["Origin"] = "http://evil.example"
	if status, ae := call(t, "GET", s.ControlURL+"/proxies", "", auth); status != 403 || ae.Field != "Origin" {
		t.Errorf("GET /proxies from another origin = %d %+v, want 403", status, ae)
	}
}
