package proxy

import (
	"bytes"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/wschaos/wschaos/chaos"
	"github.com/wschaos/wschaos/internal/wstest"
	"github.com/wschaos/wschaos/profile"
)

// A frame a client sends in two writes, the first of firstPart bytes: a
// message in one frame, too big for the relay to wait for whole.
const firstPart = 20 << 10

func bigPayload() []byte { return bytes.Repeat([]byte("0123456789abcdef"), (100<<10)/16) }

// upTo collects what reaches the upstream, as it came, until it holds n
// bytes or a whole message; it returns the bytes and the last arrival.
func upTo(t *testing.T, got <-chan message, n int) ([]byte, message) {
	t.Helper()
	var raw []byte
	for {
		m := arrives(t, got)
		if m.op == -1 {
			t.Fatalf("after %d bytes of %d the upstream's reading ended: %s", len(raw), n, m.data)
		}
		raw = append(raw, m.raw...)
		if len(raw) >= n || !m.fragment {
			return raw, m
		}
	}
}

// sendFirstPart starts a proxy between a raw upstream and a raw client,
// has the client send the first firstPart bytes of a frame of op with
// payload, and waits for them at the upstream. It returns what the rest of
// a test needs.
func sendFirstPart(t *testing.T, op byte, payload []byte) (p *Proxy, nc net.Conn, got <-chan message, frame, arrived []byte) {
	t.Helper()
	url, got := rawUpstream(t, nil)
	p = NewServer(url)
	t.Cleanup(p.Close)
	nc = rawClient(t, p)
	frame = wstest.Frame(op, payload, true)
	nc.Write(frame[:firstPart])
	arrived, _ = upTo(t, got, firstPart)
	return p, nc, got, frame, arrived
}

// TestRelayPassesABigFrameAsItComes: a message in one big frame goes on
// as its bytes arrive, mask and all, not once it is whole, and is recorded
// once, whole.
func TestRelayPassesABigFrameAsItComes(t *testing.T) {
	url, got := rawUpstream(t, nil)
	p := NewServer(url)
	defer p.Close()
	nc := rawClient(t, p)
	payload := bigPayload()
	frame := wstest.Frame(0x82, payload, true)
	nc.Write(frame[:firstPart])
	m := arrives(t, got)
	if !m.fragment || !m.first || !bytes.HasPrefix(frame, m.raw) {
		t.Fatalf("the upstream got %.60v; want the frame's first bytes as they came, before the rest is sent", m)
	}
	raw := bytes.Clone(m.raw)
	nc.Write(frame[firstPart:])
	rest, m := upTo(t, got, len(frame)-len(raw))
	raw = append(raw, rest...)
	if m.fragment || m.op != websocket.BinaryMessage || !bytes.Equal(m.data, payload) || !bytes.Equal(raw, frame) {
		t.Fatalf("the upstream got %d bytes ending in %.60v; want the client's frame as it came, %d bytes", len(raw), m, len(frame))
	}
	waitEntries(t, p, "#1 up-send binary")
	if n := strings.Count(p.Transcript().String(), "up-send"); n != 1 {
		t.Fatalf("%d up-send entries; want the message recorded once:\n%s", n, p.Transcript())
	}
}

// TestACloseWaitsForAFrameHalfRelayed: a close the proxy sends while a
// frame is half relayed follows the frame's end; sent at once, it would
// land inside the frame, and the peer would read it as more of the frame.
func TestACloseWaitsForAFrameHalfRelayed(t *testing.T) {
	payload := bigPayload()
	p, nc, got, frame, raw := sendFirstPart(t, 0x82, payload)
	p.CutAll(chaos.Cut{Kind: chaos.CloseFrame, Code: profile.StatusInternalError})
	nc.Write(frame[firstPart:])
	rest, m := upTo(t, got, len(frame)-len(raw))
	if raw = append(raw, rest...); !bytes.Equal(raw, frame) || !bytes.Equal(m.data, payload) {
		t.Fatalf("the upstream got %d bytes ending in %.60v; want the client's frame whole, %d bytes", len(raw), m, len(frame))
	}
	if m := arrives(t, got); m.op != -1 || !strings.Contains(string(m.data), "close 1001") {
		t.Fatalf("after the frame the upstream got %.60v (%.80s); want the proxy's close 1001, as it cuts the upstream", m, m.data)
	}
}

// TestBadTextInABigFrameGoesOnThenCloses1007: text that turns out not to
// be UTF-8 after part of its frame has gone on: the rest of the frame goes
// on too, then both sides get close 1007, and the transcript says so.
func TestBadTextInABigFrameGoesOnThenCloses1007(t *testing.T) {
	payload := bigPayload()
	payload[firstPart+100] = 0xff // in a piece that is not the last
	p, nc, got, frame, raw := sendFirstPart(t, 0x81, payload)
	nc.Write(frame[firstPart:])
	rest, _ := upTo(t, got, len(frame)-len(raw))
	if raw = append(raw, rest...); !bytes.Equal(raw, frame) {
		t.Fatalf("the upstream got %d bytes; want the client's frame whole, %d bytes", len(raw), len(frame))
	}
	if m := arrives(t, got); m.op != -1 || !strings.Contains(string(m.data), "close 1007") {
		t.Fatalf("after the frame the upstream got %.60v (%.80s); want close 1007", m, m.data)
	}
	fr := newFrameReader(nc, false, 1024, nil)
	nc.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := fr.next(); !isClose(err, websocket.CloseInvalidFramePayloadData) {
		t.Fatalf("client got %v; want close 1007", err)
	}
	waitEntries(t, p, "not valid UTF-8: relayed")
}

// TestBlackHoleStopsAFrameWhereItIs: a black hole that falls in the middle
// of a frame stops it there, as a dead link would: nothing more of it
// reaches the upstream.
func TestBlackHoleStopsAFrameWhereItIs(t *testing.T) {
	p, nc, got, frame, raw := sendFirstPart(t, 0x82, bigPayload())
	p.CutAll(chaos.Cut{Kind: chaos.BlackHole})
	nc.Write(frame[firstPart:])
	waitEntries(t, p, "swallowed client frame #1")
	p.CutAll(chaos.Cut{Kind: chaos.RST}) // ends the upstream's reading
	for {
		m := arrives(t, got)
		if m.op == -1 {
			break
		}
		raw = append(raw, m.raw...)
	}
	if len(raw) != firstPart {
		t.Fatalf("the upstream got %d bytes of the frame; want the %d sent before the black hole", len(raw), firstPart)
	}
}
