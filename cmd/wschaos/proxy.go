package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"

	"github.com/wschaos/wschaos/internal/filecodec"
	"github.com/wschaos/wschaos/proxy"
)

// proxyUsage heads `wschaos proxy -h`.
const proxyUsage = `usage: wschaos proxy --upstream ws://host:port/path [flags]

Runs a WebSocket chaos proxy: clients connect to --listen, the proxy dials
--upstream with the client's path and query and relays frames both ways through
the faults. Faults come from --faults (a JSON array of specs like
{"fault":"delay","args":["5s"],"select":{"dir":"server","type":"posted"}})
and change at run time through the control API on --control:
GET/POST /faults, PUT/DELETE /faults/{id}, POST /reset, GET /status.
Writes must be Content-Type: application/json; requests from a web page on
another origin, or naming this machine by a name other than localhost, are
refused. --control beyond loopback (":9001", "0.0.0.0:9001", a LAN address)
needs --control-token (or WSCHAOS_CONTROL_TOKEN), which every request must
then send as "Authorization: Bearer TOKEN"; --control-insecure binds it
without one, for anyone on the network to change the faults.

An --upstream without a scheme (127.0.0.1:8065/ws) is taken as ws://.
Exit codes: 0 stopped by SIGINT or SIGTERM, 2 bad command line, 4 cannot
listen on --listen or --control (the message names which).

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

// proxyUntil runs the proxy until ctx ends; it is runProxy with its
// output and its end given, for tests.
func proxyUntil(ctx context.Context, args []string, stderr io.Writer) error {
	p, opts, err := parseProxyFlags(args)
	if err != nil {
		return err
	}
	var tf *transcriptFile
	if opts.transcript != "" {
		f, err := os.Create(opts.transcript)
		if err != nil {
			return fmt.Errorf("proxy: --transcript: %w", err)
		}
		// Pinned before the first connection: no entry is let go before
		// it is written, and the relay waits for the file if it must.
		tf = &transcriptFile{f: f, w: bufio.NewWriter(f), stderr: stderr, pin: p.Transcript().Pin()}
		defer tf.pin.Release()
	}
	if err := p.StartErr(); err != nil {
		if tf != nil {
			tf.f.Close()
		}
		return proxyStartError(p, err)
	}
	if opts.assumedScheme {
		fmt.Fprintf(stderr, "wschaos proxy: --upstream has no scheme: taking ws://%s\n", strings.TrimPrefix(p.Upstream, "ws://"))
	}
	fmt.Fprintf(stderr, "wschaos proxy: %s → %s\n", p.URL, p.Upstream)
	if p.ControlURL != "" {
		fmt.Fprintf(stderr, "wschaos proxy: control API at %s\n", p.ControlURL)
		warnBeyondLoopback(stderr, p)
	}
	for _, f := range p.ListFaults() {
		fmt.Fprintf(stderr, "wschaos proxy: fault %d: %s\n", f.ID, f.Fault)
	}
	if tf == nil {
		<-ctx.Done()
		p.Close()
		return nil
	}
	fmt.Fprintf(stderr, "wschaos proxy: transcript to %s\n", opts.transcript)
	// The writer outlives ctx until the proxy is closed: closing records
	// the connections' ends, and a relay waiting for the writer must get
	// on for the close to finish.
	writing, stopWriting := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		for tf.err == nil {
			es, err := tf.pin.Next(writing)
			if err != nil {
				return
			}
			tf.write(es)
		}
	}()
	<-ctx.Done()
	p.Close()
	stopWriting()
	<-done
	tf.write(tf.pin.Take()) // what the close recorded
	return tf.close(opts.transcript)
}

// transcriptFile writes a proxy's transcript entries as they arrive, a
// line each (Entry.String), in the order they arrive. Its pin keeps every
// entry until it is written.
type transcriptFile struct {
	f      *os.File
	w      *bufio.Writer
	stderr io.Writer
	pin    *proxy.Pin
	seen   int   // entries written
	err    error // the first failed write: no more are tried
}

// write writes es; a failure is told on stderr at once, and once, and
// releases the pin: the relay no longer waits for a file that takes no
// more.
func (tf *transcriptFile) write(es []proxy.Entry) {
	if tf.err != nil {
		return
	}
	for _, e := range es {
		tf.w.WriteString(e.String())
		tf.w.WriteByte('\n')
	}
	tf.seen += len(es)
	if err := tf.w.Flush(); err != nil {
		tf.err = err
		tf.pin.Release()
		fmt.Fprintf(tf.stderr, "wschaos proxy: transcript not written from entry %d on: %v\n", tf.seen-len(es)+1, err)
	}
}

// close closes the file, and says whether every entry reached it.
func (tf *transcriptFile) close(path string) error {
	err := tf.f.Close()
	if tf.err != nil {
		err = tf.err
	}
	if err != nil {
		return fmt.Errorf("proxy: --transcript %s: %w", path, err)
	}
	return nil
}

// warnBeyondLoopback says loudly, at start, that the control API can be
// reached from other hosts, and who can change the faults then.
func warnBeyondLoopback(stderr io.Writer, p *proxy.Proxy) {
	if !proxy.BeyondLoopback(p.ControlAddr) {
		return
	}
	if p.ControlToken == "" {
		fmt.Fprintf(stderr, "wschaos proxy: WARNING: the control API on %s is reachable from other hosts WITHOUT A TOKEN (--control-insecure): anyone on the network can change the faults and read /status\n", p.ControlAddr)
		return
	}
	fmt.Fprintf(stderr, "wschaos proxy: WARNING: the control API on %s is reachable from other hosts; every request must send Authorization: Bearer <--control-token>, in clear text over HTTP\n", p.ControlAddr)
}

// helpOut is where proxy -h prints its usage: stdout, or a test's buffer.
var helpOut io.Writer = os.Stdout

// proxyOptions are the flags that are not the proxy's own settings.
type proxyOptions struct {
	transcript    string // file to write the transcript to, "" for none
	assumedScheme bool   // --upstream was host:port[/path]: ws:// was assumed
}

// proxyStartError words a failure to start for the user: a listen failure
// names the address and its flag, and exits with exitListen.
func proxyStartError(p *proxy.Proxy, err error) error {
	for _, a := range []struct{ flag, addr, what string }{
		{"control", p.ControlAddr, "the control API's address"},
		{"listen", p.Addr, "the address clients connect to"},
	} {
		if a.addr != "" && strings.Contains(err.Error(), "failed to listen on "+a.addr+":") {
			return listenError("proxy", a.flag, a.addr, a.what, err)
		}
	}
	return err
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

// newProxyFromFlags parses the proxy's flags into an unstarted proxy.
func newProxyFromFlags(args []string) (*proxy.Proxy, error) {
	p, _, err := parseProxyFlags(args)
	return p, err
}

// parseProxyFlags parses the proxy's flags into an unstarted proxy and the
// options around it.
func parseProxyFlags(args []string) (*proxy.Proxy, proxyOptions, error) {
	var opts proxyOptions
	fs := flag.NewFlagSet("proxy", flag.ContinueOnError)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), proxyUsage)
		fs.PrintDefaults()
	}
	listen := fs.String("listen", "127.0.0.1:0", "address to accept clients on")
	upstream := fs.String("upstream", "", "the real server's ws:// or wss:// URL (required)")
	faults := fs.String("faults", "", "JSON file of fault specs to start with")
	control := fs.String("control", "", "address of the control API, e.g. 127.0.0.1:8082 (none if empty); beyond loopback it needs --control-token")
	token := fs.String("control-token", os.Getenv(controlTokenEnv), "bearer token every control API request must send (default $"+controlTokenEnv+")")
	insecure := fs.Bool("control-insecure", false, "let --control bind beyond loopback without a token: anyone on the network can change the faults")
	seed := fs.Uint64("seed", 0, "seed of the faults' random choices; the same seed replays them")
	prof := fs.String("profile", "", profileFlag("protocol profile to decode frames with")+"; opaque frames if empty")
	upstreamCA := fs.String("upstream-ca", "", "PEM file of the CA certificates to verify a wss:// upstream with, instead of the system's")
	verbose := fs.Bool("v", false, "log every transcript line to stderr")
	fs.StringVar(&opts.transcript, "transcript", "", "file to write every transcript line to, as it is recorded; the relay waits for it rather than lose one")
	keep := fs.Int("keep", defaultKeep, "transcript entries held in memory; older ones are let go (0: all)")
	if err := parseFlags(fs, args, helpOut); err != nil {
		return nil, opts, usageErr(err)
	}
	if fs.NArg() > 0 {
		return nil, opts, fmt.Errorf("proxy: unexpected arguments %q", fs.Args())
	}
	if *upstream == "" {
		return nil, opts, fmt.Errorf("proxy: --upstream is required")
	}
	if *keep < 0 {
		return nil, opts, fmt.Errorf("proxy: --keep %d: want 0 (all) or more", *keep)
	}
	if *control != "" && proxy.BeyondLoopback(*control) && *token == "" && !*insecure {
		return nil, opts, fmt.Errorf("proxy: --control %s is reachable from other hosts: give --control-token TOKEN (or $%s), or --control-insecure to let anyone on the network change the faults", *control, controlTokenEnv)
	}
	*upstream, opts.assumedScheme = withScheme(*upstream)
	p := proxy.NewUnstarted(*upstream)
	p.Transcript().Keep(*keep)
	p.Addr, p.ControlAddr, p.ControlToken, p.Seed = *listen, *control, *token, *seed
	if *prof != "" {
		var err error
		if p.Profile, err = loadProfile(*prof); err != nil {
			return nil, opts, fmt.Errorf("proxy: %w", err)
		}
	}
	if *upstreamCA != "" {
		if u, err := url.Parse(*upstream); err != nil || u.Scheme != "wss" {
			return nil, opts, fmt.Errorf("proxy: --upstream-ca needs a wss:// upstream, not %q", *upstream)
		}
		pool, err := loadCAs(*upstreamCA)
		if err != nil {
			return nil, opts, err
		}
		p.UpstreamTLS = &tls.Config{RootCAs: pool}
	}
	if *faults != "" {
		if err := loadFaults(p, *faults); err != nil {
			return nil, opts, err
		}
	}
	if *verbose {
		p.Logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return p, opts, nil
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
