package main

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/wschaos/wschaos/internal/wstest"
)

// TestProxyWritesItsTranscript: --transcript writes every entry as it is
// recorded, up to the close the proxy's end records, in the order they
// came, while --keep bounds what stays in memory.
func TestProxyWritesItsTranscript(t *testing.T) {
	upstream := "ws" + strings.TrimPrefix(wstest.StartEcho(t, false).URL, "http") + "/ws"
	path := filepath.Join(t.TempDir(), "transcript.txt")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	out := &syncBuffer{}
	done := make(chan error, 1)
	go func() {
		done <- proxyUntil(ctx, []string{"--upstream", upstream, "--transcript", path, "--keep", "5"}, out)
	}()
	line := waitLine(t, ctx, out, "wschaos proxy: ws://")
	url := strings.Fields(strings.TrimPrefix(line, "wschaos proxy: "))[0]

	ws, _, err := websocket.DefaultDialer.DialContext(ctx, url+"/ws", nil)
	if err != nil {
		t.Fatal(err)
	}
	const n = 50
	for i := range n {
		msg := fmt.Sprintf("message %d", i)
		if err := ws.WriteMessage(websocket.TextMessage, []byte(msg)); err != nil {
			t.Fatal(err)
		}
		if _, got, err := ws.ReadMessage(); err != nil || string(got) != msg {
			t.Fatalf("echo of %q: %q, %v", msg, got, err)
		}
	}
	waitLine(t, ctx, out, "transcript to "+path)
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("proxy: %v", err)
	}
	ws.Close()

	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	text := string(b)
	at := 0
	for i := range n {
		for _, kind := range []string{"recv", "up-send", "up-recv", "send"} {
			want := fmt.Sprintf("#1 %s message %d\n", kind, i)
			j := strings.Index(text[at:], want)
			if j < 0 {
				t.Fatalf("no %q after byte %d of the transcript:\n%s", want, at, text)
			}
			at += j + len(want)
		}
	}
	if !strings.Contains(text[at:], "#1 close 1001 \"proxy closed\" by server") {
		t.Fatalf("the transcript does not end with the proxy's close:\n%s", text[at:])
	}
}

func TestProxyTranscriptFlagErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--upstream", "ws://127.0.0.1:1/", "--keep", "-1"}, "proxy: --keep -1: want 0 (all) or more"},
		{[]string{"--upstream", "ws://127.0.0.1:1/", "--transcript", filepath.Join(t.TempDir(), "no", "such", "dir")},
			"proxy: --transcript: open "},
	} {
		err := proxyUntil(context.Background(), tc.args, &syncBuffer{})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("proxy %q: %v, want an error containing %q", tc.args, err, tc.want)
		}
	}
}

// TestProxyTranscriptKeepsEveryMessageUnderLoad: 4 connections sending
// flat out for a second through a proxy that holds only --keep 10
// entries, then the shutdown SIGTERM triggers: FILE holds a line for every
// message the echo upstream received and every echo the clients received.
// A writer that fell behind used to let most of them go.
func TestProxyTranscriptKeepsEveryMessageUnderLoad(t *testing.T) {
	var echoed atomic.Int64 // messages the upstream read
	srv := wstest.StartServer(t, func(w http.ResponseWriter, r *http.Request) {
		ws, err := (&websocket.Upgrader{}).Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer ws.Close()
		for {
			op, data, err := ws.ReadMessage()
			if err != nil {
				return
			}
			echoed.Add(1)
			if ws.WriteMessage(op, data) != nil {
				return
			}
		}
	}, false)
	upstream := "ws" + strings.TrimPrefix(srv.URL, "http") + "/ws"
	path := filepath.Join(t.TempDir(), "transcript.txt")
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	stop, sigterm := context.WithCancel(ctx) // what runProxy's signal.NotifyContext does on SIGTERM
	out := &syncBuffer{}
	done := make(chan error, 1)
	go func() {
		done <- proxyUntil(stop, []string{"--upstream", upstream, "--transcript", path, "--keep", "10"}, out)
	}()
	line := waitLine(t, ctx, out, "wschaos proxy: ws://")
	url := strings.Fields(strings.TrimPrefix(line, "wschaos proxy: "))[0]
	waitLine(t, ctx, out, "transcript to "+path)

	const conns, most = 4, 200_000 // bounded, whatever the machine's speed
	var received atomic.Int64      // echoes the clients read
	var wg sync.WaitGroup
	until := time.Now().Add(time.Second)
	for range conns {
		ws, _, err := websocket.DefaultDialer.DialContext(ctx, url+"/ws", nil)
		if err != nil {
			t.Fatal(err)
		}
		defer ws.Close()
		wg.Add(2)
		go func() {
			defer wg.Done()
			for i := 0; i < most && time.Now().Before(until); i++ {
				if ws.WriteMessage(websocket.TextMessage, fmt.Appendf(nil, "m%d", i)) != nil {
					return
				}
			}
		}()
		go func() {
			defer wg.Done()
			for {
				if _, _, err := ws.ReadMessage(); err != nil {
					return
				}
				received.Add(1)
			}
		}()
	}
	time.Sleep(time.Until(until)) // real time: the load is real traffic
	sigterm()
	if err := <-done; err != nil {
		t.Fatalf("proxy: %v", err)
	}
	wg.Wait() // the proxy's close ended every connection

	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	count := map[string]int64{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if fs := strings.Fields(sc.Text()); len(fs) > 2 {
			count[fs[2]]++
		}
		if strings.HasPrefix(sc.Text(), "…") {
			t.Errorf("FILE says entries were lost: %s", sc.Text())
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	up, back := echoed.Load(), received.Load()
	t.Logf("relayed %d messages up and %d echoes back; FILE: %v", up, back, count)
	if up < 1000 {
		t.Fatalf("only %d messages reached the upstream in a second: no load", up)
	}
	if count["recv"] < up || count["up-send"] < up {
		t.Errorf("FILE holds %d recv and %d up-send lines for %d messages the upstream read", count["recv"], count["up-send"], up)
	}
	if count["up-recv"] < back || count["send"] < back {
		t.Errorf("FILE holds %d up-recv and %d send lines for %d echoes the clients read", count["up-recv"], count["send"], back)
	}
	if count["close"] != conns {
		t.Errorf("FILE holds %d close lines, want %d: the proxy's close must be written too", count["close"], conns)
	}
}
