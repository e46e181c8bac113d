// Package slab keeps the transcript's copies of payloads in shared
// allocations, and gives an allocation back for reuse once nothing can
// read it any more.
//
// A relay keeps a copy of every payload it relays: the record it exists
// for. One allocation per payload cost more than the copy, so payloads
// share slabs. Even so the record paced the collector: in a heap of a few
// MiB, a record growing by every payload started a collection for about
// every MiB a proxy echoed, a tenth of its rate. Recycling the slabs of
// records already let go (a proxy closed and dropped, the chunks a Keep
// bound passed) means that a process relaying through one proxy after
// another allocates its payload memory once, not once per proxy. The
// first record in a process gains nothing; it loses nothing either.
//
// A slab is recycled only when the collector has found no string that
// points into it: a finalizer, which unlike a cleanup may hand its object
// on, puts it on a spare list. So a payload string never changes, however
// long a reader keeps it.
package slab

import (
	"runtime"
	"sync"
	"sync/atomic"
	"unsafe"
)

// Payloads up to an eighth of a tier's slab share its slabs, so at most
// an eighth of a slab is left unused when the next payload does not fit:
// up to 8 KiB in 64 KiB slabs, up to 64 KiB in 512 KiB ones. A bigger
// payload gets an allocation of its own.
var (
	small = &tier[[64 << 10]byte]{}
	large = &tier[[512 << 10]byte]{}
)

// MaxSpareBytes bounds the bytes each tier keeps for reuse: room for a
// few MiB recorded by the next relay. The rest of what a record let go is
// the collector's.
const MaxSpareBytes = 4 << 20

var reused atomic.Int64

// Strings copies byte slices into strings that share slabs. It is safe
// for concurrent use: a proxy's connections share one, so that a thousand
// connections that each relay a message or two fill a slab or two between
// them, not a slab each. The zero value is ready.
type Strings struct {
	mu           sync.Mutex
	small, large []byte // the slabs being filled; bytes before len are handed out
}

// String returns a string holding b's bytes, which stay as they are
// however b and later payloads change.
func (s *Strings) String(b []byte) string {
	if len(b) == 0 || len(b) > large.size()/8 {
		return string(b)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(b) <= small.size()/8 {
		return small.put(&s.small, b)
	}
	return large.put(&s.large, b)
}

// tier is the slabs of one size, B, and their spares.
type tier[B any] struct {
	mu    sync.Mutex
	spare []*B
}

// size is B's size. (Sizeof does not evaluate its operand: no B is made.)
func (t *tier[B]) size() int {
	var b *B
	return int(unsafe.Sizeof(*b))
}

// put copies b to the end of *cur, taking a slab first if it does not
// fit, and returns the copy.
func (t *tier[B]) put(cur *[]byte, b []byte) string {
	if len(*cur)+len(b) > cap(*cur) {
		*cur = t.take()
	}
	*cur = append(*cur, b...)
	return unsafe.String(&(*cur)[len(*cur)-len(b)], len(b))
}

// take returns a spare slab, or a new one, with a finalizer that puts it
// back once nothing points into it.
func (t *tier[B]) take() []byte {
	var b *B
	t.mu.Lock()
	if n := len(t.spare); n > 0 {
		b, t.spare[n-1] = t.spare[n-1], nil
		t.spare = t.spare[:n-1]
	}
	t.mu.Unlock()
	if b != nil {
		reused.Add(int64(t.size()))
	} else {
		b = new(B)
	}
	runtime.SetFinalizer(b, t.putBack)
	return unsafe.Slice((*byte)(unsafe.Pointer(b)), t.size())[:0]
}

// putBack runs when the collector finds no pointer into b: every string
// made from it is gone, so its bytes may be written again.
func (t *tier[B]) putBack(b *B) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if (len(t.spare)+1)*t.size() <= MaxSpareBytes {
		t.spare = append(t.spare, b)
	}
}

func (t *tier[B]) spares() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.spare)
}

// ReusedBytes reports the bytes of the slabs taken from the spares since
// the process started: what a measure of the live heap misses, since a
// reused slab was live before it was reused.
func ReusedBytes() int64 { return reused.Load() }
