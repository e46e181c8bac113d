//go:build linux

package bench

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"os"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/gorilla/websocket"

	"github.com/wschaos/wschaos/profile"
)

// The capacity client is a helper process holding many raw client
// sockets to the server under test. It reads its orders from the
// environment, dials, then answers the parent line by line on stdin and
// stdout:
//
//	(after dialing)        → open HELD FAILED
//	ping                   → pinged ANSWERED FAILED   one heartbeat per socket
//	quit, or end of input  → closes every socket and exits
const (
	capacityClientRole = "capacity-client"
	envURL             = "WSCHAOS_BENCH_URL"
	envConns           = "WSCHAOS_BENCH_CONNS"
	envSource          = "WSCHAOS_BENCH_SOURCE"
)

const (
	// clientDialers dial at once per helper: enough to keep the server's
	// accept loop busy, few enough not to overflow its listen backlog.
	clientDialers = 32
	// clientPingers run heartbeats at once per helper, each over its share
	// of the sockets, one ping in flight each.
	clientPingers = 16
	// clientBuffer is each raw client socket's read and write buffer: a
	// ping and a pong are a few dozen bytes.
	clientBuffer = 256
	// clientWait bounds one dial, one ping and one pong on the real clock:
	// a server that does not answer within it has dropped the socket.
	clientWait = 30 * time.Second
	// ipBindAddressNoPort is Linux's IP_BIND_ADDRESS_NO_PORT (linux/in.h):
	// bind the source address now but choose the port at connect, per
	// destination, so sources beyond 127.0.0.1 do not each need a port
	// free of every other socket.
	ipBindAddressNoPort = 24
)

// roles are the helper processes this binary can be.
var roles = map[string]func() int{
	capacityClientRole: runCapacityClient,
}

func runCapacityClient() int {
	n, err := strconv.Atoi(os.Getenv(envConns))
	if err != nil {
		fmt.Fprintf(os.Stderr, "capacity client: bad %s: %v\n", envConns, err)
		return 2
	}
	d := clientDialer(os.Getenv(envSource))
	conns, failed := dialMany(d, os.Getenv(envURL), n)
	fmt.Printf("open %d %d\n", len(conns), failed)

	p := profile.QueueProfile()
	in := bufio.NewScanner(os.Stdin)
	for in.Scan() && in.Text() != "quit" {
		if in.Text() == "ping" {
			var answered, failed int
			conns, answered, failed = heartbeat(conns, p)
			fmt.Printf("pinged %d %d\n", answered, failed)
		}
	}
	for _, c := range conns {
		c.Close()
	}
	return 0
}

// clientDialer dials from source (an IPv4 loopback address; "" for the
// kernel's choice) with the smallest buffers a heartbeat needs.
func clientDialer(source string) *websocket.Dialer {
	nd := &net.Dialer{Timeout: clientWait}
	if ip := net.ParseIP(source); ip != nil {
		nd.LocalAddr = &net.TCPAddr{IP: ip}
		nd.Control = func(_, _ string, rc syscall.RawConn) error {
			var serr error
			err := rc.Control(func(fd uintptr) {
				serr = syscall.SetsockoptInt(int(fd), syscall.IPPROTO_IP, ipBindAddressNoPort, 1)
			})
			if err != nil {
				return err
			}
			return serr
		}
	}
	return &websocket.Dialer{
		NetDialContext:   nd.DialContext,
		HandshakeTimeout: clientWait,
		ReadBufferSize:   clientBuffer,
		WriteBufferSize:  clientBuffer,
	}
}

// dialMany opens n sockets to url, clientDialers at a time, and returns
// those that opened and how many did not.
func dialMany(d *websocket.Dialer, url string, n int) ([]*websocket.Conn, int) {
	var (
		mu     sync.Mutex
		conns  = make([]*websocket.Conn, 0, n)
		failed int
		wg     sync.WaitGroup
		next   = make(chan struct{})
	)
	for range clientDialers {
		wg.Go(func() {
			for range next {
				c, _, err := d.DialContext(context.Background(), url, nil)
				mu.Lock()
				if err != nil {
					failed++
				} else {
					conns = append(conns, c)
				}
				mu.Unlock()
			}
		})
	}
	for range n {
		next <- struct{}{}
	}
	close(next)
	wg.Wait()
	return conns, failed
}

// heartbeat sends each socket one profile ping and waits for the pong,
// clientPingers sockets at a time. Sockets that fail are closed and left
// out of the returned set.
func heartbeat(conns []*websocket.Conn, p *profile.Profile) (live []*websocket.Conn, answered, failed int) {
	ping, err := p.Codec.Encode(p.Ping(1))
	if err != nil {
		panic(fmt.Sprintf("capacity client: cannot encode a ping: %v", err))
	}
	ok := make([]bool, len(conns))
	var wg sync.WaitGroup
	for w := range clientPingers {
		wg.Go(func() {
			for i := w; i < len(conns); i += clientPingers {
				ok[i] = pingOnce(conns[i], ping, p)
			}
		})
	}
	wg.Wait()
	for i, c := range conns {
		if ok[i] {
			live = append(live, c)
			answered++
		} else {
			c.Close()
			failed++
		}
	}
	return live, answered, failed
}

// pingOnce sends ping on c and reports whether the next message is the
// profile's pong.
func pingOnce(c *websocket.Conn, ping []byte, p *profile.Profile) bool {
	deadline := time.Now().Add(clientWait)
	c.SetWriteDeadline(deadline)
	if c.WriteMessage(websocket.TextMessage, ping) != nil {
		return false
	}
	c.SetReadDeadline(deadline)
	_, data, err := c.ReadMessage()
	if err != nil {
		return false
	}
	m, err := p.Codec.Decode(data, profile.Server)
	return err == nil && p.IsPong(m, 1)
}
