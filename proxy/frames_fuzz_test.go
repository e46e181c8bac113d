package proxy

import (
	"bytes"
	"errors"
	"testing"

	"github.com/gorilla/websocket"
)

// FuzzFrameReader: any byte stream, from either side, reads as messages
// until an error the relay knows how to answer (a protocol error, a close,
// the read limit, the stream's end); nothing panics, and a message kept as
// it came reads back as itself.
func FuzzFrameReader(f *testing.F) {
	for _, in := range clientInputs {
		f.Add(in, true)
	}
	f.Add(appendFrame(nil, websocket.TextMessage, []byte("hi"), false), false)
	f.Fuzz(func(t *testing.T, input []byte, masked bool) {
		fr := newFrameReader(bytes.NewReader(input), masked, 1<<16, nil)
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
				continue
			}
			if m.raw == nil || m.fragmented {
				continue
			}
			again, err := newFrameReader(bytes.NewReader(m.raw), masked, 1<<16, nil).next()
			if err != nil || again.op != m.op || !bytes.Equal(again.data, m.data) {
				t.Fatalf("raw frame %x reads back as %d %q, %v; want %d %q", m.raw, again.op, again.data, err, m.op, m.data)
			}
		}
	})
}
