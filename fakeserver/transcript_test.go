package fakeserver_test

import (
	"context"
	"testing"
	"time"

	"github.com/wschaos/wschaos/fakeserver"
)

// TestTranscriptAcrossChunks: entries added in batches of every size,
// across the transcript's inner chunks, read back in order by Len, Since,
// Entries and Wait.
func TestTranscriptAcrossChunks(t *testing.T) {
	tr := fakeserver.NewTranscript()
	const total = 5000
	next := 0
	for size := 1; next < total; size = size*3%1500 + 1 {
		batch := make([]fakeserver.Entry, 0, size)
		for range min(size, total-next) {
			batch = append(batch, fakeserver.Entry{At: time.Duration(next), Attempt: 1, Kind: fakeserver.KindNote})
			next++
		}
		tr.Add(batch...)
		if tr.Len() != next {
			t.Fatalf("Len %d after %d entries", tr.Len(), next)
		}
	}
	inOrder := func(name string, es []fakeserver.Entry, from int) {
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
		if err := tr.Wait(ctx, func(es []fakeserver.Entry) bool { return len(es) == want }); err != nil {
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
	more := make([]fakeserver.Entry, 2000)
	for i := range more {
		more[i].At = time.Duration(total + i)
	}
	tr.Add(more...)
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	if err := tr.Wait(ctx, func(es []fakeserver.Entry) bool {
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
