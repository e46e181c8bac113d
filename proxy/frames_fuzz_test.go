package proxy

import (
	"bytes"
	"errors"
	"io"
	"testing"

	"github.com/gorilla/websocket"

	"github.com/wschaos/wschaos/internal/wstest"
)

// FuzzFrameReader: any byte stream, from either side, delivered in reads
// of any size, reads as messages until an error the relay knows how to
// answer (a protocol error, a close, the read limit, the stream's end);
// nothing panics, a message's pieces and fragments are the bytes it came
// in, in order, and a message read back from them is itself.
func FuzzFrameReader(f *testing.F) {
	for _, in := range clientInputs {
		f.Add(in, true, uint16(0))
	}
	f.Add(appendFrame(nil, websocket.TextMessage, []byte("hi"), false), false, uint16(0))
	big := bytes.Repeat([]byte("abcdefghij"), 2000) // over maxWholeFrame: comes in pieces
	f.Add(wstest.Frame(0x81, big, true), true, uint16(1000))
	f.Add(slicesConcat(wstest.Frame(0x01, big, true), wstest.Frame(0x89, nil, true), wstest.Frame(0x80, big, true)), true, uint16(7))
	f.Add(appendFrame(nil, websocket.BinaryMessage, big, false), false, uint16(4095))
	f.Fuzz(func(t *testing.T, input []byte, masked bool, chunk uint16) {
		var r io.Reader = bytes.NewReader(input)
		if chunk > 0 {
			r = &chunkReader{r: r, n: int(chunk)}
		}
		fr := newFrameReader(r, masked, 1<<16, nil)
		var raw []byte // of the message arriving
		for {
			m, err := fr.next()
			if err != nil {
				var pe *protocolError
				var ce *websocket.CloseError
				if !errors.As(err, &pe) && !errors.As(err, &ce) && !errors.Is(err, websocket.ErrReadLimit) {
					t.Fatalf("unexpected error %T: %v", err, err)
				}
				return
			}
			if m.fragment {
				if m.data != nil || m.raw == nil {
					t.Fatalf("fragment with data %q, raw %x", m.data, m.raw)
				}
				raw = append(raw, m.raw...)
				continue
			}
			if m.raw == nil {
				continue // a control frame
			}
			raw = append(raw, m.raw...)
			again, err := readWhole(newFrameReader(bytes.NewReader(raw), masked, 1<<16, nil))
			if err != nil || again.op != m.op || !bytes.Equal(again.data, m.data) || !bytes.Equal(again.raw, raw) {
				t.Fatalf("message came in %.64x, which reads back as %d %.40q, %v; want %d %.40q", raw, again.op, again.data, err, m.op, m.data)
			}
			raw = raw[:0]
		}
	})
}

// chunkReader reads at most n bytes at a time.
type chunkReader struct {
	r io.Reader
	n int
}

func (c *chunkReader) Read(b []byte) (int, error) { return c.r.Read(b[:min(len(b), c.n)]) }
