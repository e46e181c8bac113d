package bench

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	toxiproxy "github.com/Shopify/toxiproxy/v2"
	"github.com/gorilla/websocket"
	"github.com/rs/zerolog"

	"github.com/wschaos/wschaos/proxy"
)

// The three ways to reach the echo server, in the order metrics list them.
const (
	pathDirect = iota
	pathWschaos
	pathToxiproxy
)

var pathNames = []string{"direct", "wschaos", "toxiproxy"}

// echoRig is a loopback WebSocket echo server and the three ways to reach
// it: directly, through the wschaos proxy with no fault, and through
// Toxiproxy with no toxic. Everything runs in this process, so the three
// share the same CPUs and the same noise.
type echoRig struct {
	urls []string // by path
}

// copyBuffer is the echo's and the readers' scratch buffer: a message is
// streamed through it, never held whole, so the baseline is as lean as a
// gorilla echo gets.
const copyBuffer = 32 << 10

func newEchoRig(tb testing.TB) *echoRig {
	tb.Helper()
	echo := httptest.NewServer(http.HandlerFunc(serveEcho))
	tb.Cleanup(echo.Close)
	host := strings.TrimPrefix(echo.URL, "http://")
	direct := "ws://" + host + "/echo"

	wp := proxy.NewServer(direct)
	tb.Cleanup(wp.Close)

	api := toxiproxy.NewServer(toxiproxy.NewMetricsContainer(nil), zerolog.Nop())
	tp := toxiproxy.NewProxy(api, "echo", "127.0.0.1:0", host)
	if err := tp.Start(); err != nil {
		tb.Fatalf("failed to start toxiproxy: %v", err)
	}
	tb.Cleanup(tp.Stop)

	urls := make([]string, len(pathNames))
	urls[pathDirect] = direct
	urls[pathWschaos] = wp.URL
	urls[pathToxiproxy] = "ws://" + tp.Listen + "/echo"
	return &echoRig{urls: urls}
}

// serveEcho sends every message back as it arrives, streaming it.
func serveEcho(w http.ResponseWriter, r *http.Request) {
	c, err := (&websocket.Upgrader{}).Upgrade(w, r, nil)
	if err != nil {
		return
	}
	defer c.Close()
	c.SetReadLimit(-1)
	buf := make([]byte, copyBuffer)
	for {
		op, rd, err := c.NextReader()
		if err != nil {
			return
		}
		wr, err := c.NextWriter(op)
		if err != nil {
			return
		}
		if _, err := io.CopyBuffer(wr, rd, buf); err != nil {
			return
		}
		if wr.Close() != nil {
			return
		}
	}
}

// dial opens one connection per path, in path order; they close with tb.
func (r *echoRig) dial(tb testing.TB) []*websocket.Conn {
	tb.Helper()
	conns := make([]*websocket.Conn, len(r.urls))
	for i, u := range r.urls {
		conns[i] = dialEcho(tb, u)
		tb.Cleanup(func() { conns[i].Close() })
	}
	return conns
}

func dialEcho(tb testing.TB, url string) *websocket.Conn {
	tb.Helper()
	c, _, err := websocket.DefaultDialer.Dial(url, nil)
	if err != nil {
		tb.Fatalf("failed to dial %s: %v", url, err)
	}
	c.SetReadLimit(-1)
	return c
}

// drain reads one message and returns its length.
func drain(c *websocket.Conn, buf []byte) (int64, error) {
	_, rd, err := c.NextReader()
	if err != nil {
		return 0, err
	}
	return io.CopyBuffer(io.Discard, rd, buf)
}
