package client

import (
	"sync"

	"github.com/wschaos/wschaos/profile"
)

// Subscribe calls fn with every message of type typ the server sends, or
// with every message at all (events, replies, pongs) when typ is "". Calls
// come in arrival order on one goroutine, after the client has acted on the
// message; fn may call any Client method. The returned func unsubscribes.
func (c *Client) Subscribe(typ string, fn func(profile.Message)) (unsubscribe func()) {
	return subscribe(c.events, func(s *subscribers) *registry[func(profile.Message)] {
		if s.byType[typ] == nil {
			s.byType[typ] = &registry[func(profile.Message)]{}
		}
		return s.byType[typ]
	}, fn)
}

// OnState calls fn with every state transition, in order.
func (c *Client) OnState(fn func(StateChange)) (unsubscribe func()) {
	return subscribe(c.events, func(s *subscribers) *registry[func(StateChange)] { return &s.state }, fn)
}

// OnResync calls fn each time a hello carries a connection id other than the
// one the client had: events were missed and the application must refetch.
func (c *Client) OnResync(fn func()) (unsubscribe func()) {
	return subscribe(c.events, func(s *subscribers) *registry[func()] { return &s.resync }, fn)
}

// OnError calls fn with every frame the client could not understand; the
// client logs it and carries on, and this is how a user sees it.
func (c *Client) OnError(fn func(error)) (unsubscribe func()) {
	return subscribe(c.events, func(s *subscribers) *registry[func(error)] { return &s.errors }, fn)
}

// deliver queues m for its type's subscribers, then the "all" subscribers.
func (c *Client) deliver(m profile.Message) {
	d := c.events
	d.post(func() {
		var fns []func(profile.Message)
		d.read(func(s *subscribers) {
			if m.Type != "" && s.byType[m.Type] != nil {
				fns = s.byType[m.Type].list()
			}
			if s.byType[""] != nil {
				fns = append(fns, s.byType[""].list()...)
			}
		})
		for _, fn := range fns {
			fn(m)
		}
	})
}

func (c *Client) notifyState(ch StateChange) {
	d := c.events
	d.post(func() {
		var fns []func(StateChange)
		d.read(func(s *subscribers) { fns = s.state.list() })
		for _, fn := range fns {
			fn(ch)
		}
	})
}

func (c *Client) notifyResync() {
	d := c.events
	d.post(func() {
		var fns []func()
		d.read(func(s *subscribers) { fns = s.resync.list() })
		for _, fn := range fns {
			fn()
		}
	})
}

func (c *Client) notifyError(err error) {
	d := c.events
	d.post(func() {
		var fns []func(error)
		d.read(func(s *subscribers) { fns = s.errors.list() })
		for _, fn := range fns {
			fn(err)
		}
	})
}

// registry is an ordered set of callbacks keyed by subscription id.
type registry[F any] struct {
	ids []int
	fns []F
}

func (r *registry[F]) add(id int, fn F) {
	r.ids = append(r.ids, id)
	r.fns = append(r.fns, fn)
}

func (r *registry[F]) remove(id int) {
	for i, have := range r.ids {
		if have == id {
			r.ids = append(r.ids[:i:i], r.ids[i+1:]...)
			r.fns = append(r.fns[:i:i], r.fns[i+1:]...)
			return
		}
	}
}

// list returns a snapshot, so a callback may unsubscribe itself.
func (r *registry[F]) list() []F { return append([]F(nil), r.fns...) }

type subscribers struct {
	byType map[string]*registry[func(profile.Message)]
	state  registry[func(StateChange)]
	resync registry[func()]
	errors registry[func(error)]
}

// dispatcher runs callbacks in order on its own goroutine, so the client's
// loop never waits on user code and user code may call back into the client.
type dispatcher struct {
	mu      sync.Mutex
	cond    *sync.Cond
	pending []func()
	stopped bool
	nextID  int
	subs    subscribers
}

func newDispatcher() *dispatcher {
	d := &dispatcher{subs: subscribers{byType: map[string]*registry[func(profile.Message)]{}}}
	d.cond = sync.NewCond(&d.mu)
	return d
}

func subscribe[F any](d *dispatcher, pick func(*subscribers) *registry[F], fn F) func() {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.nextID++
	id := d.nextID
	pick(&d.subs).add(id, fn)
	var once sync.Once
	return func() {
		once.Do(func() {
			d.mu.Lock()
			defer d.mu.Unlock()
			pick(&d.subs).remove(id)
		})
	}
}

// read runs f on the subscribers under the lock.
func (d *dispatcher) read(f func(*subscribers)) {
	d.mu.Lock()
	defer d.mu.Unlock()
	f(&d.subs)
}

func (d *dispatcher) post(call func()) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.stopped {
		return
	}
	d.pending = append(d.pending, call)
	d.cond.Signal()
}

// stop lets the goroutine deliver what is queued, then exit.
func (d *dispatcher) stop() {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.stopped = true
	d.cond.Signal()
}

func (d *dispatcher) run() {
	d.mu.Lock()
	defer d.mu.Unlock()
	for {
		for len(d.pending) == 0 && !d.stopped {
			d.cond.Wait()
		}
		if len(d.pending) == 0 {
			return
		}
		call := d.pending[0]
		d.pending[0] = nil
		d.pending = d.pending[1:]
		d.mu.Unlock()
		call()
		d.mu.Lock()
	}
}

// sync waits until every callback queued so far has run.
func (d *dispatcher) sync() {
	ran := make(chan struct{})
	d.mu.Lock()
	if d.stopped {
		d.mu.Unlock()
		return
	}
	d.pending = append(d.pending, func() { close(ran) })
	d.cond.Signal()
	d.mu.Unlock()
	<-ran
}
