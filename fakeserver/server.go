package fakeserver

import (
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/jonboulle/clockwork"
	"github.com/wschaos/wschaos/chaos"
	"github.com/wschaos/wschaos/internal/link"
	"github.com/wschaos/wschaos/internal/wire"
	"github.com/wschaos/wschaos/profile"
	"github.com/wschaos/wschaos/transcript"
)

// Tunables. All are real-time safety nets: none affects a run that behaves.
const (
	// maxFrameSize refuses bigger client frames with close 1009: no test
	// needs more, and a fake server should not buffer unbounded input.
	maxFrameSize = 1 << 20
	// readBufferSize is each connection's read buffer: client frames are
	// small, and a bigger one is read through it in pieces.
	readBufferSize = 1 << 10
)

// Server is a fake WebSocket server. Set its exported fields between
// NewUnstartedServer and Start; do not change them after.
type Server struct {
	// URL is "ws://127.0.0.1:PORT/ws", set by Start. The server upgrades
	// on any path.
	URL string
	// Profile is the protocol the server plays.
	Profile *profile.Profile
	// Clock times every server timer and stamps the transcript; nil means
	// the real clock. Pass a vclock.Clock to run on virtual time.
	Clock clockwork.Clock
	// Seed seeds each attempt's rand: rand.New(rand.NewPCG(Seed, attempt)),
	// so a run with the same seed makes the same random choices.
	Seed uint64
	// Faults are applied in order: handshake faults to each attempt,
	// connection faults to each connection, frame faults to each frame.
	Faults []chaos.Fault
	// Logger gets every transcript line at debug level, and the network
	// errors the transcript leaves out; nil is silent.
	Logger *slog.Logger
	// Addr is the listen address, default "127.0.0.1:0".
	Addr string

	transcript *transcript.Transcript
	done       chan struct{} // closed by Close, after the connections
	closeOnce  sync.Once
	wg         sync.WaitGroup // Serve, handlers, connection loops, readers
	// writeBuffers lends connections a write buffer for one write at a time.
	writeBuffers sync.Pool

	// headerTimeout, when set, replaces link.ReadHeaderTimeout (tests shorten it).
	headerTimeout time.Duration

	// Set by Start, read-only after.
	start      time.Time
	http       *http.Server
	handshakes []chaos.HandshakeFault
	conners    []chaos.ConnFault
	framers    []chaos.FrameFault

	mu       sync.Mutex
	started  bool
	closed   bool
	attempts int
	// upgrading counts attempts between the upgrade and the end of their
	// open; settled signals when it drops. The client's dial returns at the
	// upgrade, so Emit, CutAll and OpenConns wait for the open to finish:
	// a test that dials then emits never races the server's open.
	upgrading int
	settled   *sync.Cond
	conns     map[*conn]struct{}
	sessions  []*session // in creation order
	byID      map[string]*session
}

// NewServer starts a server playing p with faults, on the real clock.
// Like httptest's, it takes what NewUnstartedServer takes, and so does
// the proxy's pair.
func NewServer(p *profile.Profile, faults ...chaos.Fault) *Server {
	s := NewUnstartedServer(p, faults...)
	s.Start()
	return s
}

// NewUnstartedServer returns a server playing p with faults, to configure
// and Start.
func NewUnstartedServer(p *profile.Profile, faults ...chaos.Fault) *Server {
	s := &Server{
		Profile:    p,
		Faults:     faults,
		transcript: transcript.New(),
		done:       make(chan struct{}),
		conns:      map[*conn]struct{}{},
		byID:       map[string]*session{},
	}
	s.settled = sync.NewCond(&s.mu)
	return s
}

// Start starts listening. It panics on misuse (started twice, no profile, a
// fault with no capability) and when it cannot listen, as httptest does.
func (s *Server) Start() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.started {
		panic("fakeserver: Start called twice")
	}
	if s.closed {
		panic("fakeserver: Start after Close")
	}
	s.validate()
	s.splitFaults()
	addr := s.Addr
	if addr == "" {
		addr = link.DefaultAddr
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		panic(fmt.Sprintf("fakeserver: failed to listen on %s: %v", addr, err))
	}
	s.started = true
	if s.Clock == nil {
		s.Clock = clockwork.NewRealClock()
	}
	s.start = s.Clock.Now()
	s.URL = "ws://" + ln.Addr().String() + "/ws"
	s.http = &http.Server{
		Handler:           http.HandlerFunc(s.serveHTTP),
		ReadHeaderTimeout: link.Or(s.headerTimeout, link.ReadHeaderTimeout),
		ErrorLog:          link.ErrorLog(s.Logger),
		ConnState:         s.door().Track(&s.wg, link.Or(s.headerTimeout, link.ReadHeaderTimeout)),
		ConnContext:       wire.ConnContext,
	}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		s.http.Serve(wire.WatchedListener{TCPListener: ln.(*net.TCPListener)}) // returns http.ErrServerClosed once Close runs
	}()
}

// validate panics on a profile the server cannot play.
func (s *Server) validate() {
	p := s.Profile
	switch {
	case p == nil:
		panic("fakeserver: Start with a nil Profile")
	case p.Codec == nil:
		panic(fmt.Sprintf("fakeserver: profile %q has no Codec", p.Name))
	case p.Resume != nil && p.Resume.HelloType == "":
		panic(fmt.Sprintf("fakeserver: profile %q resumes but has no Resume.HelloType", p.Name))
	case p.Resume != nil && p.Resume.BufferSize < 1:
		panic(fmt.Sprintf("fakeserver: profile %q resumes with Resume.BufferSize %d; need at least 1", p.Name, p.Resume.BufferSize))
	}
}

// splitFaults sorts Faults by capability, keeping their order; a fault
// with several capabilities is in several lists.
func (s *Server) splitFaults() {
	s.handshakes, s.conners, s.framers = nil, nil, nil
	for i, f := range s.Faults {
		h, hok := f.(chaos.HandshakeFault)
		c, cok := f.(chaos.ConnFault)
		fr, fok := f.(chaos.FrameFault)
		if !hok && !cok && !fok {
			panic(fmt.Sprintf("fakeserver: Faults[%d] (%v) is neither a handshake, connection nor frame fault", i, f))
		}
		if hok {
			s.handshakes = append(s.handshakes, h)
		}
		if cok {
			s.conners = append(s.conners, c)
		}
		if fok {
			s.framers = append(s.framers, fr)
		}
	}
}

// Close stops listening, closes every open connection (a close frame 1001
// where the link still carries frames), ends stalled handshakes, and waits
// for every server goroutine to exit. It is safe to call more than once.
func (s *Server) Close() {
	s.closeOnce.Do(s.close)
}

func (s *Server) close() {
	s.mu.Lock()
	s.settleLocked() // a connection the client saw upgrade gets closed, not dropped
	s.closed = true
	started := s.started
	s.settled.Broadcast()
	s.mu.Unlock()
	if !started {
		close(s.done)
		return
	}
	s.http.Close() // the listener, and handshakes not yet upgraded
	for _, c := range s.openConns() {
		c.Do(c.shutdown)
	}
	close(s.done)
	s.wg.Wait()
}

// Transcript returns the server's record of everything it saw and did.
func (s *Server) Transcript() *transcript.Transcript { return s.transcript }

// OpenConns returns how many upgraded connections are open, once every
// upgrade in flight has finished opening.
func (s *Server) OpenConns() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.settleLocked()
	return len(s.conns)
}

// settleLocked waits, s.mu held, until no upgrade is between the 101 and
// the end of its open.
func (s *Server) settleLocked() {
	for s.upgrading > 0 && !s.closed {
		s.settled.Wait()
	}
}

// upgraded marks the end of an upgrade begun with upgrading++.
func (s *Server) upgraded() {
	s.mu.Lock()
	s.upgrading--
	s.settled.Broadcast()
	s.mu.Unlock()
}

// CutAll cuts every open connection at the same virtual instant, in attempt
// order: the thundering herd, where a correct client population must not
// reconnect in lock-step. It returns once every cut is done. Do not call
// it from a fault.
func (s *Server) CutAll(c chaos.Cut) {
	for _, cn := range s.openConns() {
		cn.Do(func() { cn.cut(c, "cut all") })
	}
}

// openConns returns the open connections in attempt order, so work spread
// over them lands in the transcript in the same order every run.
func (s *Server) openConns() []*conn {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.settleLocked()
	cs := make([]*conn, 0, len(s.conns))
	for c := range s.conns {
		cs = append(cs, c)
	}
	slices.SortFunc(cs, func(a, b *conn) int { return a.attempt - b.attempt })
	return cs
}

// since is virtual time since Start.
func (s *Server) since() time.Duration { return s.Clock.Now().Sub(s.start) }

// record stamps e with the virtual time and appends it to the transcript.
func (s *Server) record(e transcript.Entry) {
	e.At = s.since()
	s.publish(e)
}

// publish adds an entry already stamped with the virtual time it happened.
func (s *Server) publish(es ...transcript.Entry) {
	s.transcript.Add(es...)
	link.Log(s.Logger, es)
}

// logf reports what the transcript leaves out (raw network errors, whose
// text varies from run to run).
func (s *Server) logf(attempt int, format string, args ...any) {
	link.Logf(s.Logger, attempt, format, args...)
}
