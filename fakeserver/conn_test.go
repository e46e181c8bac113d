package fakeserver_test

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/onsi/gomega"
	"github.com/wschaos/wschaos/chaos"
	"github.com/wschaos/wschaos/profile"
	"github.com/wschaos/wschaos/transcript"
)

func TestAcceptThenCloseSendsTheCloseAtOnce(t *testing.T) {
	s, _ := newServer(t, profile.QueueProfile(),
		chaos.AcceptThenClose(chaos.Cut{Kind: chaos.CloseFrame, Code: 4000, Reason: "bye"}))
	ws := dial(t, s.URL)
	err := readClose(t, ws)
	var ce *websocket.CloseError
	if !errors.As(err, &ce) || ce.Code != 4000 || ce.Text != "bye" {
		t.Fatalf("read: %v; want close 4000 bye", err)
	}
	waitLine(t, s, `#1 close 4000 "bye" by server (accept-then-close code=4000 reason=bye)`)
	gomega.NewWithT(t).Eventually(s.OpenConns).WithTimeout(patience).Should(gomega.BeZero())
	if got := lines(s, "send"); len(got) != 0 {
		t.Errorf("sent %q before the close", got)
	}
}

func TestCloseAfterCutsAtTheVirtualTime(t *testing.T) {
	s, clock := newServer(t, profile.QueueProfile(), chaos.CloseAfter(10*time.Second, 4001, "later"))
	ws := dial(t, s.URL)
	waitLine(t, s, `close 4001 "later" scheduled in 10s`)
	if d := advance(t, clock); d != 10*time.Second {
		t.Fatalf("advanced %v, want 10s", d)
	}
	if code := closeCode(readClose(t, ws)); code != 4001 {
		t.Fatalf("close code %d, want 4001", code)
	}
	l := waitLine(t, s, `close 4001 "later" by server`)
	if l.At != 10*time.Second || l.By != profile.Server {
		t.Errorf("close entry %q", l.String())
	}
}

func TestFINAndRSTEndWithoutACloseFrame(t *testing.T) {
	for _, tc := range []struct {
		fault chaos.Fault
		line  string
	}{
		{chaos.FINAfter(0), "close 1006 by server (fin-after 0s): FIN"},
		{chaos.RSTAfter(0), "close 1006 by server (rst-after 0s): RST"},
	} {
		t.Run(tc.fault.String(), func(t *testing.T) {
			s, _ := newServer(t, profile.QueueProfile(), tc.fault)
			ws := dial(t, s.URL)
			err := readClose(t, ws)
			// gorilla reports a socket that ends without a close frame as 1006.
			if code := closeCode(err); err == nil || (code != 0 && code != websocket.CloseAbnormalClosure) {
				t.Fatalf("read: %v; want a dropped socket, not a close frame", err)
			}
			waitLine(t, s, tc.line)
			ws.Close()
			gomega.NewWithT(t).Eventually(s.OpenConns).WithTimeout(patience).Should(gomega.BeZero())
		})
	}
}

func TestBlackHoleLetsNothingThroughAndRecordsWhatItSwallows(t *testing.T) {
	p := profile.QueueProfile()
	s, clock := newServer(t, p, chaos.BlackHoleAfter(5*time.Second))
	ws := dial(t, s.URL)
	send(t, ws, p, ping(p, 1))
	if m := read(t, ws, p); m.Type != "pong" {
		t.Fatalf("before the hole got %v, want a pong", m)
	}

	advance(t, clock)
	waitLine(t, s, "+5s        #1 fault black-hole-after 5s: black hole: nothing flows either way")
	send(t, ws, p, ping(p, 2))
	waitLine(t, s, "black-hole-after 5s: swallowed client frame #2 (request ping)")
	if err := s.Emit("panel.updated", map[string]string{"id": "p1"}); err != nil {
		t.Fatal(err)
	}
	waitLine(t, s, "black-hole-after 5s: swallowed server frame #2 (event panel.updated)")
	nothing(t, ws)
	if n := s.OpenConns(); n != 1 {
		t.Fatalf("OpenConns = %d in the black hole; the socket must stay up", n)
	}

	ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(4000, "ping timeout"), time.Now().Add(patience))
	waitLine(t, s, `black-hole-after 5s: swallowed client close 4000 "ping timeout"`)
	if !slices.ContainsFunc(s.Transcript().Entries(), func(e transcript.Entry) bool {
		return e.Kind == transcript.KindFault && e.Code == 4000 && e.Reason == "ping timeout" && e.By == profile.Client
	}) {
		t.Errorf("the swallowed close's entry does not keep its code, reason and side: %v", s.Transcript().Entries())
	}
	ws.Close()
	waitLine(t, s, "#1 close 1006 by client")
	if got := lines(s, "recv"); len(got) != 1 {
		t.Errorf("recv lines %q; only the ping before the hole was received", got)
	}
}

func TestClientCloseIsRecordedAndEchoed(t *testing.T) {
	s, _ := newServer(t, profile.MattermostProfile())
	ws := dial(t, resumeURL(t, s, "", 0))
	read(t, ws, s.Profile) // hello
	ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(4000, "ping timeout"), time.Now().Add(patience))
	if code := closeCode(readClose(t, ws)); code != 4000 {
		t.Errorf("echo code %d, want 4000", code)
	}
	waitLine(t, s, `#1 close 4000 "ping timeout" by client`)
}

func TestCutAllCutsEveryConnectionInAttemptOrder(t *testing.T) {
	s, _ := newServer(t, profile.QueueProfile())
	var clients []*websocket.Conn
	for range 3 {
		clients = append(clients, dial(t, s.URL))
	}
	waitCount(t, s, "open", 3)
	s.CutAll(chaos.Cut{Kind: chaos.CloseFrame, Code: 1012, Reason: "restart"})
	for i, ws := range clients {
		if code := closeCode(readClose(t, ws)); code != 1012 {
			t.Errorf("client %d close code %d, want 1012", i+1, code)
		}
	}
	got := lines(s, "close")
	want := []string{
		`+0s        #1 close 1012 "restart" by server (cut all)`,
		`+0s        #2 close 1012 "restart" by server (cut all)`,
		`+0s        #3 close 1012 "restart" by server (cut all)`,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("close lines:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	gomega.NewWithT(t).Eventually(s.OpenConns).WithTimeout(patience).Should(gomega.BeZero())
}

func TestUndecodableFramesAreRecordedAndTheConnectionKept(t *testing.T) {
	p := profile.QueueProfile()
	s, _ := newServer(t, p)
	ws := dial(t, s.URL)
	ws.WriteMessage(websocket.TextMessage, []byte("not json"))
	ws.WriteMessage(websocket.BinaryMessage, []byte{0xff, 0x00})
	send(t, ws, p, ping(p, 1))
	if m := read(t, ws, p); m.Type != "pong" {
		t.Fatalf("got %v after garbage, want a pong", m)
	}
	waitCount(t, s, "recv", 3) // published once the server's turn is over
	recv := lines(s, "recv")
	if len(recv) != 3 ||
		!strings.Contains(recv[0], "recv not json: undecodable: bad envelope") ||
		!strings.Contains(recv[1], `recv binary "\xff\x00": undecodable`) {
		t.Errorf("recv lines:\n%s", strings.Join(recv, "\n"))
	}
}

func TestProfileAnswersRequests(t *testing.T) {
	t.Run("queue acks sends with the message id", func(t *testing.T) {
		p := profile.QueueProfile()
		s, _ := newServer(t, p)
		ws := dial(t, s.URL)
		send(t, ws, p, profile.Message{Kind: profile.Request, Type: "message.send",
			Data: profile.MustData(map[string]any{"id": 42, "text": "hi"})})
		_, data, err := readRaw(t, ws)
		if err != nil || string(data) != `{"type":"message.received","payload":{"messageId":42}}` {
			t.Fatalf("ack = %s, %v", data, err)
		}
		send(t, ws, p, profile.Message{Kind: profile.Request, Type: "panel.open"})
		send(t, ws, p, ping(p, 1))
		if _, data, _ := readRaw(t, ws); string(data) != `{"type":"pong"}` {
			t.Fatalf("pong = %s; other requests get no answer", data)
		}
	})
	t.Run("mattermost replies to every request", func(t *testing.T) {
		p := profile.MattermostProfile()
		s, _ := newServer(t, p)
		ws := dial(t, resumeURL(t, s, "", 0))
		read(t, ws, p) // hello
		send(t, ws, p, request("user_typing", 5, map[string]string{"channel_id": "c"}))
		send(t, ws, p, ping(p, 6))
		if _, data, _ := readRaw(t, ws); string(data) != `{"status":"OK","seq_reply":5}` {
			t.Errorf("reply = %s", data)
		}
		if _, data, _ := readRaw(t, ws); string(data) != `{"status":"OK","seq_reply":6,"data":{"text":"pong"}}` {
			t.Errorf("pong = %s", data)
		}
	})
}

func TestControlPingsAreAnsweredThroughTheFaults(t *testing.T) {
	p := profile.QueueProfile()
	p.Heartbeat.Mode = profile.HeartbeatFrames
	for _, tc := range []struct {
		name   string
		faults []chaos.Fault
		pongs  int
	}{
		{"answered", nil, 1},
		{"swallowed", []chaos.Fault{chaos.SwallowPongs()}, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, _ := newServer(t, p, tc.faults...)
			ws := dial(t, s.URL)
			pongs := 0
			ws.SetPongHandler(func(data string) error {
				if data == "hb" {
					pongs++
				}
				return nil
			})
			ws.WriteControl(websocket.PingMessage, []byte("hb"), time.Now().Add(patience))
			send(t, ws, p, profile.Message{Kind: profile.Request, Type: "message.send"})
			read(t, ws, p) // the ack, after the pong
			if pongs != tc.pongs {
				t.Errorf("got %d pongs, want %d", pongs, tc.pongs)
			}
			waitLine(t, s, `recv ping "hb"`)
			if tc.pongs == 1 {
				waitLine(t, s, `send pong "hb"`)
			} else {
				waitLine(t, s, `swallow-pongs: dropped server frame #1 (pong)`)
			}
		})
	}
}

func TestEmitWithoutConnectionFailsAndSaysSo(t *testing.T) {
	s, _ := newServer(t, profile.QueueProfile())
	if err := s.Emit("panel.updated", nil); err == nil {
		t.Fatal("Emit with no connection succeeded")
	}
	waitLine(t, s, "#- note emit panel.updated: no open connection")

	mm, _ := newServer(t, profile.MattermostProfile())
	if err := mm.Emit("posted", nil); err == nil {
		t.Fatal("Emit with no session succeeded")
	}
	waitLine(t, mm, "note emit posted: no session")
}

func TestBadClientFramesEndTheConnectionWithTheRightCode(t *testing.T) {
	t.Run("too big", func(t *testing.T) {
		s, _ := newServer(t, profile.QueueProfile())
		ws := dial(t, s.URL)
		ws.WriteMessage(websocket.TextMessage, make([]byte, 1<<20+1))
		if code := closeCode(readClose(t, ws)); code != websocket.CloseMessageTooBig {
			t.Errorf("close code %d, want 1009", code)
		}
		waitLine(t, s, "close 1009 by server: client frame over 1048576 bytes")
	})
	t.Run("protocol error", func(t *testing.T) {
		s, _ := newServer(t, profile.QueueProfile())
		ws := dial(t, s.URL)
		ws.NetConn().Write([]byte{0x81, 0x01, 'a'}) // unmasked: clients must mask
		if code := closeCode(readClose(t, ws)); code != websocket.CloseProtocolError {
			t.Errorf("close code %d, want 1002", code)
		}
		waitLine(t, s, "close 1002 by server: websocket: bad MASK")
	})
}
