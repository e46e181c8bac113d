package proxy

import "unsafe"

// slabSize is how many payload bytes one allocation holds: at 1 KiB
// messages, one allocation per 64 messages instead of one each.
const slabSize = 64 << 10

// payloads makes the transcript's copy of each relayed payload, the one
// copy the relay keeps, out of slabs shared by a connection's messages:
// the bytes are copied as before, but the allocator and the collector see
// one object per slab, not one per message, which at small messages cost
// more than the copy. A string points into its slab, which lives as long
// as any of its strings does (the transcript's). Bytes once handed out are
// never written again: the slab only grows past them. It is the
// connection's, used under its lock.
type payloads struct{ slab []byte }

// text returns b as a string the transcript may keep.
func (p *payloads) text(b []byte) string {
	if len(b) == 0 || len(b) > slabSize/8 {
		return string(b) // a big payload gets its own allocation, as before
	}
	if len(p.slab)+len(b) > cap(p.slab) {
		p.slab = make([]byte, 0, slabSize)
	}
	p.slab = append(p.slab, b...)
	return unsafe.String(&p.slab[len(p.slab)-len(b)], len(b))
}
