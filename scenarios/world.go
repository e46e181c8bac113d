// Package scenarios holds the Ginkgo specs of the reference client that no
// scenario file can state (jitter within one seed, replay, the herd, races
// with Close), and runs the scenario library and the conformance scenarios
// on the reference client (conform.go). Each behaviour is written once: a
// file in scenarios/library runs on every subject, so a spec that only
// restated one would be a second form to keep in step. The root
// suite_test.go runs them, on a virtual clock against the fake server.
//
// A spec never sleeps. It steps the clock to the next timer
// (vclock.AdvanceToNext) only after it has seen the effect of the previous
// step: the client announces a state once the timer of that state is armed,
// and delivers a message once it has acted on it; the server records every
// frame in its transcript.
package scenarios

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/onsi/gomega/gleak"

	"github.com/wschaos/wschaos/chaos"
	"github.com/wschaos/wschaos/client"
	"github.com/wschaos/wschaos/fakeserver"
	"github.com/wschaos/wschaos/internal/flaw"
	"github.com/wschaos/wschaos/internal/quiet"
	"github.com/wschaos/wschaos/profile"
	"github.com/wschaos/wschaos/transcript"
	"github.com/wschaos/wschaos/vclock"
)

// specTimeout bounds every networked spec in real time. Specs take
// milliseconds; the bound is for a wedged one on a loaded machine.
const specTimeout = 20 * time.Second

// world is one client, one fake server and the virtual clock they share.
type world struct {
	clock *vclock.Clock
	srv   *fakeserver.Server
	cl    *client.Client
	seed  uint64

	states   log[client.StateChange]
	msgs     log[profile.Message]
	resyncs  atomic.Int32
	errs     atomic.Int32 // errors the client reported: progress, for unlessIdle
	others   atomic.Int32 // state changes of moreClients' clients
	sockets  socketCounter
	port     int           // the server's listen port: one end of every socket
	stateCur int           // states consumed by awaitState
	wait     time.Duration // bound on each wait for an effect
	// clientOpts built w.cl; more clients of the same kind come from it.
	clientOpts client.Options
}

// worldOption adjusts a world before it starts.
type worldOption func(*worldConfig)

type worldConfig struct {
	seed     uint64
	unseeded bool // the client draws jitter from an unseeded source
	rng      *rand.Rand
	faults   []chaos.Fault
	// What sets a twin apart: flaws, and changes to the client's copy of
	// the profile.
	flaws         flaw.Set
	clientProfile []func(*profile.Profile)
	// wait bounds each wait for an effect, in real time.
	wait time.Duration
	twin bool
}

// withRand replaces the client's seeded jitter source; nil means an
// unseeded one.
func withRand(r *rand.Rand) worldOption {
	return func(c *worldConfig) { c.rng, c.unseeded = r, r == nil }
}

// withFaults sets the server's faults.
func withFaults(f ...chaos.Fault) worldOption {
	return func(c *worldConfig) { c.faults = append(c.faults, f...) }
}

// newWorld starts a fake server playing p and builds (but does not start) a
// client for it. Cleanup closes both and, on failure, prints the seed and
// the transcript.
func newWorld(p *profile.Profile, opts ...worldOption) *world {
	GinkgoHelper()
	cfg := worldConfig{seed: uint64(GinkgoRandomSeed()), wait: 10 * time.Second}
	for _, o := range opts {
		o(&cfg)
	}
	seed := cfg.seed
	if cfg.rng == nil && !cfg.unseeded {
		cfg.rng = rand.New(rand.NewPCG(seed, 1))
	}
	// Registered first, so it runs last: after client and server are closed,
	// nothing either started may still run.
	before := gleak.Goroutines()
	DeferCleanup(func() {
		Eventually(gleak.Goroutines).ShouldNot(gleak.HaveLeaked(before))
	})
	w := &world{clock: vclock.New(), seed: seed, wait: cfg.wait}
	w.srv = fakeserver.NewUnstartedServer(p)
	w.srv.Clock = w.clock.For("server")
	w.srv.Seed = seed
	w.srv.Faults = cfg.faults
	w.srv.Start()
	DeferCleanup(w.srv.Close)
	port, err := quiet.PortOf(w.srv.URL)
	Expect(err).NotTo(HaveOccurred())
	w.port = port

	cp := p
	if len(cfg.clientProfile) > 0 {
		cp = p.Clone()
		for _, change := range cfg.clientProfile {
			change(cp)
		}
	}
	w.clientOpts = client.Options{
		Profile: cp,
		Clock:   w.clock.For("client"),
		Rand:    cfg.rng,
		Dialer:  &websocket.Dialer{NetDialContext: w.sockets.dial},
		Flaws:   cfg.flaws,
	}
	w.cl = client.New(w.srv.URL, &w.clientOpts)
	w.cl.OnState(func(ch client.StateChange) { w.states.add(ch) })
	w.cl.Subscribe("", func(m profile.Message) { w.msgs.add(m) })
	w.cl.OnError(func(error) { w.errs.Add(1) })
	w.cl.OnResync(func() { w.resyncs.Add(1) })
	if cfg.twin {
		// A twin may leave a goroutine parked on a virtual timer after
		// Close (that can be its bug); fire every timer so it ends.
		DeferCleanup(func() { w.clock.Advance(365 * 24 * time.Hour) })
	}
	DeferCleanup(w.cl.Close)
	DeferCleanup(func() {
		if CurrentSpecReport().Failed() {
			AddReportEntry("replay", fmt.Sprintf("ginkgo --seed %d", seed))
			AddReportEntry("transcript", w.srv.Transcript().String())
		}
	})
	return w
}

func (w *world) start() {
	GinkgoHelper()
	Expect(w.cl.Start()).To(Succeed())
}

// awaitState waits for the client's next announced transition into s and
// returns it. Earlier transitions are passed over.
func (w *world) awaitState(ctx context.Context, s client.State) client.StateChange {
	GinkgoHelper()
	return w.awaitAny(ctx, s)
}

// awaitAny waits for the client's next transition into any of states.
func (w *world) awaitAny(ctx context.Context, states ...client.State) client.StateChange {
	GinkgoHelper()
	var got client.StateChange
	Eventually(ctx, func() bool {
		all := w.states.snapshot()
		for i := w.stateCur; i < len(all); i++ {
			if slices.Contains(states, all[i].To) {
				got, w.stateCur = all[i], i+1
				return true
			}
		}
		return false
	}).WithTimeout(w.wait).Should(w.unlessIdle(BeTrue()), "the client never became %v at %v; its states: %v",
		states, w.now(), w.states.snapshot())
	return got
}

// awaitTranscript waits until pred holds of the server's transcript.
func (w *world) awaitTranscript(ctx context.Context, what string, pred func([]transcript.Entry) bool) {
	GinkgoHelper()
	Eventually(ctx, func() bool { return pred(w.srv.Transcript().Entries()) }).WithTimeout(w.wait).
		Should(w.unlessIdle(BeTrue()), "the server never saw %s by %v", what, w.now())
}

// awaitMessages waits until the client has delivered n messages for which
// match holds; what names them in the failure.
func (w *world) awaitMessages(ctx context.Context, n int, what string, match func(profile.Message) bool) {
	GinkgoHelper()
	Eventually(ctx, func() int { return count(w.msgs.snapshot(), match) }).WithTimeout(w.wait).
		Should(w.unlessIdle(BeNumerically(">=", n)), "the client never delivered %d %s by %v", n, what, w.now())
}

// step moves the clock exactly to the next pending timer and returns how far.
func (w *world) step() time.Duration {
	GinkgoHelper()
	d, ok := w.clock.AdvanceToNext()
	Expect(ok).To(BeTrue(), "no timer pending at %v: the client is stuck, nothing will ever happen", w.clock.Elapsed())
	return d
}

// now is virtual time since the world began.
func (w *world) now() time.Duration { return w.clock.Elapsed() }

// entries returns the transcript entries of kind k.
func (w *world) entries(k transcript.Kind) []transcript.Entry {
	return filter(w.srv.Transcript().Entries(), func(e transcript.Entry) bool { return e.Kind == k })
}

// hasKind is a transcript predicate: at least n entries of kind k.
func hasKind(k transcript.Kind, n int) func([]transcript.Entry) bool {
	return func(es []transcript.Entry) bool {
		return count(es, func(e transcript.Entry) bool { return e.Kind == k }) >= n
	}
}

// log is an append-only, goroutine-safe record of callbacks.
type log[T any] struct {
	mu    sync.Mutex
	items []T
}

func (l *log[T]) add(v T) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.items = append(l.items, v)
}

func (l *log[T]) len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.items)
}

func (l *log[T]) snapshot() []T {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]T(nil), l.items...)
}

func count[T any](xs []T, match func(T) bool) int {
	n := 0
	for _, x := range xs {
		if match(x) {
			n++
		}
	}
	return n
}

func filter[T any](xs []T, keep func(T) bool) []T {
	var out []T
	for _, x := range xs {
		if keep(x) {
			out = append(out, x)
		}
	}
	return out
}

// socketCounter counts the client's open TCP sockets from its own side, so
// "never more than one socket" is checked where it holds, not where the
// server happens to notice a close.
type socketCounter struct {
	open, max atomic.Int32
}

func (s *socketCounter) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	c, err := (&net.Dialer{}).DialContext(ctx, network, addr)
	if err != nil {
		return nil, err
	}
	n := s.open.Add(1)
	for m := s.max.Load(); n > m && !s.max.CompareAndSwap(m, n); m = s.max.Load() {
	}
	return &countedConn{Conn: c, s: s}, nil
}

type countedConn struct {
	net.Conn
	s    *socketCounter
	once sync.Once
}

func (c *countedConn) Close() error {
	c.once.Do(func() { c.s.open.Add(-1) })
	return c.Conn.Close()
}

// moreClients starts n more clients configured like w.cl (profile, flaws,
// clock), each with its own jitter source seeded from the world's seed, and
// calls onState with each one's index and transitions. Cleanup closes them.
func (w *world) moreClients(n int, onState func(i int, ch client.StateChange)) []*client.Client {
	GinkgoHelper()
	var cls []*client.Client
	for i := range n {
		o := w.clientOpts
		o.Clock = w.clock.For(herdOwner(i))
		if o.Rand != nil { // nil: a twin with an unseeded source
			o.Rand = rand.New(rand.NewPCG(w.seed, uint64(i+2)))
		}
		c := client.New(w.srv.URL, &o)
		c.OnState(func(ch client.StateChange) {
			w.others.Add(1)
			onState(i, ch)
		})
		Expect(c.Start()).To(Succeed())
		DeferCleanup(c.Close)
		cls = append(cls, c)
	}
	return cls
}

// herdOwner names client i of moreClients on the clock.
func herdOwner(i int) string { return fmt.Sprintf("client-%d", i) }
