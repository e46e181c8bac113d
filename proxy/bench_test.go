package proxy_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gorilla/websocket"

	"github.com/wschaos/wschaos/internal/wstest"
	"github.com/wschaos/wschaos/proxy"
)

// BenchmarkEchoRoundTrip measures one small message's round trip to a
// loopback echo server, directly and through the proxy with no fault, side
// by side in one run so their ratio is the proxy's added latency:
//
//	go test -run='^$' -bench=EchoRoundTrip -count=5 ./proxy/ | benchstat -
func BenchmarkEchoRoundTrip(b *testing.B) {
	echo := httptest.NewServer(http.HandlerFunc(wstest.Echo))
	defer echo.Close()
	upstream := "ws" + strings.TrimPrefix(echo.URL, "http") + "/echo"
	p := proxy.New(upstream)
	defer p.Close()

	msg := []byte(strings.Repeat("x", 64))
	for _, tc := range []struct{ name, url string }{{"direct", upstream}, {"proxy", p.URL}} {
		b.Run(tc.name, func(b *testing.B) {
			c, _, err := websocket.DefaultDialer.Dial(tc.url, nil)
			if err != nil {
				b.Fatal(err)
			}
			defer c.Close()
			b.SetBytes(int64(len(msg)))
			for b.Loop() {
				if err := c.WriteMessage(websocket.TextMessage, msg); err != nil {
					b.Fatal(err)
				}
				if _, _, err := c.ReadMessage(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
