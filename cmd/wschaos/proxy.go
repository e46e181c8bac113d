package main

import (
	"crypto/tls"
	"crypto/x509"
	"flag"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/wschaos/wschaos/profile"
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

flags:
`

// runProxy is `wschaos proxy`: it runs until SIGINT or SIGTERM.
func runProxy(args []string) error {
	p, err := newProxyFromFlags(args)
	if err != nil {
		return err
	}
	if err := p.StartErr(); err != nil {
		return err
	}
	defer p.Close()
	fmt.Fprintf(os.Stderr, "wschaos proxy: %s → %s\n", p.URL, p.Upstream)
	if p.ControlURL != "" {
		fmt.Fprintf(os.Stderr, "wschaos proxy: control API at %s\n", p.ControlURL)
	}
	for _, f := range p.ListFaults() {
		fmt.Fprintf(os.Stderr, "wschaos proxy: fault %d: %s\n", f.ID, f.Fault)
	}
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	<-sig
	return nil
}

// newProxyFromFlags parses the proxy's flags into an unstarted proxy.
func newProxyFromFlags(args []string) (*proxy.Proxy, error) {
	fs := flag.NewFlagSet("proxy", flag.ContinueOnError)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), proxyUsage)
		fs.PrintDefaults()
	}
	listen := fs.String("listen", "127.0.0.1:0", "address to accept clients on")
	upstream := fs.String("upstream", "", "the real server's ws:// or wss:// URL (required)")
	faults := fs.String("faults", "", "JSON file of fault specs to start with")
	control := fs.String("control", "", "address of the control API, e.g. 127.0.0.1:8082 (none if empty)")
	seed := fs.Uint64("seed", 0, "seed of the faults' random choices; the same seed replays them")
	prof := fs.String("profile", "", "protocol profile to decode frames with: "+strings.Join(profile.Names(), "|")+" (opaque frames if empty)")
	upstreamCA := fs.String("upstream-ca", "", "PEM file of the CA certificates to verify a wss:// upstream with, instead of the system's")
	verbose := fs.Bool("v", false, "log every transcript line to stderr")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("proxy: unexpected arguments %q", fs.Args())
	}
	if *upstream == "" {
		return nil, fmt.Errorf("proxy: --upstream is required")
	}
	p := proxy.NewUnstarted(*upstream)
	p.Addr, p.ControlAddr, p.Seed = *listen, *control, *seed
	if *prof != "" {
		if p.Profile = profile.ByName(*prof); p.Profile == nil {
			return nil, fmt.Errorf("proxy: unknown --profile %q (known: %s)", *prof, strings.Join(profile.Names(), ", "))
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
	if *verbose {
		p.Logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return p, nil
}

// loadFaults installs the faults of a faults file in p, in order.
func loadFaults(p *proxy.Proxy, path string) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("proxy: failed to open faults file: %w", err)
	}
	defer f.Close()
	specs, err := proxy.ReadSpecs(f)
	if err != nil {
		return fmt.Errorf("proxy: %s: %w", path, err)
	}
	for i, s := range specs {
		if _, err := p.AddFaultSpec(s); err != nil {
			return fmt.Errorf("proxy: %s: fault [%d]: %w", path, i, err)
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
