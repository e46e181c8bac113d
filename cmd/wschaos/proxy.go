package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"

	"github.com/wschaos/wschaos/internal/filecodec"
	"github.com/wschaos/wschaos/proxy"
)

// proxyUsage heads `wschaos proxy -h`.
const proxyUsage = `usage: wschaos proxy --upstream ws://host:port/path [flags]
       wschaos proxy --config FILE [--upstream ws://host:port/path] [flags]
       wschaos proxy --control ADDR [flags]

Runs a WebSocket chaos proxy: clients connect to --listen, the proxy dials
--upstream with the client's path and query and relays frames both ways through
the faults. Faults come from --faults (a JSON array of specs like
{"fault":"delay","args":["5s"],"select":{"dir":"server","type":"posted"}})
and change at run time through the control API on --control:
GET/POST /faults, PUT/DELETE /faults/{id}, POST /reset, GET /status,
POST /cut {"kind":"rst|fin|black-hole|code","code":N} (the connections open
now), POST /disable, POST /enable.

Many named proxies run in one process: --config FILE is a JSON (or YAML) list
like [{"name":"api","listen":"127.0.0.1:9001","upstream":"ws://127.0.0.1:8065/ws",
"profile":"mattermost","faults":[{"fault":"swallow-pongs"}]}], and POST /proxies
adds one at run time (GET /proxies lists them, DELETE /proxies/{name} removes
one); with --control alone the process starts with none, as a daemon the API
populates. Each proxy's endpoints are under /proxies/{name}; the unprefixed ones
address the proxy --upstream starts, named "default". --listen, --faults,
--profile and --upstream-ca configure that one.

Writes must be Content-Type: application/json; requests from a web page on
another origin, or naming this machine by a name other than localhost, are
refused. --control beyond loopback (":9001", "0.0.0.0:9001", a LAN address)
needs --control-token (or WSCHAOS_CONTROL_TOKEN), which every request must
then send as "Authorization: Bearer TOKEN"; --control-insecure binds it
without one, for anyone on the network to change the faults.

An --upstream without a scheme (127.0.0.1:8065/ws) is taken as ws://.
On SIGINT or SIGTERM it prints a summary of each proxy to stderr.
Exit codes: 0 stopped by SIGINT or SIGTERM, 2 bad command line or --config,
4 cannot listen on --listen, --control or a --config entry's listen address
(the message names which).

flags:
`

// controlTokenEnv names the environment variable --control-token defaults
// to: a token on the command line is visible to every user in ps.
const controlTokenEnv = "WSCHAOS_CONTROL_TOKEN"

// runProxy is `wschaos proxy`: it runs until SIGINT or SIGTERM.
func runProxy(args []string, stdout, stderr io.Writer) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	helpOut = stdout
	return proxyUntil(ctx, args, stderr)
}

// proxyUntil runs the proxies until ctx ends; it is runProxy with its
// output and its end given, for tests.
func proxyUntil(ctx context.Context, args []string, stderr io.Writer) error {
	run, err := parseProxyFlags(args)
	if err != nil {
		return err
	}
	set := proxy.NewSet()
	set.ControlAddr, set.ControlToken = run.control, run.token
	var sink *transcriptSink
	if run.opts.transcript != "" {
		f, err := os.Create(run.opts.transcript)
		if err != nil {
			return fmt.Errorf("proxy: --transcript: %w", err)
		}
		sink = newTranscriptSink(f, stderr)
	}
	set.Configure = func(name string, p *proxy.Proxy) {
		p.Seed = run.seed
		p.Transcript().Keep(run.keep)
		if run.verbose {
			p.Logger = slog.New(&lineHandler{w: stderr, mu: &stderrMu, prefix: linePrefix(name)})
		}
		if sink != nil {
			// Pinned before the first connection: no entry is let go
			// before it is written, and the relay waits for the file if
			// it must.
			sink.feed(linePrefix(name), p.Transcript().Pin())
		}
	}
	// The proxies the control API makes after the start and the ones it
	// removes are told as they come, and a removed one's counters are
	// kept for the summary.
	var listed atomic.Bool
	var removedMu sync.Mutex
	var removed []namedProxy
	set.Created = func(name string, p *proxy.Proxy) {
		if listed.Load() {
			announce(stderr, name, p)
		}
	}
	set.Removed = func(name string, p *proxy.Proxy) {
		stderrMu.Lock()
		fmt.Fprintf(stderr, "wschaos proxy: %s: removed\n", name)
		stderrMu.Unlock()
		removedMu.Lock()
		removed = append(removed, namedProxy{name, p})
		removedMu.Unlock()
	}
	if err := startProxies(set, run); err != nil {
		set.Close()
		if sink != nil {
			sink.stop()
		}
		return err
	}
	if run.opts.assumedScheme {
		fmt.Fprintf(stderr, "wschaos proxy: --upstream has no scheme: taking ws://%s\n", strings.TrimPrefix(run.def.Upstream, "ws://"))
	}
	for _, name := range set.Names() {
		p, _ := set.Get(name)
		announce(stderr, name, p)
	}
	listed.Store(true)
	if set.ControlURL != "" {
		fmt.Fprintf(stderr, "wschaos proxy: control API at %s\n", set.ControlURL)
		warnBeyondLoopback(stderr, run.control, run.token)
	}
	if sink != nil {
		fmt.Fprintf(stderr, "wschaos proxy: transcript to %s\n", run.opts.transcript)
	}
	<-ctx.Done()
	set.Close()
	var werr error
	if sink != nil {
		werr = sink.finish(run.opts.transcript)
	}
	removedMu.Lock()
	defer removedMu.Unlock()
	printSummary(stderr, set, removed, run.opts.transcript)
	return werr
}

// startProxies starts the --upstream proxy, then the --config ones, then
// the control API, and words a failure for the user: which flag or
// entry, and exitListen for an address it cannot listen on.
func startProxies(set *proxy.Set, run *proxyRun) error {
	if run.def != nil {
		set.Configure(proxy.DefaultName, run.def)
		if err := run.def.StartErr(); err != nil {
			if strings.Contains(err.Error(), "failed to listen on "+run.def.Addr+":") {
				return listenError("proxy", "listen", run.def.Addr, "the address clients connect to", err)
			}
			return err
		}
		if err := set.Add(proxy.DefaultName, run.def); err != nil {
			run.def.Close()
			return err
		}
	}
	for i, cfg := range run.configs {
		if _, err := set.Create(cfg); err != nil {
			return configError(run.configPath, i, cfg, err)
		}
	}
	if err := set.StartErr(); err != nil {
		return listenError("proxy", "control", run.control, "the control API's address", err)
	}
	return nil
}

// configError words the failure to start entry i of the --config file:
// a taken listen address exits with exitListen, the rest as a bad file.
func configError(path string, i int, cfg proxy.ProxyConfig, err error) error {
	ce := &proxy.ConfigError{Entry: i, Name: cfg.Name, Msg: err.Error()}
	var se *proxy.SetError
	if errors.As(err, &se) {
		ce.Field, ce.Msg = se.Field, se.Msg
	}
	code := exitUsage
	if ce.Field == "listen" && se != nil && se.Status == http.StatusConflict {
		code = exitListen
	}
	return &exitError{code: code, err: fmt.Errorf("proxy: --config %s: %w", path, ce)}
}

// linePrefix marks the lines of the proxy named name in a shared log or
// transcript: none for the default proxy, so a run of one reads as
// before; "[name] " for the others.
func linePrefix(name string) string {
	if name == proxy.DefaultName {
		return ""
	}
	return "[" + name + "] "
}

// transcriptSink writes the transcripts of every proxy to one file as
// their entries arrive, a line each (Entry.String, after the proxy's
// prefix), in the order they arrive. Each proxy feeds it through a pin,
// which keeps every entry until it is written.
type transcriptSink struct {
	stderr  io.Writer
	writing context.Context // ends once the proxies are closed
	stopIt  context.CancelFunc
	wg      sync.WaitGroup // the feeds

	mu    sync.Mutex
	f     *os.File
	w     *bufio.Writer
	feeds []*transcriptFeed
	seen  int   // entries written
	err   error // the first failed write: no more are tried
}

// transcriptFeed is one proxy's entries on their way to the sink.
type transcriptFeed struct {
	prefix string
	pin    *proxy.Pin
}

func newTranscriptSink(f *os.File, stderr io.Writer) *transcriptSink {
	// The writers outlive the run's ctx until the proxies are closed:
	// closing records the connections' ends, and a relay waiting for the
	// writer must get on for the close to finish.
	writing, stop := context.WithCancel(context.Background())
	return &transcriptSink{f: f, w: bufio.NewWriter(f), stderr: stderr, writing: writing, stopIt: stop}
}

// feed writes what pin brings, until the sink stops.
func (ts *transcriptSink) feed(prefix string, pin *proxy.Pin) {
	fd := &transcriptFeed{prefix: prefix, pin: pin}
	ts.mu.Lock()
	ts.feeds = append(ts.feeds, fd)
	failed := ts.err != nil
	ts.mu.Unlock()
	if failed {
		pin.Release()
		return
	}
	ts.wg.Add(1)
	go func() {
		defer ts.wg.Done()
		for {
			es, err := pin.Next(ts.writing)
			if err != nil || !ts.write(fd.prefix, es) {
				return
			}
		}
	}()
}

// write writes es; false once a write has failed. A failure is told on
// stderr at once, and once, and releases every pin: the relays no longer
// wait for a file that takes no more.
func (ts *transcriptSink) write(prefix string, es []proxy.Entry) bool {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	if ts.err != nil {
		return false
	}
	for _, e := range es {
		ts.w.WriteString(prefix)
		ts.w.WriteString(e.String())
		ts.w.WriteByte('\n')
	}
	ts.seen += len(es)
	if err := ts.w.Flush(); err != nil {
		ts.err = err
		for _, fd := range ts.feeds {
			fd.pin.Release()
		}
		fmt.Fprintf(ts.stderr, "wschaos proxy: transcript not written from entry %d on: %v\n", ts.seen-len(es)+1, err)
		return false
	}
	return true
}

// stop ends the feeds and closes the file, for a run that did not start.
func (ts *transcriptSink) stop() {
	ts.stopIt()
	ts.wg.Wait()
	for _, fd := range ts.feeds {
		fd.pin.Release()
	}
	ts.f.Close()
}

// finish, once the proxies are closed, writes what their closes
// recorded, closes the file, and says whether every entry reached it.
func (ts *transcriptSink) finish(path string) error {
	ts.stopIt()
	ts.wg.Wait()
	for _, fd := range ts.feeds {
		ts.write(fd.prefix, fd.pin.Take())
		fd.pin.Release()
	}
	err := ts.f.Close()
	if ts.err != nil {
		err = ts.err
	}
	if err != nil {
		return fmt.Errorf("proxy: --transcript %s: %w", path, err)
	}
	return nil
}

// warnBeyondLoopback says loudly, at start, that the control API on addr
// can be reached from other hosts, and who can change the faults then.
func warnBeyondLoopback(stderr io.Writer, addr, token string) {
	if !proxy.BeyondLoopback(addr) {
		return
	}
	if token == "" {
		fmt.Fprintf(stderr, "wschaos proxy: WARNING: the control API on %s is reachable from other hosts WITHOUT A TOKEN (--control-insecure): anyone on the network can change the faults and read /status\n", addr)
		return
	}
	fmt.Fprintf(stderr, "wschaos proxy: WARNING: the control API on %s is reachable from other hosts; every request must send Authorization: Bearer <--control-token>, in clear text over HTTP\n", addr)
}

// helpOut is where proxy -h prints its usage: stdout, or a test's buffer.
var helpOut io.Writer = os.Stdout

// proxyOptions are the flags that are not the proxy's own settings.
type proxyOptions struct {
	transcript    string // file to write the transcript to, "" for none
	assumedScheme bool   // --upstream was host:port[/path]: ws:// was assumed
}

// withScheme reads an --upstream given as host:port[/path], the way one
// names a server everywhere else, as ws://host:port[/path]; anything with
// a scheme is left for the proxy to check.
func withScheme(upstream string) (string, bool) {
	if strings.Contains(upstream, "://") {
		return upstream, false
	}
	return "ws://" + upstream, true
}

// proxyRun is what the command line asks for.
type proxyRun struct {
	def        *proxy.Proxy        // the --upstream proxy, unstarted; nil with --config alone
	configs    []proxy.ProxyConfig // --config's entries
	configPath string
	control    string // --control, "" for no control API
	token      string
	seed       uint64
	keep       int
	verbose    bool
	opts       proxyOptions
}

// newProxyFromFlags parses the proxy's flags into the unstarted --upstream
// proxy, with the control API's address and token set on it.
func newProxyFromFlags(args []string) (*proxy.Proxy, error) {
	run, err := parseProxyFlags(args)
	if err != nil {
		return nil, err
	}
	if run.def == nil {
		return nil, fmt.Errorf("proxy: no --upstream")
	}
	run.def.ControlAddr, run.def.ControlToken = run.control, run.token
	return run.def, nil
}

// defaultProxyFlags configure the --upstream proxy only.
var defaultProxyFlags = []string{"listen", "faults", "profile", "upstream-ca"}

// parseProxyFlags parses the proxy's flags.
func parseProxyFlags(args []string) (*proxyRun, error) {
	run := &proxyRun{}
	fs := flag.NewFlagSet("proxy", flag.ContinueOnError)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), proxyUsage)
		fs.PrintDefaults()
	}
	listen := fs.String("listen", "127.0.0.1:0", "address to accept clients on")
	upstream := fs.String("upstream", "", "the real server's ws:// or wss:// URL (required without --config)")
	config := fs.String("config", "", "JSON or YAML file listing named proxies to start: [{\"name\":\"api\",\"upstream\":\"ws://…\",\"listen\":\"127.0.0.1:9001\"}]")
	faults := fs.String("faults", "", "JSON file of fault specs to start with")
	fs.StringVar(&run.control, "control", "", "address of the control API, e.g. 127.0.0.1:8082 (none if empty); beyond loopback it needs --control-token")
	fs.StringVar(&run.token, "control-token", os.Getenv(controlTokenEnv), "bearer token every control API request must send (default $"+controlTokenEnv+")")
	insecure := fs.Bool("control-insecure", false, "let --control bind beyond loopback without a token: anyone on the network can change the faults")
	fs.Uint64Var(&run.seed, "seed", 0, "seed of the faults' random choices; the same seed replays them")
	prof := fs.String("profile", "", profileFlag("protocol profile to decode frames with")+"; opaque frames if empty")
	upstreamCA := fs.String("upstream-ca", "", "PEM file of the CA certificates to verify a wss:// upstream with, instead of the system's")
	fs.BoolVar(&run.verbose, "v", false, "print every transcript line to stderr, as it is recorded")
	fs.StringVar(&run.opts.transcript, "transcript", "", "file to write every transcript line to, as it is recorded; the relay waits for it rather than lose one")
	fs.IntVar(&run.keep, "keep", defaultKeep, "transcript entries held in memory; older ones are let go (0: all)")
	if err := parseFlags(fs, args, helpOut); err != nil {
		return nil, usageErr(err)
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("proxy: unexpected arguments %q", fs.Args())
	}
	if *upstream == "" && *config == "" && run.control == "" {
		return nil, fmt.Errorf("proxy: --upstream is required (or --config FILE of named proxies, or --control ADDR to start with none and add them with POST /proxies)")
	}
	if run.keep < 0 {
		return nil, fmt.Errorf("proxy: --keep %d: want 0 (all) or more", run.keep)
	}
	if run.control != "" && proxy.BeyondLoopback(run.control) && run.token == "" && !*insecure {
		return nil, fmt.Errorf("proxy: --control %s is reachable from other hosts: give --control-token TOKEN (or $%s), or --control-insecure to let anyone on the network change the faults", run.control, controlTokenEnv)
	}
	if *config != "" {
		run.configPath = *config
		var err error
		if run.configs, err = readProxyConfig(*config); err != nil {
			return nil, err
		}
	}
	if *upstream == "" {
		var stray []string
		fs.Visit(func(f *flag.Flag) {
			if slices.Contains(defaultProxyFlags, f.Name) {
				stray = append(stray, "--"+f.Name)
			}
		})
		if len(stray) > 0 {
			return nil, usageErr(fmt.Errorf("proxy: %s configure the --upstream proxy, and there is none: give --upstream, or put them in the --config entries (\"listen\", \"faults\", \"profile\")", strings.Join(stray, ", ")))
		}
		return run, nil
	}
	for _, cfg := range run.configs {
		if cfg.Name == proxy.DefaultName {
			return nil, usageErr(fmt.Errorf("proxy: --config %s names a proxy %q, the name of the --upstream proxy: rename it, or drop --upstream", *config, proxy.DefaultName))
		}
	}
	*upstream, run.opts.assumedScheme = withScheme(*upstream)
	p := proxy.NewUnstartedServer(*upstream)
	p.Addr = *listen
	if *prof != "" {
		var err error
		if p.Profile, err = loadProfile(*prof); err != nil {
			return nil, fmt.Errorf("proxy: %w", err)
		}
	}
	if *upstreamCA != "" {
		if u, err := url.Parse(*upstream); err != nil || u.Scheme != "wss" {
			return nil, fmt.Errorf("proxy: --upstream-ca needs a wss:// upstream, not %q", *upstream)
		}
		pool, err := loadCAs(*upstreamCA)
		if err != nil {
			return nil, err
		}
		p.UpstreamTLS = &tls.Config{RootCAs: pool}
	}
	if *faults != "" {
		if err := loadFaults(p, *faults); err != nil {
			return nil, err
		}
	}
	p.Seed = run.seed
	run.def = p
	return run, nil
}

// readProxyConfig reads a --config file; a bad one is a bad command line.
func readProxyConfig(path string) ([]proxy.ProxyConfig, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, usageErr(fmt.Errorf("proxy: --config: %w", err))
	}
	cfgs, err := proxy.ReadConfig(b)
	if err != nil {
		return nil, usageErr(fmt.Errorf("proxy: --config %s: %w", path, err))
	}
	return cfgs, nil
}

// loadFaults installs the faults of a faults file in p, in order.
func loadFaults(p *proxy.Proxy, path string) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("proxy: failed to open faults file: %w", err)
	}
	defer f.Close()
	b, err := io.ReadAll(f)
	if err != nil {
		return fmt.Errorf("proxy: failed to read faults file: %w", err)
	}
	if t := bytes.TrimSpace(b); len(t) > 0 && t[0] == '{' {
		return fmt.Errorf(`proxy: %s holds one JSON object; a faults file is a list of fault specs: wrap it in [ ], e.g. [{"fault":"drop","select":{"type":"posted"}}]`, path)
	}
	specs, err := proxy.ReadSpecs(bytes.NewReader(b))
	if err != nil {
		return fmt.Errorf("proxy: %s: %w", path, err)
	}
	for i, s := range specs {
		if _, err := p.AddFaultSpec(s); err != nil {
			hint := ""
			if names := proxy.FaultNames(); s.Fault != "" && !slices.Contains(names, s.Fault) {
				hint = filecodec.DidYouMean(s.Fault, names)
			}
			return fmt.Errorf("proxy: %s: fault [%d]%s: %w", path, i, hint, err)
		}
	}
	return nil
}

// loadCAs reads a PEM file of CA certificates into a pool.
func loadCAs(path string) (*x509.CertPool, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("proxy: --upstream-ca: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(b) {
		return nil, fmt.Errorf("proxy: --upstream-ca %s: no PEM certificate in it", path)
	}
	return pool, nil
}
