package proxy_test

import (
	"bufio"
	"errors"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/wschaos/wschaos/chaos"
	"github.com/wschaos/wschaos/internal/wstest"
	"github.com/wschaos/wschaos/proxy"
	"github.com/wschaos/wschaos/vclock"
)

// limited starts a proxy whose control API has the given read and idle
// timeouts.
func limited(t *testing.T, read, idle time.Duration) *proxy.Proxy {
	t.Helper()
	p := proxy.NewUnstartedServer("ws://127.0.0.1:1/ws")
	p.Clock, p.ControlAddr = vclock.New(), "127.0.0.1:0"
	proxy.SetControlReadTimeout(p, read)
	proxy.SetIdleTimeout(p, idle)
	p.Start()
	t.Cleanup(p.Close)
	return p
}

// A body trickled a byte at a time held its connection forever; now the
// read timeout cuts it, with a 408 that says so.
func TestControlAPICutsATrickledBodyAtTheReadTimeout(t *testing.T) {
	wstest.NoLeaks(t, patience)
	const readTimeout = 200 * time.Millisecond
	p := limited(t, readTimeout, time.Minute)
	nc, err := net.Dial("tcp", strings.TrimPrefix(p.ControlURL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	start := time.Now()
	const bodyLen = 100 // whole after 100 ticks: 5 s at this pace
	head := "POST /faults HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"
	if _, err := nc.Write([]byte(head)); err != nil {
		t.Fatal(err)
	}
	stop := make(chan struct{})
	trickled := make(chan struct{})
	go func() {
		defer close(trickled)
		tick := time.NewTicker(50 * time.Millisecond) // a byte a second, twenty times faster
		defer tick.Stop()
		for range bodyLen - 1 {
			select {
			case <-stop:
				return
			case <-tick.C:
			}
			if _, err := nc.Write([]byte(" ")); err != nil {
				return
			}
		}
	}()
	defer func() { close(stop); <-trickled }()

	nc.SetReadDeadline(time.Now().Add(patience))
	resp, err := http.ReadResponse(bufio.NewReader(nc), nil)
	took := time.Since(start)
	if err != nil {
		t.Fatalf("no answer after %v: %v", took, err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestTimeout {
		t.Errorf("answered %d, want 408", resp.StatusCode)
	}
	if took < readTimeout || took > readTimeout+time.Second {
		t.Errorf("cut after %v, want soon after the read timeout %v", took, readTimeout)
	}
	if !resp.Close {
		t.Errorf("the connection is kept open after a cut body")
	}
}

// A body over maxSpecBytes is answered 413 with the limit, not read on.
func TestControlAPIRefusesABodyOverTheLimit(t *testing.T) {
	wstest.NoLeaks(t, patience)
	p := limited(t, 0, 0)
	big := `{"fault":"drop","args":["` + strings.Repeat("x", 70<<10) + `"]}`
	status, ae := call(t, "POST", p.ControlURL+"/faults", big, map[string]string{"Content-Type": "application/json"})
	if status != http.StatusRequestEntityTooLarge || ae.Field != "body" || !strings.Contains(ae.Error, "over 65536 bytes") {
		t.Errorf("a 70 KiB body: %d %+v, want 413 naming the limit", status, ae)
	}
}

// An idle keep-alive connection is closed after the idle timeout: each is
// a file descriptor.
func TestControlAPIClosesIdleConnections(t *testing.T) {
	wstest.NoLeaks(t, patience)
	const idle = 100 * time.Millisecond
	p := limited(t, 0, idle)
	nc, err := net.Dial("tcp", strings.TrimPrefix(p.ControlURL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	if _, err := nc.Write([]byte("GET /status HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")); err != nil {
		t.Fatal(err)
	}
	nc.SetReadDeadline(time.Now().Add(patience))
	br := bufio.NewReader(nc)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	start := time.Now()
	if _, err := br.ReadByte(); err == nil {
		t.Fatal("the server sent more after its answer")
	}
	if took := time.Since(start); took > idle+time.Second {
		t.Errorf("closed after %v idle, want soon after %v", took, idle)
	}
}

// Faults are capped at MaxFaults: at 50,000 an echo took 36 ms instead of
// 0.13. Past the cap an add is refused with a 409 that says the cap.
func TestFaultsAreCapped(t *testing.T) {
	wstest.NoLeaks(t, patience)
	p, cc, _ := controlled(t, "ws://127.0.0.1:1/ws")
	for i := range proxy.MaxFaults {
		if _, err := p.AddFaultSpec(proxy.FaultSpec{Fault: "drop"}); err != nil {
			t.Fatalf("fault %d: %v", i+1, err)
		}
	}
	status, ae := call(t, "POST", p.ControlURL+"/faults", `{"fault":"drop"}`, map[string]string{"Content-Type": "application/json"})
	if status != http.StatusConflict || !strings.Contains(ae.Error, "1000 faults are installed, the most a proxy holds") {
		t.Errorf("fault %d through the API: %d %+v, want 409 naming the cap", proxy.MaxFaults+1, status, ae)
	}
	if _, err := p.AddFault(chaos.Drop()); !errors.Is(err, proxy.ErrTooManyFaults) {
		t.Errorf("AddFault past the cap: %v, want ErrTooManyFaults", err)
	}
	if _, err := p.AddFaultSpec(proxy.FaultSpec{Fault: "drop"}); !errors.Is(err, proxy.ErrTooManyFaults) {
		t.Errorf("AddFaultSpec past the cap: %v, want ErrTooManyFaults", err)
	}
	if n := len(p.ListFaults()); n != proxy.MaxFaults {
		t.Errorf("%d faults installed, want %d", n, proxy.MaxFaults)
	}
	// Removing one makes room for one.
	if err := cc.Remove(ctx(t), 1); err != nil {
		t.Fatal(err)
	}
	if _, err := cc.Add(ctx(t), proxy.FaultSpec{Fault: "drop"}); err != nil {
		t.Errorf("an add after a remove: %v", err)
	}

	// Start refuses too many initial faults.
	q := proxy.NewUnstartedServer("ws://127.0.0.1:1/ws")
	q.Faults = make([]chaos.Fault, proxy.MaxFaults+1)
	for i := range q.Faults {
		q.Faults[i] = chaos.Drop()
	}
	if err := q.StartErr(); !errors.Is(err, proxy.ErrTooManyFaults) {
		q.Close()
		t.Errorf("StartErr with %d faults: %v, want ErrTooManyFaults", len(q.Faults), err)
	}
}
