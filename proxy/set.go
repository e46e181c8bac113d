package proxy

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"sort"
	"strings"
	"sync"
	"syscall"

	"github.com/wschaos/wschaos/internal/link"
	"github.com/wschaos/wschaos/profile"
)

// maxNameLen bounds a proxy's name: it is a path segment and a label in
// summaries, not a document.
const maxNameLen = 64

// Set is many named proxies in one process, each with its own port,
// upstream, profile, faults and transcript, behind one control API: what
// Toxiproxy's daemon is, for WebSocket clients. Each proxy's endpoints
// are served under /proxies/{name}, and unprefixed for the one named
// DefaultName, so a tool written for one proxy keeps working.
//
// Set its exported fields between NewSet and Start. A Proxy made in Go
// joins with Add; a ProxyConfig (a --config file's entry, POST /proxies)
// with Create.
type Set struct {
	// ControlAddr, when set, serves ControlHandler there at Start;
	// ControlURL is then its "http://" base URL. ControlToken is as a
	// Proxy's: required of every request when set.
	ControlAddr  string
	ControlURL   string
	ControlToken string
	// Configure, when set, is called with each proxy Create makes, before
	// it starts: a command gives it its clock, seed, logger and
	// transcript there.
	Configure func(name string, p *Proxy)
	// Created and Removed, when set, are called after a proxy has
	// started under Create and after Remove has closed one: a command
	// tells its user of the proxies the control API makes and ends, and
	// keeps an ended one's counters for its summary. Set them before
	// Start; each is called outside the set's lock.
	Created func(name string, p *Proxy)
	Removed func(name string, p *Proxy)

	mu          sync.Mutex
	proxies     map[string]*Proxy
	started     bool
	closed      bool
	srv         *http.Server
	served      chan struct{} // closed when srv.Serve returns
	controlHost string
}

// NewSet returns an empty set, to configure and Start.
func NewSet() *Set { return &Set{proxies: map[string]*Proxy{}} }

// SetError is why a proxy could not join a set: the control API answers
// it with Status, naming Field ("name", "listen", "faults[0].args[0]").
type SetError struct {
	Status int
	Field  string
	Msg    string
}

func (e *SetError) Error() string {
	if e.Field == "" {
		return e.Msg
	}
	return e.Field + ": " + e.Msg
}

func setErr(status int, field, format string, args ...any) *SetError {
	return &SetError{Status: status, Field: field, Msg: fmt.Sprintf(format, args...)}
}

// checkName says what is wrong with a proxy's name, nil if nothing.
func checkName(name string) *SetError {
	if name == "" {
		return setErr(http.StatusBadRequest, "name", `missing: every proxy has a name, e.g. "api"`)
	}
	if len(name) > maxNameLen {
		return setErr(http.StatusBadRequest, "name", "%.20q…: over %d characters", name, maxNameLen)
	}
	for _, r := range name {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.') {
			return setErr(http.StatusBadRequest, "name", "%q: want letters, digits, '-', '_' and '.' only (it is a path segment of /proxies/{name})", name)
		}
	}
	if name == "." || name == ".." {
		return setErr(http.StatusBadRequest, "name", "%q: a path segment that means a directory", name)
	}
	return nil
}

// Add puts p in the set as name, starting it if it is not started. The
// proxy's own ControlAddr, if any, stays its own.
func (s *Set) Add(name string, p *Proxy) error {
	if err := checkName(name); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.free(name); err != nil {
		return err
	}
	p.mu.Lock()
	started := p.started
	p.mu.Unlock()
	if !started {
		if err := p.StartErr(); err != nil {
			return listenErr(p.Addr, err)
		}
	}
	s.proxies[name] = p
	return nil
}

// free says why name cannot join now, nil if it can; s.mu must be held.
func (s *Set) free(name string) *SetError {
	if s.closed {
		return setErr(http.StatusServiceUnavailable, "", "the proxy set is closing")
	}
	if _, taken := s.proxies[name]; taken {
		return setErr(http.StatusConflict, "name", "%q: a proxy has that name already (DELETE /proxies/%s first)", name, name)
	}
	return nil
}

// Create makes the proxy cfg describes, starts it, and puts it in the
// set. A *SetError says what is wrong: a bad field (400), a name or
// listen address taken (409), a fault that cannot act under the profile
// (422).
func (s *Set) Create(cfg ProxyConfig) (*Proxy, error) {
	if err := checkName(cfg.Name); err != nil {
		return nil, err
	}
	if cfg.Upstream == "" {
		return nil, setErr(http.StatusBadRequest, "upstream", "missing: the real server's ws:// or wss:// URL, e.g. ws://127.0.0.1:8065/ws")
	}
	if _, err := parseUpstream(cfg.Upstream); err != nil {
		return nil, setErr(http.StatusBadRequest, "upstream", "%q: want ws://host:port/path or wss://host:port/path", cfg.Upstream)
	}
	addr := cfg.Listen
	if addr == "" {
		addr = link.DefaultAddr
	}
	if _, port, err := net.SplitHostPort(addr); err != nil || port == "" {
		return nil, setErr(http.StatusBadRequest, "listen", "%q: want host:port, e.g. 127.0.0.1:8080 (port 0 picks a free one)", addr)
	}
	p := NewUnstartedServer(cfg.Upstream)
	p.Addr = addr
	if cfg.Profile != "" {
		pr, err := profile.Resolve(cfg.Profile)
		if err != nil {
			return nil, setErr(http.StatusBadRequest, "profile", "%v", err)
		}
		p.Profile = pr
	}
	for i, spec := range cfg.Faults {
		if _, err := p.AddFaultSpec(spec); err != nil {
			return nil, faultErr(i, err)
		}
	}
	if err := s.start(cfg, p); err != nil {
		return nil, err
	}
	if s.Created != nil {
		s.Created(cfg.Name, p)
	}
	return p, nil
}

// start starts p, Create's, under the name cfg gives it, and puts it in
// the set.
func (s *Set) start(cfg ProxyConfig, p *Proxy) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.free(cfg.Name); err != nil {
		return err
	}
	if s.Configure != nil {
		s.Configure(cfg.Name, p)
	}
	if cfg.Enabled != nil && !*cfg.Enabled {
		p.Disable() // before Start: no client gets in
	}
	if err := p.StartErr(); err != nil {
		p.Close()
		return listenErr(p.Addr, err)
	}
	s.proxies[cfg.Name] = p
	return nil
}

// faultErr words the failure of fault i of a ProxyConfig.
func faultErr(i int, err error) *SetError {
	field := fmt.Sprintf("faults[%d]", i)
	var se *SpecError
	var ue *UnfitError
	switch {
	case errors.As(err, &ue):
		return setErr(http.StatusUnprocessableEntity, field+"."+ue.Field, "%s", ue.Msg)
	case errors.As(err, &se):
		return setErr(http.StatusBadRequest, field+"."+se.Field, "%s", se.Msg)
	}
	return setErr(http.StatusBadRequest, field, "%v", err)
}

// listenErr words a failure to start on addr: a taken address is a
// conflict (409), naming it.
func listenErr(addr string, err error) *SetError {
	if errors.Is(err, syscall.EADDRINUSE) {
		return setErr(http.StatusConflict, "listen", "%s is taken (another proxy or program listens there): give another, or port 0 for a free one", addr)
	}
	return setErr(http.StatusBadRequest, "listen", "%v", err)
}

// Get returns the proxy named name.
func (s *Set) Get(name string) (*Proxy, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p, ok := s.proxies[name]
	return p, ok
}

// Remove cuts the connections of the proxy named name with an RST,
// closes it and forgets it; false if there is none.
func (s *Set) Remove(name string) bool {
	s.mu.Lock()
	p, ok := s.proxies[name]
	delete(s.proxies, name)
	s.mu.Unlock()
	if ok {
		p.Disable()
		p.Close()
		if s.Removed != nil {
			s.Removed(name, p)
		}
	}
	return ok
}

// Names lists the proxies' names, sorted.
func (s *Set) Names() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	names := make([]string, 0, len(s.proxies))
	for n := range s.proxies {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// List describes every proxy, sorted by name.
func (s *Set) List() ProxyList {
	out := ProxyList{Proxies: []ProxyInfo{}}
	for _, n := range s.Names() {
		if p, ok := s.Get(n); ok {
			out.Proxies = append(out.Proxies, p.Info(n))
		}
	}
	return out
}

// Info describes p as the control API shows it, under name.
func (p *Proxy) Info(name string) ProxyInfo {
	in := ProxyInfo{Name: name, Upstream: p.Upstream, Enabled: p.Enabled(), Faults: p.ListFaults()}
	if p.Profile != nil {
		in.Profile = p.Profile.Name
	}
	p.mu.Lock()
	in.Listen, in.Attempts, in.Open = p.listenAddr, p.attempts, len(p.conns)
	p.mu.Unlock()
	return in
}

// Start serves the control API on ControlAddr, when set; it panics if it
// cannot listen. StartErr returns that as an error instead.
func (s *Set) Start() {
	if err := s.StartErr(); err != nil {
		panic(err.Error())
	}
}

// StartErr is Start for programs.
func (s *Set) StartErr() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case s.started:
		return fmt.Errorf("proxy: Set.Start called twice")
	case s.closed:
		return fmt.Errorf("proxy: Set.Start after Close")
	}
	s.started = true
	if s.ControlAddr == "" {
		return nil
	}
	ln, err := listen(s.ControlAddr)
	if err != nil {
		return err
	}
	s.ControlURL = "http://" + ln.Addr().String()
	s.controlHost, _, _ = net.SplitHostPort(s.ControlAddr)
	if s.controlHost == "" {
		s.controlHost = "0.0.0.0"
	}
	s.srv = &http.Server{
		Handler:           s.ControlHandler(),
		ReadHeaderTimeout: link.ReadHeaderTimeout,
		ReadTimeout:       controlReadWait,
		WriteTimeout:      controlWriteWait,
		IdleTimeout:       idleWait,
		MaxHeaderBytes:    controlMaxHeaderBytes,
		ErrorLog:          link.ErrorLog(nil),
	}
	s.served = make(chan struct{})
	go func() {
		defer close(s.served)
		s.srv.Serve(ln)
	}()
	return nil
}

// Close stops the control API and closes every proxy. It is safe to call
// more than once.
func (s *Set) Close() {
	s.mu.Lock()
	s.closed = true
	ps := make([]*Proxy, 0, len(s.proxies))
	for _, p := range s.proxies {
		ps = append(ps, p)
	}
	srv := s.srv
	s.srv = nil
	s.mu.Unlock()
	if srv != nil {
		srv.Close()
		<-s.served
	}
	for _, p := range ps {
		p.Close()
	}
}

// ControlHandler is the control API of every proxy in the set:
//
//	GET    /proxies               200 ProxyList
//	POST   /proxies               ProxyConfig → 201 ProxyInfo
//	GET    /proxies/{name}        200 ProxyInfo
//	DELETE /proxies/{name}        204 (its connections cut with rst)
//	/proxies/{name}/…             that proxy's endpoints (Proxy.ControlHandler)
//	/…                            the endpoints of the proxy named DefaultName
//
// guarded as a Proxy's is.
func (s *Set) ControlHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /proxies", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, s.List())
	})
	mux.HandleFunc("POST /proxies", func(w http.ResponseWriter, r *http.Request) {
		var cfg ProxyConfig
		if !readBody(w, r, &cfg) {
			return
		}
		p, err := s.Create(cfg)
		if err != nil {
			writeSetError(w, err)
			return
		}
		writeJSON(w, http.StatusCreated, p.Info(cfg.Name))
	})
	mux.HandleFunc("GET /proxies/{name}", func(w http.ResponseWriter, r *http.Request) {
		if p, ok := s.named(w, r.PathValue("name")); ok {
			writeJSON(w, http.StatusOK, p.Info(r.PathValue("name")))
		}
	})
	mux.HandleFunc("DELETE /proxies/{name}", func(w http.ResponseWriter, r *http.Request) {
		if _, ok := s.named(w, r.PathValue("name")); ok && s.Remove(r.PathValue("name")) {
			w.WriteHeader(http.StatusNoContent)
		}
	})
	mux.HandleFunc("/proxies/{name}/{rest...}", func(w http.ResponseWriter, r *http.Request) {
		name := r.PathValue("name")
		if p, ok := s.named(w, name); ok {
			http.StripPrefix("/proxies/"+name, p.api()).ServeHTTP(w, r)
		}
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		p, ok := s.Get(DefaultName)
		if !ok {
			writeError(w, http.StatusNotFound, "", fmt.Sprintf("no endpoint %.10s %.100q: unprefixed endpoints address the proxy named %q, and there is none; address a proxy as /proxies/{name}%s (GET /proxies lists them)", r.Method, r.URL.Path, DefaultName, r.URL.Path))
			return
		}
		p.api().ServeHTTP(w, r)
	})
	return guardAPI(s.ControlToken, func() string { return s.controlHost }, cleanPaths(mux))
}

// named returns the proxy named name, or answers 404 listing the names.
func (s *Set) named(w http.ResponseWriter, name string) (*Proxy, bool) {
	p, ok := s.Get(name)
	if !ok {
		names := s.Names()
		known := "none"
		if len(names) > 0 {
			known = strings.Join(names, ", ")
		}
		writeError(w, http.StatusNotFound, "name", fmt.Sprintf("no proxy named %.64q (proxies: %s)", name, known))
	}
	return p, ok
}

// writeSetError answers err, a *SetError or another.
func writeSetError(w http.ResponseWriter, err error) {
	var se *SetError
	if errors.As(err, &se) {
		writeError(w, se.Status, se.Field, se.Msg)
		return
	}
	writeError(w, http.StatusBadRequest, "", err.Error())
}
