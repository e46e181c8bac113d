package proxy

import (
	"runtime"
	"sync"
	"weak"

	"github.com/wschaos/wschaos/chaos"
)

// perLink is per-connection state of a proxy fault. chaos keeps its own
// faults' state inside the Link, out of reach of other packages, so the
// proxy's faults key theirs by the Link, weakly: an entry goes when its
// connection is collected, and one fault value can serve many connections.
type perLink[T any] struct {
	mu sync.Mutex
	m  map[weak.Pointer[chaos.Link]]*T
}

// get returns l's state, zero on first use. Faults are called in one
// connection's turns, one at a time per Link, so the state needs no lock of its
// own; the map does, being shared by every connection.
func (p *perLink[T]) get(l *chaos.Link) *T {
	key := weak.Make(l)
	p.mu.Lock()
	defer p.mu.Unlock()
	if v, ok := p.m[key]; ok {
		return v
	}
	if p.m == nil {
		p.m = map[weak.Pointer[chaos.Link]]*T{}
	}
	v := new(T)
	p.m[key] = v
	runtime.AddCleanup(l, p.forget, key)
	return v
}

func (p *perLink[T]) forget(key weak.Pointer[chaos.Link]) {
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.m, key)
}
