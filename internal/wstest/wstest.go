// Package wstest builds what a well-behaved WebSocket peer never sends, for
// the bad-input tests of the fake server and the proxy: raw frames with any
// first byte, lengths and masking, and HTTP requests written a byte at a
// time; and the slow and junk clients that throw them at a server.
package wstest

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/onsi/gomega"
	"github.com/onsi/gomega/gleak"
)

// maskKey masks every masked frame: a test needs a key, not a random one.
var maskKey = [4]byte{0x12, 0x34, 0x56, 0x78}

// Frame builds one frame, masked (as clients send) or not (as servers do).
// The first byte is passed whole, so a test can set reserved bits and
// opcodes.
func Frame(first byte, payload []byte, mask bool) []byte {
	b := append([]byte{first}, lengthBytes(uint64(len(payload)), mask)...)
	if !mask {
		return append(b, payload...)
	}
	b = append(b, maskKey[:]...)
	for i, c := range payload {
		b = append(b, c^maskKey[i%4])
	}
	return b
}

// BigHeader is the header alone of a text frame claiming n bytes (with
// its mask key when masked): a peer must refuse it before reading, or
// buffering, the payload.
func BigHeader(n uint64, mask bool) []byte {
	b := binary.BigEndian.AppendUint64([]byte{0x81, maskBit(mask) | 127}, n)
	if mask {
		b = append(b, maskKey[:]...)
	}
	return b
}

func maskBit(mask bool) byte {
	if mask {
		return 0x80
	}
	return 0
}

// lengthBytes is the frame's second byte and extended length.
func lengthBytes(n uint64, mask bool) []byte {
	m := maskBit(mask)
	switch {
	case n < 126:
		return []byte{m | byte(n)}
	case n <= 0xffff:
		return binary.BigEndian.AppendUint16([]byte{m | 126}, uint16(n))
	}
	return binary.BigEndian.AppendUint64([]byte{m | 127}, n)
}

// HostOf is the host:port of a ws:// URL.
func HostOf(url string) string {
	host, _, _ := strings.Cut(strings.TrimPrefix(url, "ws://"), "/")
	return host
}

// StatusOf reads an HTTP answer's status line, waiting at most patience;
// "" if none came.
func StatusOf(nc net.Conn, patience time.Duration) string {
	nc.SetReadDeadline(time.Now().Add(patience))
	line, _ := bufio.NewReader(nc).ReadString('\n')
	return strings.TrimSpace(line)
}

// trickleGap is how long Trickle waits between bytes: slower than any sane
// client.
const trickleGap = 5 * time.Millisecond

// Trickle writes b a byte at a time and then waits until the peer drops
// the connection; it is an error if the peer has not done so after
// patience. The waits are real time: the point is to be slow.
func Trickle(nc net.Conn, b string, patience time.Duration) error {
	stop := time.Now().Add(patience)
	for i := 0; i < len(b); i++ {
		if _, err := nc.Write([]byte{b[i]}); err != nil {
			return nil // dropped mid-trickle
		}
		time.Sleep(trickleGap)
	}
	nc.SetReadDeadline(stop)
	_, err := io.Copy(io.Discard, nc)
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return fmt.Errorf("a slow client (%d bytes) still connected after %v", len(b), patience)
	}
	return nil
}

// KeptAsItWas reports how now fails to begin with before: a record that
// lost or changed an entry it had.
func KeptAsItWas(before, now []string) error {
	if len(now) < len(before) {
		return fmt.Errorf("the transcript lost entries: %d before, %d now", len(before), len(now))
	}
	for i := range before {
		if now[i] != before[i] {
			return fmt.Errorf("transcript entry %d changed:\nwas %s\nnow %s", i, before[i], now[i])
		}
	}
	return nil
}

// SlowClients are clients that trickle their bytes at once, each on its
// own goroutine.
type SlowClients struct {
	start   time.Time
	wg      sync.WaitGroup
	dropped chan error
}

// StartSlowClients dials each of payloads each times and trickles it
// (Trickle) on every connection, all at once.
func StartSlowClients(dial func() net.Conn, payloads []string, each int, patience time.Duration) *SlowClients {
	sc := &SlowClients{start: time.Now(), dropped: make(chan error, each*len(payloads))}
	for _, b := range payloads {
		for range each {
			nc := dial()
			sc.wg.Add(1)
			go func() {
				defer sc.wg.Done()
				sc.dropped <- Trickle(nc, b, patience)
			}()
		}
	}
	return sc
}

// Wait waits until every slow client has been dropped or has given up,
// and returns how long that took from the start, and what went wrong.
func (sc *SlowClients) Wait() (time.Duration, error) {
	sc.wg.Wait()
	took := time.Since(sc.start)
	close(sc.dropped)
	var errs []error
	for err := range sc.dropped {
		errs = append(errs, err)
	}
	return took, errors.Join(errs...)
}

// Flood runs junk(0), ..., junk(n-1), at most atOnce at a time, and calls
// check before every every-th: what else the server must still do during
// the flood. It returns every error junk returned.
func Flood(n, atOnce, every int, check func(), junk func(i int) error) error {
	work := make(chan int)
	errs := make(chan error, n)
	var wg sync.WaitGroup
	for range atOnce {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				errs <- junk(i)
			}
		}()
	}
	for i := range n {
		if i%every == 0 {
			check()
		}
		work <- i
	}
	close(work)
	wg.Wait()
	close(errs)
	var all []error
	for err := range errs {
		all = append(all, err)
	}
	return errors.Join(all...)
}

// The sizes of the bad-input suites. JunkConns junk connections make a
// flood, JunkAtOnce of them open together: thousands in all, in a bounded
// number of sockets. SlowLorisWait is the header timeout a server under
// test is given, so slow clients are dropped in a fraction of a second.
const (
	JunkConns     = 2000
	JunkAtOnce    = 32
	SlowLorisWait = 300 * time.Millisecond
)

// NoLeaks fails t if goroutines started during it outlive its cleanups,
// waiting up to patience for them to end. Call it first, so its cleanup
// runs last.
func NoLeaks(t *testing.T, patience time.Duration) {
	t.Helper()
	before := gleak.Goroutines()
	t.Cleanup(func() {
		gomega.NewWithT(t).Eventually(gleak.Goroutines).WithTimeout(patience).ShouldNot(gleak.HaveLeaked(before))
	})
}

// Echo is the upstream most proxy tests need: it upgrades r and sends
// each message back as it came, until the connection ends.
func Echo(w http.ResponseWriter, r *http.Request) {
	ws, err := (&websocket.Upgrader{}).Upgrade(w, r, nil)
	if err != nil {
		return
	}
	defer ws.Close()
	for {
		op, data, err := ws.ReadMessage()
		if err != nil || ws.WriteMessage(op, data) != nil {
			return
		}
	}
}

// StartEcho starts an Echo server on loopback, behind TLS when withTLS.
func StartEcho(t testing.TB, withTLS bool) *httptest.Server {
	t.Helper()
	return StartServer(t, Echo, withTLS)
}

// StartServer starts h on loopback, behind TLS when withTLS, and returns
// it; cleanup closes it once its handlers are done, so a test that checks
// for leaked goroutines sees none of the server's.
func StartServer(t testing.TB, h http.HandlerFunc, withTLS bool) *httptest.Server {
	t.Helper()
	var wg sync.WaitGroup
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		wg.Add(1) // while httptest still counts the request, so before Close returns
		defer wg.Done()
		h(w, r)
	}))
	if withTLS {
		srv.Config.ErrorLog = log.New(io.Discard, "", 0) // a client that distrusts the certificate
		srv.StartTLS()
	} else {
		srv.Start()
	}
	t.Cleanup(func() {
		srv.CloseClientConnections()
		srv.Close()
		wg.Wait()
	})
	return srv
}

// Dial dials url with d, failing t with the HTTP status of a refusal.
func Dial(t testing.TB, ctx context.Context, d *websocket.Dialer, url string, h http.Header) *websocket.Conn {
	t.Helper()
	ws, resp, err := d.DialContext(ctx, url, h)
	if err != nil {
		status := 0
		if resp != nil {
			status = resp.StatusCode
		}
		t.Fatalf("dial %s: %v (HTTP %d)", url, err, status)
	}
	return ws
}
