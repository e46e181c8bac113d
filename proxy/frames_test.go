package proxy

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha1"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/wschaos/wschaos/chaos"
	"github.com/wschaos/wschaos/internal/wstest"
	"github.com/wschaos/wschaos/vclock"
)

func closePayload(code int, reason string) []byte {
	return append(binary.BigEndian.AppendUint16(nil, uint16(code)), reason...)
}

// readAll is what a reader makes of input: each message as "op:payload",
// then the error it ends with.
type readOutcome struct {
	messages []string
	err      string
}

func ours(input []byte, masked bool, limit int64) readOutcome {
	fr := newFrameReader(bytes.NewReader(input), masked, limit, nil)
	var out readOutcome
	for {
		m, err := fr.next()
		if err != nil {
			out.err = err.Error()
			return out
		}
		if m.fragment {
			continue // gorilla hands over whole messages only
		}
		out.messages = append(out.messages, fmt.Sprintf("%d:%q", m.op, m.data))
	}
}

// gorillas is what gorilla's server makes of input from a client: the
// frame reader must find the same messages and fail with the same error.
func gorillas(t *testing.T, input []byte, limit int64) readOutcome {
	t.Helper()
	got := make(chan readOutcome, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ws, err := (&websocket.Upgrader{}).Upgrade(w, r, nil)
		if err != nil {
			got <- readOutcome{err: "upgrade: " + err.Error()}
			return
		}
		defer ws.Close()
		ws.SetReadLimit(limit)
		var out readOutcome
		control := func(op int) func(string) error {
			return func(s string) error {
				out.messages = append(out.messages, fmt.Sprintf("%d:%q", op, s))
				return nil
			}
		}
		ws.SetPingHandler(control(websocket.PingMessage))
		ws.SetPongHandler(control(websocket.PongMessage))
		ws.SetCloseHandler(func(int, string) error { return nil })
		for {
			op, data, err := ws.ReadMessage()
			if err != nil {
				out.err = err.Error()
				got <- out
				return
			}
			out.messages = append(out.messages, fmt.Sprintf("%d:%q", op, data))
		}
	}))
	defer srv.Close()
	nc, err := net.Dial("tcp", srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	fmt.Fprintf(nc, "GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"+
		"Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n")
	br := bufio.NewReader(nc)
	resp, err := http.ReadResponse(br, nil)
	if err != nil || resp.StatusCode != http.StatusSwitchingProtocols {
		t.Fatalf("handshake: %v %v", resp, err)
	}
	nc.Write(input)
	nc.(*net.TCPConn).CloseWrite()
	select {
	case out := <-got:
		return out
	case <-time.After(10 * time.Second):
		t.Fatal("gorilla never finished reading")
	}
	return readOutcome{}
}

// clientInputs are client streams, good and bad, for the reader and
// gorilla to agree on.
var clientInputs = map[string][]byte{
	"one text frame": wstest.Frame(0x81, []byte("hello"), true),
	"16-bit length":  wstest.Frame(0x82, bytes.Repeat([]byte{7}, 300), true),
	"64-bit length":  wstest.Frame(0x82, bytes.Repeat([]byte{9}, 70000), true),
	"fragments around a ping": slicesConcat(
		wstest.Frame(0x02, []byte("ab"), true), wstest.Frame(0x89, []byte("p"), true),
		wstest.Frame(0x00, []byte("cd"), true), wstest.Frame(0x80, []byte("ef"), true)),
	"empty text":           wstest.Frame(0x81, nil, true),
	"pong":                 wstest.Frame(0x8a, []byte("x"), true),
	"close 1000 with text": wstest.Frame(0x88, closePayload(1000, "bye"), true),
	"close without code":   wstest.Frame(0x88, nil, true),
	"close 1005":           wstest.Frame(0x88, closePayload(1005, ""), true),
	"close 1014":           wstest.Frame(0x88, closePayload(1014, ""), true),
	"close 4000":           wstest.Frame(0x88, closePayload(4000, "app"), true),
	"close bad utf8":       wstest.Frame(0x88, closePayload(1000, "\xff"), true),
	"RSV1":                 wstest.Frame(0xc1, []byte("x"), true),
	"RSV2 RSV3 bad opcode": wstest.Frame(0xb3, []byte("x"), true),
	"long ping":            wstest.Frame(0x89, bytes.Repeat([]byte{1}, 126), true),
	"ping without FIN":     wstest.Frame(0x09, []byte("x"), true),
	"continuation first":   wstest.Frame(0x80, []byte("x"), true),
	"text inside a message": slicesConcat(
		wstest.Frame(0x01, []byte("a"), true), wstest.Frame(0x81, []byte("b"), true)),
	"unmasked":             {0x81, 0x01, 'x'},
	"over the limit":       wstest.Frame(0x82, bytes.Repeat([]byte{1}, 1025), true),
	"fragments over limit": slicesConcat(wstest.Frame(0x02, bytes.Repeat([]byte{1}, 600), true), wstest.Frame(0x80, bytes.Repeat([]byte{1}, 600), true)),
	"cut mid-header":       {0x81},
	"cut mid-payload":      wstest.Frame(0x81, []byte("hello"), true)[:8],
	"nothing":              nil,
}

func slicesConcat(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

// readWhole reads on to the next message or control frame that is whole,
// and returns it with raw the bytes of every fragment and piece it came in.
func readWhole(fr *frameReader) (message, error) {
	var raw []byte
	for {
		m, err := fr.next()
		if err != nil {
			return m, err
		}
		raw = append(raw, m.raw...)
		if !m.fragment {
			m.raw = raw
			return m, nil
		}
	}
}

// TestFrameReaderReadsAsGorillaDoes: for each stream, good or broken, the
// relay's reader finds gorilla's messages and ends with gorilla's error,
// word for word: the transcript and the close reason a broken client gets
// are as they were when gorilla read the frames.
func TestFrameReaderReadsAsGorillaDoes(t *testing.T) {
	const limit = 1024
	for name, input := range clientInputs {
		if name == "64-bit length" {
			continue // over the limit here; below
		}
		t.Run(name, func(t *testing.T) {
			want := gorillas(t, input, limit)
			got := ours(input, true, limit)
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("frame reader: %+v\ngorilla:      %+v", got, want)
			}
		})
	}
	input := clientInputs["64-bit length"]
	if got, want := ours(input, true, 1<<20), gorillas(t, input, 1<<20); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("64-bit length: frame reader: %.200v\ngorilla: %.200v", got, want)
	}
}

// TestFrameReaderKeepsFramesAsTheyCame: a message in one frame comes with
// its bytes as they came, mask and all, to relay as they are; a message in
// fragments comes fragment by fragment as they came, then whole with its
// last fragment.
func TestFrameReaderKeepsFramesAsTheyCame(t *testing.T) {
	one := wstest.Frame(0x81, []byte("hello"), true)
	f1, f2, f3 := wstest.Frame(0x01, []byte("a"), true), wstest.Frame(0x00, []byte("b"), true), wstest.Frame(0x80, []byte("c"), true)
	fr := newFrameReader(bytes.NewReader(slicesConcat(one, f1, f2, f3)), true, 1024, nil)
	m, err := fr.next()
	if err != nil || string(m.data) != "hello" || !bytes.Equal(m.raw, one) || m.fragment || m.fragmented {
		t.Fatalf("one frame: %+v, %v; want hello raw %x", m, err, one)
	}
	for i, want := range [][]byte{f1, f2} {
		m, err = fr.next()
		if err != nil || !m.fragment || m.first != (i == 0) || m.data != nil || !bytes.Equal(m.raw, want) || m.op != websocket.TextMessage {
			t.Fatalf("fragment %d: %+v, %v; want raw %x", i+1, m, err, want)
		}
	}
	m, err = fr.next()
	if err != nil || string(m.data) != "abc" || !m.fragmented || m.fragment || !bytes.Equal(m.raw, f3) {
		t.Fatalf("whole message: %+v, %v; want abc with the last fragment %x", m, err, f3)
	}
}

// TestFrameReaderChecksTextAsItComes: a text message's fragments say
// whether its bytes so far are UTF-8, a rune split between fragments
// included.
func TestFrameReaderChecksTextAsItComes(t *testing.T) {
	euro := []byte("€") // 3 bytes
	for _, tc := range []struct {
		name  string
		parts [][]byte
		bad   []bool // after each fragment but the last
	}{
		{"split rune", [][]byte{append([]byte("a"), euro[:1]...), euro[1:2], euro[2:]}, []bool{false, false}},
		{"bad byte", [][]byte{[]byte("ok"), {0xff}, []byte("x")}, []bool{false, true}},
		{"truncated rune", [][]byte{euro[:2], []byte("x"), []byte("y")}, []bool{false, true}},
	} {
		var in []byte
		for i, p := range tc.parts {
			b0 := byte(opContinuation)
			if i == 0 {
				b0 = websocket.TextMessage
			}
			if i == len(tc.parts)-1 {
				b0 |= finBit
			}
			in = append(in, wstest.Frame(b0, p, true)...)
		}
		fr := newFrameReader(bytes.NewReader(in), true, 1024, nil)
		for i, want := range tc.bad {
			m, err := fr.next()
			if err != nil || !m.fragment || m.badText != want {
				t.Errorf("%s: fragment %d: bad %v, %v; want bad %v", tc.name, i+1, m.badText, err, want)
			}
		}
	}
}

// TestFrameReaderStartsWithLeftover: the bytes a handshake read ahead are
// read before the socket's.
func TestFrameReaderStartsWithLeftover(t *testing.T) {
	first := []byte{0x81, 0x05, 'f', 'i', 'r', 's', 't'}
	second := []byte{0x81, 0x06, 's', 'e', 'c', 'o', 'n', 'd'}
	fr := newFrameReader(bytes.NewReader(second), false, 1024, first)
	for _, want := range []string{"first", "second"} {
		m, err := fr.next()
		if err != nil || string(m.data) != want {
			t.Fatalf("got %q, %v; want %q", m.data, err, want)
		}
	}
	if _, err := fr.next(); !errors.Is(err, errUnexpectedEOF) {
		t.Fatalf("at the end: %v, want %v", err, errUnexpectedEOF)
	}
}

// TestFrameReaderRefusesMaskedServerFrames: a server's frames must not be
// masked (RFC 6455 5.1).
func TestFrameReaderRefusesMaskedServerFrames(t *testing.T) {
	got := ours(wstest.Frame(0x81, []byte("x"), true), false, 1024)
	if got.err != "websocket: bad MASK" {
		t.Fatalf("masked server frame: %+v, want bad MASK", got)
	}
}

// TestFrameReaderLetsGoOfABigBuffer: after a frame too big for the read
// buffer, the reader goes back to its own small one, and gives back the
// message's array: between messages it holds no more than it started with.
func TestFrameReaderLetsGoOfABigBuffer(t *testing.T) {
	for _, size := range []int{64 << 10, 1 << 20} {
		for _, masked := range []bool{false, true} {
			big := bytes.Repeat([]byte{1}, size)
			fr := newFrameReader(bytes.NewReader(slicesConcat(appendFrame(nil, websocket.BinaryMessage, big, masked),
				appendFrame(nil, websocket.TextMessage, []byte("small"), masked))), masked, 2<<20, nil)
			if m, err := readWhole(fr); err != nil || !bytes.Equal(m.data, big) {
				t.Fatalf("%d bytes, masked %v: big frame: %d bytes, %v", size, masked, len(m.data), err)
			}
			if m, err := readWhole(fr); err != nil || string(m.data) != "small" {
				t.Fatalf("%d bytes, masked %v: small frame: %.40q, %v", size, masked, m.data, err)
			}
			fr.release() // as the next call would
			if len(fr.buf) != relayReadBuffer || fr.msgHeld != nil || fr.msgData != nil {
				t.Errorf("%d bytes, masked %v: after a small frame the reader holds a read buffer of %d bytes (want %d), message bytes %d",
					size, masked, len(fr.buf), relayReadBuffer, cap(fr.msgData))
			}
		}
	}
}

// TestAppendFrameReadsBack: every length form, masked and not, reads back
// as the payload it framed, by the relay's reader and by gorilla's.
func TestAppendFrameReadsBack(t *testing.T) {
	for _, n := range []int{0, 1, 125, 126, 65535, 65536, 70000} {
		payload := bytes.Repeat([]byte("abcdefg"), n/7+1)[:n]
		for _, masked := range []bool{false, true} {
			framed := appendFrame(nil, websocket.BinaryMessage, payload, masked)
			m, err := readWhole(newFrameReader(bytes.NewReader(framed), masked, 1<<20, nil))
			if err != nil || !bytes.Equal(m.data, payload) || !bytes.Equal(m.raw, framed) {
				t.Errorf("%d bytes, masked %v: read back %d bytes, %v", n, masked, len(m.data), err)
			}
			if masked {
				if got := gorillas(t, framed, 1<<20); len(got.messages) != 1 ||
					got.messages[0] != fmt.Sprintf("%d:%q", websocket.BinaryMessage, payload) {
					t.Errorf("%d bytes: gorilla read %.80v", n, got)
				}
			}
		}
	}
}

// acceptKey is the Sec-WebSocket-Accept for key (RFC 6455 4.2.2).
func acceptKey(key string) string {
	h := sha1.Sum([]byte(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"))
	return base64.StdEncoding.EncodeToString(h[:])
}

// rawUpstream is a WebSocket server written by hand: it answers the
// handshake with 101 and first in one write, then sends every frame it
// reads (fragments included) to got, as the relay's reader reads them, and
// last how its reading ended (op -1, the error's text as data).
func rawUpstream(t *testing.T, first []byte) (url string, got <-chan message) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	ch := make(chan message, 100)
	go func() {
		defer close(ch)
		nc, err := ln.Accept()
		if err != nil {
			return
		}
		defer nc.Close()
		br := bufio.NewReader(nc)
		req, err := http.ReadRequest(br)
		if err != nil {
			return
		}
		answer := "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
			"Sec-WebSocket-Accept: " + acceptKey(req.Header.Get("Sec-WebSocket-Key")) + "\r\n\r\n"
		nc.Write(append([]byte(answer), first...))
		fr := newFrameReader(br, true, 1<<20, nil)
		for {
			m, err := fr.next()
			if err != nil {
				ch <- message{op: -1, data: []byte(err.Error())} // how it ended
				return
			}
			m.raw, m.data = bytes.Clone(m.raw), bytes.Clone(m.data)
			ch <- m
		}
	}()
	return "ws://" + ln.Addr().String(), ch
}

// rawClient opens a WebSocket to the proxy by hand, to send frames as they
// are.
func rawClient(t *testing.T, p *Proxy) net.Conn {
	t.Helper()
	nc, err := net.Dial("tcp", strings.TrimPrefix(p.URL, "ws://"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	fmt.Fprintf(nc, "GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"+
		"Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n")
	if resp, err := http.ReadResponse(bufio.NewReader(nc), nil); err != nil || resp.StatusCode != http.StatusSwitchingProtocols {
		t.Fatalf("handshake: %v %v", resp, err)
	}
	return nc
}

// arrives is the next frame the upstream gets.
func arrives(t *testing.T, got <-chan message) message {
	t.Helper()
	select {
	case m, ok := <-got:
		if !ok {
			t.Fatal("the upstream's socket ended")
		}
		return m
	case <-time.After(5 * time.Second):
		t.Fatal("nothing reached the upstream")
	}
	return message{}
}

// TestRelayKeepsWhatTheUpstreamSentWithItsAnswer: frames an upstream sends
// in the same packet as its 101 reach the client. gorilla's Dialer reads
// them ahead with the answer; the relay must not lose them.
func TestRelayKeepsWhatTheUpstreamSentWithItsAnswer(t *testing.T) {
	first := slicesConcat(appendFrame(nil, websocket.TextMessage, []byte(`{"event":"hello"}`), false),
		appendFrame(nil, websocket.TextMessage, []byte("second"), false))
	url, _ := rawUpstream(t, first)
	p := NewServer(url)
	defer p.Close()
	ws, _, err := websocket.DefaultDialer.Dial(p.URL, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	ws.SetReadDeadline(time.Now().Add(5 * time.Second))
	for _, want := range []string{`{"event":"hello"}`, "second"} {
		_, data, err := ws.ReadMessage()
		if err != nil || string(data) != want {
			t.Fatalf("got %q, %v; want %q", data, err, want)
		}
	}
}

// TestRelayPassesAClientFrameAsItCame: a client frame no fault touched
// reaches the upstream byte for byte, the client's mask key included.
func TestRelayPassesAClientFrameAsItCame(t *testing.T) {
	url, got := rawUpstream(t, nil)
	p := NewServer(url)
	defer p.Close()
	nc := rawClient(t, p)
	one := wstest.Frame(0x81, []byte("as it came"), true)
	nc.Write(one)
	if m := arrives(t, got); !bytes.Equal(m.raw, one) {
		t.Fatalf("upstream got %x; want the client's frame as it came, %x", m.raw, one)
	}
}

// TestRelayPassesFragmentsAsTheyCome: with no frame fault, a message in
// fragments goes on fragment by fragment as they arrive, before it is
// whole, and is recorded whole once it is.
func TestRelayPassesFragmentsAsTheyCome(t *testing.T) {
	url, got := rawUpstream(t, nil)
	p := NewServer(url)
	defer p.Close()
	nc := rawClient(t, p)
	frags := [][]byte{wstest.Frame(0x01, []byte("frag"), true), wstest.Frame(0x00, []byte("men"), true), wstest.Frame(0x80, []byte("ts"), true)}
	for i, f := range frags {
		nc.Write(f)
		if m := arrives(t, got); !bytes.Equal(m.raw, f) {
			t.Fatalf("fragment %d reached the upstream as %x; want it as it came, %x, before the next is sent", i+1, m.raw, f)
		}
	}
	want := "#1 up-send fragments"
	if err := p.Transcript().Wait(ctxWithin(t, 5*time.Second), func(es []Entry) bool {
		return strings.Contains(fakeserverFormat(es), want)
	}); err != nil {
		t.Fatalf("no %q: %v", want, err)
	}
}

// TestFrameFaultsSeeFragmentedMessagesWhole: with a frame fault installed,
// a message in fragments waits until it is whole, so the fault can act on
// it; here a duplicate sends it on twice, each in one frame.
func TestFrameFaultsSeeFragmentedMessagesWhole(t *testing.T) {
	url, got := rawUpstream(t, nil)
	p := NewServer(url, chaos.Duplicate())
	defer p.Close()
	nc := rawClient(t, p)
	nc.Write(wstest.Frame(0x01, []byte("who"), true))
	nc.Write(wstest.Frame(0x80, []byte("le"), true))
	for i := range 2 {
		if m := arrives(t, got); m.fragment || m.fragmented || string(m.data) != "whole" {
			t.Fatalf("copy %d: %+v; want whole in one frame", i+1, m)
		}
	}
}

// TestRelayHoldsDataFramesUntilAFragmentedMessageEnds: a frame delayed
// before a message began fragment by fragment, and due in its middle,
// waits for the message's last fragment: two messages' frames never mix.
// The delay is jitter's, which a later message may pass (delay's may not:
// the message would wait behind it instead).
func TestRelayHoldsDataFramesUntilAFragmentedMessageEnds(t *testing.T) {
	url, got := rawUpstream(t, nil)
	clock := vclock.New()
	p := NewUnstartedServer(url)
	p.Clock = clock
	p.Start()
	defer p.Close()
	id, err := p.AddFault(chaos.Jitter(time.Second))
	if err != nil {
		t.Fatal(err)
	}
	nc := rawClient(t, p)
	nc.Write(wstest.Frame(0x81, []byte("late"), true))
	waitEntries(t, p, "fault jitter")
	p.RemoveFault(id)
	nc.Write(wstest.Frame(0x01, []byte("first "), true))
	if m := arrives(t, got); !m.fragment || !m.first {
		t.Fatalf("got %+v; want the first fragment", m)
	}
	clock.Advance(time.Second) // "late" is due now (jitter is below 1s), in the message's middle
	waitEntries(t, p, "late")
	nc.Write(wstest.Frame(0x80, []byte("last"), true))
	if m := arrives(t, got); !m.fragmented || string(m.data) != "first last" {
		t.Fatalf("got %+v; want the message's last fragment before anything else", m)
	}
	if m := arrives(t, got); string(m.data) != "late" {
		t.Fatalf("got %+v; want the delayed frame after the message", m)
	}
}

// TestBadTextInFragmentsIsClosed1007: a text message whose fragments turn
// out not to be UTF-8 stops going on at the bad fragment, and both sides
// get close 1007 once it has ended: a close may come between fragments.
func TestBadTextInFragmentsIsClosed1007(t *testing.T) {
	url, got := rawUpstream(t, nil)
	p := NewServer(url)
	defer p.Close()
	nc := rawClient(t, p)
	nc.Write(wstest.Frame(0x01, []byte("fine"), true))
	if m := arrives(t, got); !m.fragment {
		t.Fatalf("got %+v; want the first fragment", m)
	}
	nc.Write(wstest.Frame(0x00, []byte{0xff}, true))
	nc.Write(wstest.Frame(0x80, []byte("end"), true))
	if m := arrives(t, got); m.op != -1 || !strings.Contains(string(m.data), "close 1007") {
		t.Fatalf("after the bad fragment the upstream got %+v (%s); want close 1007", m, m.data)
	}
	fr := newFrameReader(nc, false, 1024, nil)
	nc.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := fr.next(); !isClose(err, websocket.CloseInvalidFramePayloadData) {
		t.Fatalf("client got %v; want close 1007", err)
	}
}

func isClose(err error, code int) bool {
	var ce *websocket.CloseError
	return errors.As(err, &ce) && ce.Code == code
}

func waitEntries(t *testing.T, p *Proxy, text string) {
	t.Helper()
	if err := p.Transcript().Wait(ctxWithin(t, 5*time.Second), func(es []Entry) bool {
		return strings.Contains(fakeserverFormat(es), text)
	}); err != nil {
		t.Fatalf("no %q: %v", text, err)
	}
}

func fakeserverFormat(es []Entry) string {
	var b strings.Builder
	for _, e := range es {
		b.WriteString(e.String() + "\n")
	}
	return b.String()
}

func ctxWithin(t *testing.T, d time.Duration) context.Context {
	c, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return c
}

// TestFrameReaderGrowsAsBytesArrive: a header announcing a big frame
// costs no memory until the frame's bytes come; a junk client cannot make
// the proxy hold 16 MiB with 14 bytes.
func TestFrameReaderGrowsAsBytesArrive(t *testing.T) {
	header := binary.BigEndian.AppendUint64([]byte{0x82, maskBit | 127}, 15<<20)
	input := append(append(header, 1, 2, 3, 4), bytes.Repeat([]byte{0}, 100)...)
	fr := newFrameReader(bytes.NewReader(input), true, maxFrameSize, nil)
	if _, err := readWhole(fr); !errors.Is(err, errUnexpectedEOF) {
		t.Fatalf("got %v, want %v", err, errUnexpectedEOF)
	}
	if len(fr.buf) > relayReadBuffer || cap(fr.msgData) > 4<<10 {
		t.Fatalf("read buffer grew to %d bytes, message bytes to %d, for a frame that sent 100; want at most %d and 4 KiB",
			len(fr.buf), cap(fr.msgData), relayReadBuffer)
	}
}
