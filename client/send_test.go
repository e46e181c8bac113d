package client_test

import (
	"fmt"
	"testing"

	"github.com/wschaos/wschaos/client"
	"github.com/wschaos/wschaos/profile"
)

// TestSendThroughCodec: a send goes out in the profile's envelope with its
// type as given: the text envelope (reconnecting-websocket) sends the
// JSON of the value, a string as its contents; phoenix an array.
func TestSendThroughCodec(t *testing.T) {
	for _, tc := range []struct {
		profile string
		typ     string
		v       any
		want    string
	}{
		{"reconnecting-websocket", "message", "hello world", `hello world`},
		{"reconnecting-websocket", "message", map[string]int{"a": 1}, `{"a":1}`},
		{"phoenix", "new_msg", map[string]string{"body": "hi"}, `[null,"1","phoenix","new_msg",{"body":"hi"}]`},
		{"graphql-ws", "subscribe", map[string]string{"query": "{a}"}, `{"type":"subscribe","payload":{"query":"{a}"}}`},
	} {
		t.Run(fmt.Sprintf("%s %T", tc.profile, tc.v), func(t *testing.T) {
			pr := newPeer(t)
			p := profile.ByName(tc.profile)
			pr.subprotocols = []string{p.Connect.Subprotocol}
			r := newRig(t, pr.url(), p)
			r.start()
			pc := waitFor(t, pr.conns, "the connection")
			if p.Connect.Handshake != nil {
				pc.next()
				pc.send(encode(t, p, profile.Message{Kind: profile.Event, Type: p.Connect.Handshake.ReplyType}))
			}
			r.await(client.StateConnected)
			r.send(tc.typ, tc.v)
			if got := pc.next(); got != tc.want {
				t.Fatalf("Send(%q, %v) sent %s; want %s", tc.typ, tc.v, got, tc.want)
			}
		})
	}
}
