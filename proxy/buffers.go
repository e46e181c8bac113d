package proxy

import "sync"

// bufferPool lends byte arrays for a while: a socket's writes between two
// flushes, a message's unmasked bytes while it arrives. A connection gives
// back what it borrowed once done with it, so an idle connection holds
// none, and a busy one takes an array another has used rather than a new
// one each time.
//
// Arrays come and go behind a *[]byte, which the borrower keeps and hands
// back, so that lending allocates nothing.
type bufferPool struct {
	pool sync.Pool
	size int // what a new array holds
	max  int // a bigger array is not taken back: one huge message's
}

// get returns a slice to borrow, empty and of at least the pool's size.
func (p *bufferPool) get() *[]byte {
	if h, ok := p.pool.Get().(*[]byte); ok {
		*h = (*h)[:0]
		return h
	}
	b := make([]byte, 0, p.size)
	return &b
}

// put takes back h, with the array *h now holds (it may have grown). The
// borrower must not use either after.
func (p *bufferPool) put(h *[]byte) {
	if h != nil && cap(*h) <= p.max {
		p.pool.Put(h)
	}
}

// writeBuffers holds what a socket writes between two flushes: room for
// flushAt bytes and the frames of one more read, so that the flushes of a
// busy connection take no new array.
var writeBuffers = &bufferPool{size: flushAt + relayReadBuffer, max: 4 * (flushAt + relayReadBuffer)}

// messageBuffers holds the unmasked bytes of a message while it arrives:
// a masked message or a fragmented one is copied there from the read
// buffer.
var messageBuffers = &bufferPool{size: 4 << 10, max: 128 << 10}
