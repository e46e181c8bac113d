package slab

import (
	"bytes"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
	"unsafe"
)

// tierCase is a tier under test, by the payload size that lands in it.
type tierCase struct {
	payload, slab int
	spares        func() int
}

var tierCases = []tierCase{
	{1 << 10, small.size(), small.spares},
	{64 << 10, large.size(), large.spares},
}

func (c tierCase) String() string { return fmt.Sprintf("%dKiB", c.payload>>10) }

// perSlab is how many payloads of c fill a slab.
func (c tierCase) perSlab() int { return c.slab / c.payload }

// maxSpare is how many slabs of c the spares hold at most.
func (c tierCase) maxSpare() int { return MaxSpareBytes / c.slab }

// The copies of payloads share an allocation, and each keeps its bytes
// when the buffer it came from is reused and more payloads follow it into
// the slab.
func TestStringsShareSlabsAndKeepTheirBytes(t *testing.T) {
	for _, c := range tierCases {
		t.Run(c.String(), func(t *testing.T) {
			var s Strings
			buf := make([]byte, c.payload)
			var kept []string
			for i := range 3 * c.perSlab() {
				for j := range buf {
					buf[j] = byte('a' + i%26)
				}
				kept = append(kept, s.String(buf))
			}
			for i, k := range kept {
				if k != string(bytes.Repeat([]byte{byte('a' + i%26)}, c.payload)) {
					t.Fatalf("payload %d changed after later ones: %.8q...", i, k)
				}
			}
			allocs := testing.AllocsPerRun(c.perSlab(), func() { s.String(buf) })
			if allocs > 2.0/float64(c.perSlab()) {
				t.Errorf("%.3f allocations per payload, want one per slab (%d payloads)", allocs, c.perSlab())
			}
		})
	}
	var s Strings
	if big := make([]byte, 1<<20); s.String(big) != string(big) {
		t.Error("a payload too big for a slab was not copied whole")
	}
	if s.String(nil) != "" {
		t.Error("an empty payload is not empty")
	}
}

// fillSlab makes a slab of c's payloads of byte v in a new Strings and
// returns the first, the others dropped.
func fillSlab(c tierCase, v byte) string {
	var s Strings
	buf := bytes.Repeat([]byte{v}, c.payload)
	first := s.String(buf)
	for range c.perSlab() - 1 {
		s.String(buf)
	}
	return first
}

// settle runs collections until done reports true, letting the finalizer
// goroutine run between them, and reports whether it did.
func settle(done func() bool) bool {
	for range 200 {
		if done() {
			return true
		}
		runtime.GC()
		time.Sleep(time.Millisecond)
	}
	return done()
}

// within reports whether s's bytes lie in the slab of c that starts with
// first.
func within(c tierCase, s, first string) bool {
	p, base := uintptr(unsafe.Pointer(unsafe.StringData(s))), uintptr(unsafe.Pointer(unsafe.StringData(first)))
	return p >= base && p < base+uintptr(c.slab)
}

// A slab nothing points into any more is taken again rather than a new
// one allocated.
func TestSlabIsReusedOnceNoStringPointsIntoIt(t *testing.T) {
	for _, c := range tierCases {
		t.Run(c.String(), func(t *testing.T) {
			fillSlab(c, 'a')
			if !settle(func() bool { return c.spares() > 0 }) {
				t.Fatal("no slab came back after its strings and their Strings were dropped")
			}
			r0 := ReusedBytes()
			var s Strings
			s.String(make([]byte, c.payload))
			if got := ReusedBytes() - r0; got != int64(c.slab) {
				t.Errorf("%d bytes reused, want a slab's %d: a spare slab was there, yet a new one was allocated", got, c.slab)
			}
		})
	}
}

// While one string points into a slab, its bytes are never written again,
// however many collections run and slabs are taken meanwhile, by the
// Strings that made it or by another.
func TestSlabIsNeverReusedWhileAStringPointsIntoIt(t *testing.T) {
	for _, c := range tierCases {
		t.Run(c.String(), func(t *testing.T) {
			var s Strings
			keep := s.String(bytes.Repeat([]byte("k"), c.payload))
			want := strings.Repeat("k", c.payload)
			buf := bytes.Repeat([]byte("x"), c.payload)
			for round := range 5 {
				for i := range 2 * c.maxSpare() * c.perSlab() {
					sharesByRight := round == 0 && i < c.perSlab()-1 // the rest of keep's slab
					if got := s.String(buf); within(c, got, keep) && !sharesByRight {
						t.Fatalf("round %d: payload %d was put in the slab a kept string points into", round, i)
					}
				}
				if got := fillSlab(c, 'y'); within(c, got, keep) {
					t.Fatalf("round %d: another Strings was given the slab a kept string points into", round)
				}
				if keep != want {
					t.Fatalf("round %d: the kept string changed: %.8q...", round, keep)
				}
				settle(func() bool { return c.spares() == c.maxSpare() }) // the slabs let go come back
			}
			runtime.KeepAlive(keep)
		})
	}
}

// The spares are bounded: what a record let go beyond MaxSpareBytes is the
// collector's.
func TestSparesAreBounded(t *testing.T) {
	for _, c := range tierCases {
		t.Run(c.String(), func(t *testing.T) {
			for range 3 * c.maxSpare() {
				fillSlab(c, 'b')
			}
			if !settle(func() bool { return c.spares() == c.maxSpare() }) {
				t.Fatalf("%d spares after %d slabs were let go, want %d", c.spares(), 3*c.maxSpare(), c.maxSpare())
			}
		})
	}
}

// Goroutines sharing a Strings each get their own bytes back, whatever
// the others write meanwhile (run with -race, as make test does).
func TestStringsIsSafeForConcurrentUse(t *testing.T) {
	var s Strings
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for g := range 4 {
		wg.Go(func() {
			for i := range 500 {
				size := 100 + (g*500+i)%(10<<10) // both tiers
				v := byte('a' + g)
				if got := s.String(bytes.Repeat([]byte{v}, size)); got != strings.Repeat(string(v), size) {
					errs <- fmt.Errorf("goroutine %d, payload %d: got %.8q... of %d bytes", g, i, got, len(got))
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}
