package transcript_test

import (
	"context"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/wschaos/wschaos/transcript"
)

// TestTranscriptAcrossChunks: entries added in batches of every size,
// across the transcript's inner chunks, read back in order by Len, Since,
// Entries and Wait.
func TestTranscriptAcrossChunks(t *testing.T) {
	tr := transcript.New()
	const total = 5000
	next := 0
	for size := 1; next < total; size = size*3%1500 + 1 {
		batch := make([]transcript.Entry, 0, size)
		for range min(size, total-next) {
			batch = append(batch, transcript.Entry{At: time.Duration(next), Attempt: 1, Kind: transcript.KindNote})
			next++
		}
		tr.Add(batch...)
		if tr.Len() != next {
			t.Fatalf("Len %d after %d entries", tr.Len(), next)
		}
	}
	inOrder := func(name string, es []transcript.Entry, from int) {
		t.Helper()
		if len(es) != total-from {
			t.Fatalf("%s: %d entries, want %d", name, len(es), total-from)
		}
		for i, e := range es {
			if e.At != time.Duration(from+i) {
				t.Fatalf("%s: entry %d is %v, want %v", name, i, e.At, time.Duration(from+i))
			}
		}
	}
	inOrder("Entries", tr.Entries(), 0)
	for _, n := range []int{0, 1, 1023, 1024, 1025, 2048, 4999, 5000} {
		inOrder("Since", tr.Since(n), n)
	}
	if got := tr.Since(total + 7); len(got) != 0 {
		t.Fatalf("Since past the end: %d entries", len(got))
	}
	wait := func(want int) {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		if err := tr.Wait(ctx, func(es []transcript.Entry) bool { return len(es) == want }); err != nil {
			t.Fatal(err)
		}
		es := tr.Since(0)
		for i, e := range es {
			if e.At != time.Duration(i) {
				t.Fatalf("after Wait: entry %d is %v", i, e.At)
			}
		}
	}
	wait(total)
	// A Wait's view is extended by what comes after it, into a new chunk.
	more := make([]transcript.Entry, 2000)
	for i := range more {
		more[i].At = time.Duration(total + i)
	}
	tr.Add(more...)
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	if err := tr.Wait(ctx, func(es []transcript.Entry) bool {
		for i, e := range es {
			if e.At != time.Duration(i) {
				t.Fatalf("Wait's view: entry %d is %v", i, e.At)
			}
		}
		return len(es) == total+len(more)
	}); err != nil {
		t.Fatal(err)
	}
}

// TestTranscriptKeep: a bounded transcript lets go of its oldest entries,
// a chunk at a time, and says so; positions stay those of every entry
// ever added, and a reader that fell behind learns how many it lost.
func TestTranscriptKeep(t *testing.T) {
	tr := transcript.New()
	tr.Keep(1500)
	add := func(from, to int) {
		for i := from; i < to; i++ {
			tr.Add(transcript.Entry{At: time.Duration(i), Kind: transcript.KindNote})
		}
	}
	add(0, 2000)
	if tr.Dropped() != 0 {
		t.Fatalf("dropped %d of 2000 with Keep 1500; a chunk goes only once 1,500 are held without it", tr.Dropped())
	}
	add(2000, 3000)
	if tr.Len() != 3000 || tr.Dropped() != 1024 {
		t.Fatalf("Len %d, Dropped %d; want 3000 and one chunk, 1024", tr.Len(), tr.Dropped())
	}
	if es := tr.Entries(); len(es) != 3000-1024 || es[0].At != 1024 || es[len(es)-1].At != 2999 {
		t.Fatalf("Entries: %d, from %v to %v", len(es), es[0].At, es[len(es)-1].At)
	}
	if s := tr.String(); !strings.HasPrefix(s, "… 1024 earlier entries not kept (Keep 1500)\n") {
		t.Fatalf("String starts %.60q; want the count of entries let go", s)
	}
	es, lost := tr.Tail(1000)
	if lost != 24 || len(es) != 3000-1024 || es[0].At != 1024 {
		t.Fatalf("Tail(1000): lost %d, %d entries from %v; want 24 lost, then all held", lost, len(es), es[0].At)
	}
	if es, lost := tr.Tail(2990); lost != 0 || len(es) != 10 || es[0].At != 2990 {
		t.Fatalf("Tail(2990): lost %d, %d entries", lost, len(es))
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	if err := tr.Wait(ctx, func(es []transcript.Entry) bool { return len(es) == 3000-1024 && es[0].At == 1024 }); err != nil {
		t.Fatal(err)
	}
	if err := tr.WaitBeyond(ctx, 2999); err != nil {
		t.Fatal(err)
	}
	short, cancelShort := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancelShort()
	if err := tr.WaitBeyond(short, 3000); err == nil {
		t.Fatal("WaitBeyond(3000) returned with 3000 entries")
	}
}

// TestTranscriptPinLosesNothing: with a pinned reader slower than the
// recorders, a transcript bounded to 10 entries still hands the reader
// every entry, in order: the recorders wait for it instead of Keep
// letting entries go, and memory stays within about a chunk.
func TestTranscriptPinLosesNothing(t *testing.T) {
	tr := transcript.New()
	tr.Keep(10)
	pin := tr.Pin()
	defer pin.Release()
	const recorders, each = 4, 3000
	for r := range recorders {
		go func() {
			for i := range each {
				tr.Add(transcript.Entry{Attempt: r + 1, At: time.Duration(i), Kind: transcript.KindNote})
			}
		}()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	next := make([]time.Duration, recorders)
	got := 0
	for got < recorders*each {
		es, err := pin.Next(ctx)
		if err != nil {
			t.Fatalf("after %d of %d entries: %v (dropped %d)", got, recorders*each, err, tr.Dropped())
		}
		for _, e := range es {
			if e.At != next[e.Attempt-1] {
				t.Fatalf("recorder %d: entry %v after %v: entries were let go", e.Attempt, e.At, next[e.Attempt-1]-1)
			}
			next[e.Attempt-1]++
		}
		got += len(es)
		if held := len(tr.Entries()); held > 3*1024 {
			t.Fatalf("%d entries held with Keep 10 and the reader caught up", held)
		}
		time.Sleep(time.Millisecond) // a slow reader: the recorders must wait for it
	}
	if tr.Dropped() == 0 {
		t.Errorf("Dropped 0: Keep let go of nothing the reader had read")
	}
}

// TestTranscriptPinReleaseFreesRecorders: a recorder waiting for a pinned
// reader goes on once the reader releases its pin, so closing never
// deadlocks; the transcript then bounds itself as without a pin.
func TestTranscriptPinReleaseFreesRecorders(t *testing.T) {
	tr := transcript.New()
	tr.Keep(10)
	pin := tr.Pin()
	for i := range 1024 {
		tr.Add(transcript.Entry{At: time.Duration(i), Kind: transcript.KindNote})
	}
	added := make(chan struct{})
	go func() {
		tr.Add(transcript.Entry{At: 1024, Kind: transcript.KindNote})
		close(added)
	}()
	select {
	case <-added:
		t.Fatal("the 1,025th entry was added while 1,024 waited unread by the pin")
	case <-time.After(50 * time.Millisecond):
	}
	pin.Release()
	select {
	case <-added:
	case <-time.After(5 * time.Second):
		t.Fatal("the recorder still waits after Release")
	}
	pin.Release() // twice is harmless
	if pin.Take() != nil {
		t.Error("a released pin still reads")
	}
	if _, err := pin.Next(context.Background()); err != transcript.ErrPinReleased {
		t.Errorf("Next on a released pin: %v, want ErrPinReleased", err)
	}
	for i := 1025; i < 3000; i++ {
		tr.Add(transcript.Entry{At: time.Duration(i), Kind: transcript.KindNote})
	}
	if tr.Dropped() == 0 {
		t.Error("Keep let nothing go once the pin was released")
	}
}

// Past the first chunk a transcript is a long one, and each later chunk is
// made whole once, not grown (and copied) entry by entry: a relay that
// records four entries a message allocates once per chunk for them.
func TestLongTranscriptAllocatesOncePerChunk(t *testing.T) {
	tr := transcript.New()
	e := transcript.Entry{Attempt: 1, Kind: transcript.KindRecv, Data: "x"}
	for range 1024 {
		tr.Add(e)
	}
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for range 4 * 1024 {
		tr.Add(e)
	}
	runtime.ReadMemStats(&after)
	if n := after.Mallocs - before.Mallocs; n > 8 {
		t.Errorf("%d allocations for four chunks of entries, want about one a chunk", n)
	}
}
