package proxy

import (
	"crypto/tls"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jonboulle/clockwork"
	"github.com/wschaos/wschaos/chaos"
	"github.com/wschaos/wschaos/internal/link"
	"github.com/wschaos/wschaos/internal/slab"
	"github.com/wschaos/wschaos/internal/wire"
	"github.com/wschaos/wschaos/profile"
	"github.com/wschaos/wschaos/transcript"
)

// Tunables. All are real-time safety nets: none affects a run that behaves.
const (
	// dialTimeout bounds the upstream dial and handshake; a stalled upstream
	// is answered 502 rather than holding the client forever.
	dialTimeout = 10 * time.Second
	// idleWait closes a keep-alive connection that sends no next request:
	// each is a file descriptor, and idle ones held forever (19,900 took
	// the process to its descriptor limit). Upgraded connections are not
	// affected.
	idleWait = 30 * time.Second
	// controlReadWait bounds a whole control request, body included: a
	// spec is a few hundred bytes, and a body trickled a byte at a time
	// must not hold a connection forever.
	controlReadWait = 10 * time.Second
	// controlWriteWait bounds writing an answer to a control client that
	// does not read it.
	controlWriteWait = 10 * time.Second
	// controlMaxHeaderBytes bounds a control request's headers: a tool
	// sends a few hundred bytes, net/http's default allows 1 MiB.
	controlMaxHeaderBytes = 16 << 10
	// maxFrameSize bounds one relayed message: a test proxy should not
	// buffer unbounded input; bigger ones end the connection with 1009.
	maxFrameSize = 16 << 20
	// upstreamCutCode is the close the upstream gets when a fault closes the
	// client's side with a close frame: the proxy went away, whatever code
	// the fault showed the client.
	upstreamCutCode = profile.StatusGoingAway
)

// Proxy is a WebSocket chaos proxy to one upstream. Set its exported fields
// between NewUnstarted and Start; do not change them after (change faults
// at run time with SetFaults, AddFault, ... or the control API).
type Proxy struct {
	// URL is "ws://127.0.0.1:PORT" plus the upstream's path and query, set
	// by Start. The proxy accepts any path and forwards it unchanged.
	URL string
	// Upstream is the ws:// or wss:// URL of the real server; its scheme,
	// host and query are used, the path comes from each request.
	Upstream string
	// UpstreamTLS configures the TLS of a wss:// upstream; nil verifies its
	// certificate against the system's roots.
	UpstreamTLS *tls.Config
	// Profile, when set, decodes frames so faults can select by message
	// type and seq, and marks the upstream's answers to pings as pongs.
	// nil leaves frames opaque (Frame.Msg nil): only pong control frames
	// count as pongs.
	Profile *profile.Profile
	// Faults are the initial faults, applied in order.
	Faults []chaos.Fault
	// Clock times every proxy timer and stamps the transcript; nil means
	// the real clock.
	Clock clockwork.Clock
	// Seed seeds each attempt's rand: rand.New(rand.NewPCG(Seed, attempt)),
	// so the same seed makes the same random choices.
	Seed uint64
	// Addr is the listen address, default "127.0.0.1:0".
	Addr string
	// ControlAddr, when set, serves the control API (ControlHandler) there;
	// ControlURL is then its "http://" base URL.
	// ControlAddr is a loopback address unless ControlToken is set: see
	// the guard in ControlHandler.
	ControlAddr string
	ControlURL  string
	// ControlToken, when set, is required of every control API request
	// as "Authorization: Bearer ControlToken" (401 otherwise): set it when
	// ControlAddr is reachable from other hosts.
	ControlToken string
	// Logger gets every transcript line at debug level (its time rounded
	// to the millisecond), and the network errors the transcript leaves
	// out; nil is silent.
	Logger *slog.Logger

	transcript *Transcript
	payloads   slab.Strings // the transcript's copies of the payloads, in slabs all connections share
	faults     *faultSet
	done       chan struct{} // closed by Close, after the connections
	closeOnce  sync.Once
	wg         sync.WaitGroup // servers, handlers, readers

	// headerTimeout, when set, replaces link.ReadHeaderTimeout (tests shorten it).
	headerTimeout time.Duration
	// controlReadTimeout and idleTimeout, when set, replace
	// controlReadWait and idleWait (tests shorten them).
	controlReadTimeout, idleTimeout time.Duration
	// controlHost is ControlAddr's host, "0.0.0.0" for every interface:
	// the guard answers requests that name it.
	controlHost string

	// Set by Start, read-only after.
	start      time.Time
	upstream   *url.URL
	servers    []*http.Server
	listenAddr string // the address bound, the port chosen

	apiOnce sync.Once
	apiMux  *http.ServeMux // the control API, made once (api)

	// disabled makes the listener reset what it accepts (Disable).
	disabled atomic.Bool

	mu       sync.Mutex
	started  bool
	closed   bool
	attempts int
	conns    map[*conn]struct{}
	ended    []ConnStatus // closed connections, in order of ending
	// totals sums the counters of every closed connection, for the
	// summary a command prints at its end.
	totals          [2]DirStatus // by profile.Side of the sender
	closedConns     int
	refusedDisabled int // connections reset at accept while disabled

	// acted counts the entries each fault made (its own lock: record
	// runs in turns that may hold p.mu's callers' locks).
	actedMu sync.Mutex
	acted   map[string]int
}

// NewServer starts a proxy to upstream with faults, on the real clock.
// Like httptest's, it takes what NewUnstartedServer takes, and so does
// the fake server's pair.
func NewServer(upstream string, faults ...chaos.Fault) *Proxy {
	p := NewUnstartedServer(upstream, faults...)
	p.Start()
	return p
}

// NewUnstartedServer returns a proxy to upstream with faults, to
// configure and Start.
func NewUnstartedServer(upstream string, faults ...chaos.Fault) *Proxy {
	return &Proxy{
		Upstream:   upstream,
		Faults:     faults,
		transcript: transcript.New(),
		faults:     newFaultSet(),
		done:       make(chan struct{}),
		conns:      map[*conn]struct{}{},
		acted:      map[string]int{},
	}
}

// Start starts listening. It panics on misuse (started twice, a bad
// upstream, a fault with no capability) and when it cannot listen, as
// httptest does; StartErr returns those as errors instead.
func (p *Proxy) Start() {
	if err := p.StartErr(); err != nil {
		panic(err.Error())
	}
}

// StartErr is Start for programs: misuse and listen failures are errors.
func (p *Proxy) StartErr() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	switch {
	case p.started:
		return fmt.Errorf("proxy: Start called twice")
	case p.closed:
		return fmt.Errorf("proxy: Start after Close")
	}
	up, err := parseUpstream(p.Upstream)
	if err != nil {
		return err
	}
	for i, f := range p.Faults {
		if err := checkCapable(f); err != nil {
			return fmt.Errorf("proxy: Faults[%d]: %w", i, err)
		}
	}
	if n := len(p.faults.infos()) + len(p.Faults); n > MaxFaults {
		return fmt.Errorf("proxy: %d faults (Faults and those added before Start): %w", n, ErrTooManyFaults)
	}
	ln, err := listen(p.Addr)
	if err != nil {
		return err
	}
	var cln net.Listener
	if p.ControlAddr != "" {
		if cln, err = listen(p.ControlAddr); err != nil {
			ln.Close()
			return err
		}
	}
	p.started, p.upstream = true, up
	for _, f := range p.Faults {
		p.faults.add(f, nil) // cannot fail: counted above
	}
	if p.Clock == nil {
		p.Clock = clockwork.NewRealClock()
	}
	p.start = p.Clock.Now()
	p.listenAddr = ln.Addr().String()
	p.URL = (&url.URL{Scheme: "ws", Host: ln.Addr().String(), Path: up.Path, RawQuery: up.RawQuery}).String()
	p.serve(ln, &http.Server{Handler: http.HandlerFunc(p.serveHTTP), IdleTimeout: p.idleWait()}, true)
	if cln != nil {
		p.ControlURL = "http://" + cln.Addr().String()
		p.controlHost, _, _ = net.SplitHostPort(p.ControlAddr)
		if p.controlHost == "" {
			p.controlHost = "0.0.0.0"
		}
		p.serve(cln, &http.Server{
			Handler:        p.ControlHandler(),
			ReadTimeout:    p.controlReadWait(),
			WriteTimeout:   controlWriteWait,
			IdleTimeout:    p.idleWait(),
			MaxHeaderBytes: controlMaxHeaderBytes,
		}, false)
	}
	return nil
}

func listen(addr string) (net.Listener, error) {
	if addr == "" {
		addr = link.DefaultAddr
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("proxy: failed to listen on %s: %w", addr, err)
	}
	return ln, nil
}

// parseUpstream checks the upstream is a WebSocket URL.
func parseUpstream(s string) (*url.URL, error) {
	u, err := url.Parse(s)
	if err != nil {
		return nil, fmt.Errorf("proxy: bad upstream %q: %w", s, err)
	}
	if (u.Scheme != "ws" && u.Scheme != "wss") || u.Host == "" {
		return nil, fmt.Errorf("proxy: bad upstream %q: want ws://host:port/path or wss://host:port/path", s)
	}
	return u, nil
}

// serve runs srv on ln until Close, with the proxy's header timeout and
// error log; track counts its connection goroutines too, so Close waits
// for them, and records connections that never made a request.
func (p *Proxy) serve(ln net.Listener, srv *http.Server, track bool) {
	srv.ReadHeaderTimeout, srv.ErrorLog = p.headerWait(), link.ErrorLog(p.Logger)
	if track {
		srv.ConnState, srv.ConnContext = p.door().Track(&p.wg, p.headerWait()), wire.ConnContext
		ln = relayListener{wire.WatchedListener{TCPListener: ln.(*net.TCPListener)}, p}
	}
	p.servers = append(p.servers, srv)
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		srv.Serve(ln) // returns http.ErrServerClosed once Close runs
	}()
}

// Close stops listening, closes both sides of every proxied connection
// (close 1001 where the link still carries frames), ends stalled
// handshakes, and waits for every proxy goroutine to exit. It is safe to
// call more than once.
func (p *Proxy) Close() { p.closeOnce.Do(p.close) }

func (p *Proxy) close() {
	p.mu.Lock()
	p.closed = true
	started := p.started
	p.mu.Unlock()
	if !started {
		close(p.done)
		return
	}
	for _, srv := range p.servers {
		srv.Close() // the listeners, and handshakes not yet upgraded
	}
	for _, c := range p.openConns() {
		c.do(c.shutdown)
	}
	close(p.done)
	p.wg.Wait()
}

// Transcript returns the proxy's record of both sides of every connection.
func (p *Proxy) Transcript() *Transcript { return p.transcript }

// openConns returns the open connections in attempt order.
func (p *Proxy) openConns() []*conn {
	p.mu.Lock()
	defer p.mu.Unlock()
	cs := make([]*conn, 0, len(p.conns))
	for c := range p.conns {
		cs = append(cs, c)
	}
	slices.SortFunc(cs, func(a, b *conn) int { return a.attempt - b.attempt })
	return cs
}

// CutAll cuts every open connection at once, in attempt order: the
// thundering herd. It returns once every cut is done.
func (p *Proxy) CutAll(k chaos.Cut) {
	for _, c := range p.openConns() {
		c.do(func() { c.cut(k, "cut all") })
	}
}

// since is virtual time since Start.
func (p *Proxy) since() time.Duration { return p.Clock.Now().Sub(p.start) }

// record stamps es with the virtual time and appends them to the
// transcript, together.
func (p *Proxy) record(es ...Entry) {
	at := p.since()
	for i := range es {
		es[i].At = at
	}
	p.countActed(es)
	p.transcript.Add(es...)
	if p.Logger != nil {
		link.Log(p.Logger, rounded(es))
	}
}

// logRounding is how finely the log's lines show times: a person reads
// them, and the transcript keeps every nanosecond.
const logRounding = time.Millisecond

// rounded is es with their times rounded to logRounding, for the log.
func rounded(es []Entry) []Entry {
	out := slices.Clone(es)
	for i := range out {
		out[i].At = out[i].At.Round(logRounding)
	}
	return out
}

// logf reports what the transcript leaves out (raw network errors).
func (p *Proxy) logf(attempt int, format string, args ...any) {
	link.Logf(p.Logger, attempt, format, args...)
}
