package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
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
