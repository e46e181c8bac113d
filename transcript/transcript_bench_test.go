package transcript_test

import (
	"bufio"
	"context"
	"io"
	"testing"

	"github.com/wschaos/wschaos/transcript"
)

// BenchmarkTranscriptAdd is the cost of recording one relayed frame: into
// an unbounded transcript, into one bounded by Keep with nobody reading,
// and into one bounded by Keep whose pinned reader writes every entry as
// a line, as `wschaos proxy --transcript` does (to io.Discard here, so the
// disk's speed is left out): there the recorder waits whenever the writer
// is a chunk behind, and an op is an entry recorded and written.
//
//	go test -run='^$' -bench=TranscriptAdd -count=6 ./fakeserver/
func BenchmarkTranscriptAdd(b *testing.B) {
	e := transcript.Entry{Attempt: 1, Kind: transcript.KindRecv, Op: 1, Data: `{"type":"m","payload":12345}`}
	b.Run("unbounded", func(b *testing.B) {
		tr := transcript.New()
		for b.Loop() {
			tr.Add(e)
		}
	})
	b.Run("keep-10000", func(b *testing.B) {
		tr := transcript.New()
		tr.Keep(10000)
		for b.Loop() {
			tr.Add(e)
		}
	})
	b.Run("keep-10000-pinned-writer", func(b *testing.B) {
		tr := transcript.New()
		tr.Keep(10000)
		pin := tr.Pin()
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() {
			defer close(done)
			w := bufio.NewWriter(io.Discard)
			for {
				es, err := pin.Next(ctx)
				if err != nil {
					return
				}
				for _, e := range es {
					w.WriteString(e.String())
					w.WriteByte('\n')
				}
				w.Flush()
			}
		}()
		for b.Loop() {
			tr.Add(e)
		}
		cancel()
		<-done
		pin.Release()
		if tr.Dropped() > tr.Len() {
			b.Fatal("impossible counts")
		}
	})
}
