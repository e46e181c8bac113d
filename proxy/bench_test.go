package proxy_test

import (
	"net/http"
	"net/http/httptest"
	"runtime"
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
	upstream, p := echoBehindProxy(b)

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

// BenchmarkIdleConnMemory measures what the proxy holds for a connection
// gone idle after relaying one 64 KiB message each way (in 4 KiB fragments
// from the client, in one frame from the echo server, as gorilla sends
// them): per op, the heap that idleConns connections hold through the
// proxy, less what as many hold straight to the echo server, per
// connection. The proxy's share includes its transcript, which keeps both
// messages (msg-B/conn of it is their payload):
//
//	go test -run='^$' -bench=IdleConnMemory -count=6 ./proxy/
func BenchmarkIdleConnMemory(b *testing.B) {
	const idleConns = 100
	upstream, p := echoBehindProxy(b)
	msg := []byte(strings.Repeat("x", 64<<10))

	// held opens idleConns connections to url, relays msg once each way
	// on each, and returns the heap they hold once idle.
	held := func(url string) float64 {
		conns := make([]*websocket.Conn, 0, idleConns)
		defer func() {
			for _, c := range conns {
				c.Close()
			}
		}()
		before := liveHeap()
		for range idleConns {
			c, _, err := websocket.DefaultDialer.Dial(url, nil)
			if err != nil {
				b.Fatal(err)
			}
			conns = append(conns, c)
			if err := c.WriteMessage(websocket.TextMessage, msg); err != nil {
				b.Fatal(err)
			}
			if _, _, err := c.ReadMessage(); err != nil {
				b.Fatal(err)
			}
		}
		return liveHeap() - before
	}
	var extra float64
	for b.Loop() {
		extra += held(p.URL) - held(upstream)
	}
	b.ReportMetric(extra/float64(b.N*idleConns), "proxy-B/conn")
	b.ReportMetric(float64(2*len(msg)), "msg-B/conn")
}

// liveHeap is the heap in use once the garbage collector has run twice:
// the second run also frees what pools let go of at the first.
func liveHeap() float64 {
	var m runtime.MemStats
	runtime.GC()
	runtime.GC()
	runtime.ReadMemStats(&m)
	return float64(m.HeapAlloc)
}

// BenchmarkBigFrameRoundTrip measures the round trip of a 1 MiB message
// sent in one frame, as browsers and Node's ws send every message, to a
// loopback echo server that answers in one frame, directly and through
// the proxy, side by side: what relaying a big frame costs. (The proxy
// relays such a frame as its bytes arrive; on a loopback with few cores
// the CPU it takes to relay, not the waiting, sets this figure.)
//
//	go test -run='^$' -bench=BigFrameRoundTrip -count=6 ./proxy/
func BenchmarkBigFrameRoundTrip(b *testing.B) {
	upstream, p := echoBehindProxy(b)
	p.Transcript().Keep(100) // a long run would hold every megabyte

	msg := []byte(strings.Repeat("x", 1<<20))
	dialer := websocket.Dialer{WriteBufferSize: 2 << 20} // room for the message: one frame
	for _, tc := range []struct{ name, url string }{{"direct", upstream}, {"proxy", p.URL}} {
		b.Run(tc.name, func(b *testing.B) {
			c, _, err := dialer.Dial(tc.url, nil)
			if err != nil {
				b.Fatal(err)
			}
			defer c.Close()
			c.SetReadLimit(-1)
			b.SetBytes(int64(len(msg)))
			for b.Loop() {
				if err := c.WriteMessage(websocket.BinaryMessage, msg); err != nil {
					b.Fatal(err)
				}
				if _, _, err := c.ReadMessage(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// echoBehindProxy starts a loopback echo server and a proxy with no fault
// in front of it, both closed when b ends, and returns the echo's URL and
// the proxy.
func echoBehindProxy(b *testing.B) (upstream string, p *proxy.Proxy) {
	echo := httptest.NewServer(http.HandlerFunc(wstest.Echo))
	b.Cleanup(echo.Close)
	upstream = "ws" + strings.TrimPrefix(echo.URL, "http") + "/echo"
	p = proxy.NewServer(upstream)
	b.Cleanup(p.Close)
	return upstream, p
}
