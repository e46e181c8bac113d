package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"

	"github.com/wschaos/wschaos/proxy"
)

// stderrMu keeps the lines of several proxies' logs whole on one stderr.
var stderrMu sync.Mutex

// lineHandler is the slog handler of proxy -v: a transcript line is
// printed as it reads in the transcript file, not as an escaped slog
// record ("time=… level=DEBUG msg=\"+1.2s #1 recv …\""), which a person
// reading along cannot use. Other records (network errors) get their
// attributes after the message, key=value.
type lineHandler struct {
	w      io.Writer
	mu     *sync.Mutex
	prefix string // the proxy's, from linePrefix
	attrs  []slog.Attr
}

func (h *lineHandler) Enabled(context.Context, slog.Level) bool { return true }

func (h *lineHandler) Handle(_ context.Context, r slog.Record) error {
	var b strings.Builder
	b.WriteString(h.prefix)
	b.WriteString(r.Message)
	add := func(a slog.Attr) bool {
		fmt.Fprintf(&b, " %s=%v", a.Key, a.Value)
		return true
	}
	for _, a := range h.attrs {
		add(a)
	}
	r.Attrs(add)
	b.WriteByte('\n')
	h.mu.Lock()
	defer h.mu.Unlock()
	_, err := io.WriteString(h.w, b.String())
	return err
}

func (h *lineHandler) WithAttrs(as []slog.Attr) slog.Handler {
	h2 := *h
	h2.attrs = append(append([]slog.Attr{}, h.attrs...), as...)
	return &h2
}

func (h *lineHandler) WithGroup(string) slog.Handler { return h }

// announce tells that the proxy name has started: where it listens, its
// upstream, its faults, and whether it is disabled.
func announce(w io.Writer, name string, p *proxy.Proxy) {
	at := ""
	if name != proxy.DefaultName {
		at = name + ": "
	}
	stderrMu.Lock()
	defer stderrMu.Unlock()
	fmt.Fprintf(w, "wschaos proxy: %s%s → %s\n", at, p.URL, p.Upstream)
	for _, f := range p.ListFaults() {
		fmt.Fprintf(w, "wschaos proxy: %sfault %d: %s\n", at, f.ID, f.Fault)
	}
	if !p.Enabled() {
		fmt.Fprintf(w, "wschaos proxy: %sdisabled: it resets every connection until POST /proxies/%s/enable\n", at, name)
	}
}

// namedProxy is a proxy and its name in the set, kept once the control
// API has removed it.
type namedProxy struct {
	name string
	p    *proxy.Proxy
}

// printSummary tells, once the proxies are closed, what each did (those
// the control API removed on the way included): its connections, the
// frames each way, the faults that acted, and where the transcript went.
func printSummary(w io.Writer, set *proxy.Set, removed []namedProxy, transcript string) {
	var all []namedProxy
	for _, name := range set.Names() {
		if p, ok := set.Get(name); ok {
			all = append(all, namedProxy{name, p})
		}
	}
	all = append(all, removed...)
	if len(all) == 0 {
		return
	}
	fmt.Fprintln(w, "wschaos proxy: stopped; summary:")
	for i, np := range all {
		name, p := np.name, np.p
		s := p.Summary()
		gone := ""
		if i >= len(all)-len(removed) {
			gone = " (removed)"
		}
		fmt.Fprintf(w, "  %s%s: %s → %s\n", name, gone, p.URL, p.Upstream)
		fmt.Fprintf(w, "    %s, %s\n", count(s.Attempts, "attempt"), count(s.Connections, "connection")+" relayed")
		if s.ResetDisabled > 0 {
			fmt.Fprintf(w, "    %s reset while disabled\n", count(s.ResetDisabled, "connection"))
		}
		fmt.Fprintf(w, "    client → upstream: %s\n", dirLine(s.ClientToUpstream))
		fmt.Fprintf(w, "    upstream → client: %s\n", dirLine(s.UpstreamToClient))
		if len(s.Faults) == 0 {
			fmt.Fprintf(w, "    faults acted: none\n")
		} else {
			acts := make([]string, len(s.Faults))
			for i, f := range s.Faults {
				acts[i] = fmt.Sprintf("%s ×%d", f.Fault, f.Times)
			}
			fmt.Fprintf(w, "    faults acted: %s\n", strings.Join(acts, ", "))
		}
	}
	if transcript != "" {
		fmt.Fprintf(w, "  transcript: %s\n", transcript)
	} else {
		fmt.Fprintf(w, "  transcript: not kept (--transcript FILE writes one)\n")
	}
}

// dirLine is one direction's counters in words, for the summary.
func dirLine(d proxy.DirStatus) string {
	return fmt.Sprintf("%s (%d bytes), %d delivered", count(int(d.Frames), "frame"), d.Bytes, d.Delivered) + losses(d)
}

// count is "1 frame", "2 frames".
func count(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return fmt.Sprintf("%d %ss", n, word)
}
