package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/wschaos/wschaos/chaos"
	"github.com/wschaos/wschaos/internal/filecodec"
	"github.com/wschaos/wschaos/proxy"
	"github.com/wschaos/wschaos/proxy/control"
)

// ctlUsage heads `wschaos ctl -h`.
const ctlUsage = `usage: wschaos ctl [flags] <command> [args]

Changes a running proxy through its control API (wschaos proxy --control ADDR):

  status                          its connections, with their counters
  faults                          the installed faults, in the order they apply
  faults add WORDS [SELECTORS]    install a fault, in the scenario files' words:
                                    wschaos ctl faults add swallow-pongs
                                    wschaos ctl faults add "delay 200ms dir=client"
                                    wschaos ctl faults add "close-after 10s" "reason=going away"
  faults rm ID                    remove fault ID (the number 'faults' shows)
  faults clear                    remove every fault
  cut rst|fin|black-hole|code N [REASON]
                                  end every connection open now, once; the
                                  next ones are relayed as usual; code N sends
                                  a close frame, e.g. cut code 1012 restarting
  disable                         cut every connection with rst, refuse new ones
  enable                          accept clients again
  proxies                         list the process's proxies
  proxies add NAME --upstream URL [--listen ADDR] [--profile P]
  proxies rm NAME                 stop a proxy, cutting its connections

Flags may come before or after the command. --proxy NAME aims status, faults,
cut, enable and disable at a named proxy; without it they go to the one the
proxy's command line started. --json prints the API's own JSON answer instead
of a table. An argument that is key=value keeps its spaces, so a selector or
option with spaces is given as its own argument.

Exit codes: 0 done, 1 the proxy refused the request or did not answer (the
message says which), 2 bad command line.

flags:
`

const (
	// controlAddrEnv names the environment variable --control defaults
	// to, so a shell that talks to one proxy all day sets it once (the
	// token's is controlTokenEnv, the proxy's own).
	controlAddrEnv = "WSCHAOS_CONTROL"
	// defaultControl is the control address the proxy's docs use.
	defaultControl = "127.0.0.1:8082"
	// ctlTimeout bounds one request: the API answers at once, so a proxy
	// that does not is stuck or not a proxy.
	ctlTimeout = 10 * time.Second
)

// ctlOptions are ctl's flags.
type ctlOptions struct {
	control, token, proxy string
	json                  bool
	// upstream, listen and profile are proxies add's.
	upstream, listen, profile string
	// controlFrom says where control came from, for messages.
	controlFrom string
}

// ctlCommand runs one ctl command with its positional args (after its
// name) through x's clients, and prints its outcome on x.out.
type ctlCommand func(ctx context.Context, x *ctlRun, args []string) error

// ctlRun is one ctl invocation: its options, client and output.
type ctlRun struct {
	opts ctlOptions
	c    *control.Client // scoped to --proxy
	root *control.Client // the process's endpoints (/proxies)
	out  io.Writer
	// target is the named proxy the command is about ("" for the
	// default), for a did-you-mean when there is none of that name.
	target string
	// answer is the last answer's body, for what the typed value may not
	// hold (a newer proxy's fields).
	answer []byte
}

var ctlCommands = map[string]ctlCommand{
	"status":  ctlStatus,
	"faults":  ctlFaults,
	"cut":     ctlCut,
	"enable":  ctlEnable,
	"disable": ctlDisable,
	"proxies": ctlProxies,
}

// runCtl is `wschaos ctl`.
func runCtl(args []string, stdout, stderr io.Writer) error {
	opts, pos, err := parseCtlFlags(args, stdout)
	if err != nil {
		return err
	}
	if len(pos) == 0 {
		return usageErr(fmt.Errorf("ctl: name a command (%s); run 'wschaos ctl -h' for them", strings.Join(slices.Sorted(maps.Keys(ctlCommands)), ", ")))
	}
	cmd, ok := ctlCommands[pos[0]]
	if !ok {
		return usageErr(fmt.Errorf("ctl: unknown command %q%s; run 'wschaos ctl -h' for the commands", pos[0], filecodec.DidYouMean(pos[0], slices.Sorted(maps.Keys(ctlCommands)))))
	}
	if (opts.upstream != "" || opts.listen != "" || opts.profile != "") && !(pos[0] == "proxies" && len(pos) > 1 && pos[1] == "add") {
		return usageErr(errors.New("ctl: --upstream, --listen and --profile are for 'proxies add NAME'"))
	}
	base, err := controlBase(opts.control)
	if err != nil {
		return usageErr(fmt.Errorf("ctl: --control %s: %v", opts.control, err))
	}
	tr := &http.Transport{}
	defer tr.CloseIdleConnections()
	root := control.New(base, &http.Client{Transport: tr, Timeout: ctlTimeout})
	root.Token = opts.token
	x := &ctlRun{opts: opts, root: root, out: stdout}
	root.Answer = func(b []byte) { x.answer = b }
	if opts.json {
		x.out = io.Discard
		root.Answer = func(b []byte) {
			x.answer = b
			stdout.Write(b)
			if len(b) > 0 && b[len(b)-1] != '\n' {
				io.WriteString(stdout, "\n")
			}
		}
	}
	x.c = root.Proxy(opts.proxy)
	if opts.proxy != proxy.DefaultName {
		x.target = opts.proxy
	}
	ctx, cancel := context.WithTimeout(context.Background(), ctlTimeout)
	defer cancel()
	if err := cmd(ctx, x, pos[1:]); err != nil {
		return x.failure(strings.Join(pos[:min(2, len(pos))], " "), base, err)
	}
	return nil
}

// parseCtlFlags parses ctl's flags wherever they stand among its
// positional arguments, which it returns; everything after "--" is
// positional.
func parseCtlFlags(args []string, help io.Writer) (ctlOptions, []string, error) {
	var o ctlOptions
	fs := flag.NewFlagSet("ctl", flag.ContinueOnError)
	fs.Usage = func() { fmt.Fprint(fs.Output(), ctlUsage); fs.PrintDefaults() }
	fs.StringVar(&o.control, "control", "", "the proxy's control address, host:port or http://host:port (default $"+controlAddrEnv+", else "+defaultControl+")")
	// The token's default is read after parsing: -h must not print it.
	fs.StringVar(&o.token, "token", "", "bearer token the proxy's --control-token asks for (default $"+controlTokenEnv+")")
	fs.StringVar(&o.proxy, "proxy", "", "the named proxy to act on (default: the one the proxy's command line started)")
	fs.BoolVar(&o.json, "json", false, "print the API's JSON answer instead of a table")
	fs.StringVar(&o.upstream, "upstream", "", "proxies add: the real server's ws:// or wss:// URL")
	fs.StringVar(&o.listen, "listen", "", "proxies add: address to accept clients on (default 127.0.0.1:0, a free port)")
	fs.StringVar(&o.profile, "profile", "", "proxies add: "+profileFlag("protocol profile to decode frames with"))
	var tail []string
	if i := slices.Index(args, "--"); i >= 0 {
		args, tail = args[:i], args[i+1:]
	}
	var pos []string
	for {
		if err := parseFlags(fs, args, help); err != nil {
			return o, nil, usageErr(err)
		}
		args = fs.Args()
		if len(args) == 0 {
			break
		}
		pos, args = append(pos, args[0]), args[1:]
	}
	pos = append(pos, tail...)
	o.controlFrom = "--control"
	if o.control == "" {
		o.control, o.controlFrom = os.Getenv(controlAddrEnv), "$"+controlAddrEnv
	}
	if o.control == "" {
		o.control, o.controlFrom = defaultControl, "the default"
	}
	if o.token == "" {
		o.token = os.Getenv(controlTokenEnv)
	}
	return o, pos, nil
}

// controlBase reads a control address, host:port or http://host:port, as
// the API's base URL. A bare ":port" is this machine's loopback, which
// the API answers by that name.
func controlBase(addr string) (string, error) {
	const want = "want host:port or http://host:port, e.g. --control " + defaultControl
	s := addr
	if !strings.Contains(s, "://") {
		s = "http://" + s
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.User != nil {
		return "", errors.New(want)
	}
	host, port, err := net.SplitHostPort(u.Host)
	if err != nil || port == "" {
		return "", errors.New(want)
	}
	if _, err := strconv.ParseUint(port, 10, 16); err != nil {
		return "", errors.New(want)
	}
	if host == "" {
		host = "127.0.0.1"
	}
	return u.Scheme + "://" + net.JoinHostPort(host, port), nil
}

// failure words a failed request for the user: the API's own message for
// a refusal, and what to do when nothing answers. Both exit 1: the
// command line may be right and the proxy elsewhere.
func (x *ctlRun) failure(cmd, base string, err error) error {
	var ue *exitError
	if errors.As(err, &ue) {
		return err // a bad command line, already worded
	}
	var ae *control.Error
	if errors.As(err, &ae) && ae.NotAPI {
		return &exitError{code: exitFailed, err: fmt.Errorf("ctl %s: what answers at %s (from %s) is not a proxy's control API: HTTP %d: %s; give the address of the proxy's --control, not its --listen", cmd, base, x.opts.controlFrom, ae.Status, ae.Msg)}
	}
	if errors.As(err, &ae) {
		msg := ae.Msg
		if ae.Field != "" && !strings.HasPrefix(msg, ae.Field+":") && !strings.HasPrefix(msg, ae.Field+" ") {
			msg = ae.Field + ": " + msg
		}
		switch {
		case ae.Status == http.StatusUnauthorized:
			msg += "; ctl sends --token, which defaults to $" + controlTokenEnv
		case ae.Status == http.StatusNotFound && predatesCtl(ae.Msg):
			msg += "; is the proxy from an older wschaos than this ctl?"
		case ae.Status == http.StatusNotFound && x.target != "":
			msg += x.proxyHint(x.target, msg)
		case ae.Status == http.StatusNotFound && strings.Contains(ae.Msg, "and there is none"):
			// The API's words are its paths; ctl's user names a proxy
			// with a flag.
			msg = fmt.Sprintf("no proxy is named %q (the one --upstream starts): name one with --proxy NAME%s", proxy.DefaultName, x.proxyHint("", ""))
		}
		return &exitError{code: exitFailed, err: fmt.Errorf("ctl %s: the proxy refused (HTTP %d): %s", cmd, ae.Status, msg)}
	}
	addr := strings.TrimPrefix(strings.TrimPrefix(base, "http://"), "https://")
	start := fmt.Sprintf("start one with its control API there, e.g. wschaos proxy --upstream ws://127.0.0.1:8080/ws --control %s", addr)
	var op *net.OpError
	switch {
	case errors.As(err, &op) && op.Op == "dial":
		why := op.Err.Error()
		if se, ok := op.Err.(*os.SyscallError); ok {
			why = se.Err.Error()
		}
		return &exitError{code: exitFailed, err: fmt.Errorf("ctl %s: no proxy answers at %s (%s, from %s): %s; %s", cmd, base, "the control address", x.opts.controlFrom, why, start)}
	case errors.Is(err, context.DeadlineExceeded) || isTimeout(err):
		return &exitError{code: exitFailed, err: fmt.Errorf("ctl %s: no answer from %s within %v (the control address, from %s): is it a wschaos proxy's --control?", cmd, base, ctlTimeout, x.opts.controlFrom)}
	}
	var urlErr *url.Error
	if errors.As(err, &urlErr) {
		return &exitError{code: exitFailed, err: fmt.Errorf("ctl %s: cannot reach the control API at %s (from %s): %v; %s", cmd, base, x.opts.controlFrom, urlErr.Err, start)}
	}
	return &exitError{code: exitFailed, err: fmt.Errorf("ctl %s: %w", cmd, err)}
}

// proxyHint is a did-you-mean for a proxy name the API did not find, or
// the names it has unless msg, the API's message, lists them, or "" when
// it cannot say.
func (x *ctlRun) proxyHint(name, msg string) string {
	r := x.root.Proxy("")
	r.Answer = nil // not an answer the user asked for
	ctx, cancel := context.WithTimeout(context.Background(), ctlTimeout)
	defer cancel()
	list, err := r.Proxies(ctx)
	if err != nil {
		return ""
	}
	names := make([]string, len(list))
	for i, p := range list {
		names[i] = p.Name
	}
	switch {
	case slices.Contains(names, name):
		return ""
	case filecodec.DidYouMean(name, names) != "":
		return filecodec.DidYouMean(name, names)
	case !slices.ContainsFunc(names, func(n string) bool { return !strings.Contains(msg, n) }):
		return "" // the message names them all
	}
	return fmt.Sprintf("; the proxies are %s ('wschaos ctl proxies')", strings.Join(names, ", "))
}

// predatesCtl reports whether an API's "no endpoint" answer comes from a
// proxy older than ctl's endpoints: the endpoints it knows (all of its
// message without a list) do not include the named proxies.
func predatesCtl(msg string) bool {
	if !strings.HasPrefix(msg, "no endpoint") {
		return false
	}
	if _, known, ok := strings.Cut(msg, "known:"); ok {
		msg = known
	}
	return !strings.Contains(msg, "/proxies")
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// ctlArgs checks a command got exactly the arguments it takes.
func ctlArgs(cmd string, args []string, n int, want string) error {
	if len(args) != n {
		return usageErr(fmt.Errorf("ctl %s: want %s, got %q", cmd, want, args))
	}
	return nil
}

func ctlStatus(ctx context.Context, x *ctlRun, args []string) error {
	if err := ctlArgs("status", args, 0, "no arguments"); err != nil {
		return err
	}
	st, err := x.c.Status(ctx)
	if err != nil {
		return err
	}
	// Whether the proxy is enabled is read from the answer itself: proxies
	// before enable and disable do not say, and are.
	var on struct {
		Enabled *bool `json:"enabled"`
	}
	json.Unmarshal(x.answer, &on)
	showStatus(x.out, x.proxyName(), on.Enabled == nil || *on.Enabled, st)
	return nil
}

// proxyName is the proxy --proxy names, for messages.
func (x *ctlRun) proxyName() string {
	if x.opts.proxy == "" {
		return proxy.DefaultName
	}
	return x.opts.proxy
}

func ctlFaults(ctx context.Context, x *ctlRun, args []string) error {
	if len(args) == 0 {
		list, err := x.c.List(ctx)
		if err != nil {
			return err
		}
		showFaults(x.out, x.proxyName(), list)
		return nil
	}
	switch args[0] {
	case "add":
		spec, err := faultFromWords(args[1:])
		if err != nil {
			return err
		}
		f, err := x.c.Add(ctx, spec)
		if err != nil {
			return err
		}
		fmt.Fprintf(x.out, "added fault %d to proxy %s: %s\n", f.ID, x.proxyName(), f.Fault)
	case "rm":
		if err := ctlArgs("faults rm", args[1:], 1, "a fault id, e.g. faults rm 2"); err != nil {
			return err
		}
		id, err := strconv.Atoi(args[1])
		if err != nil || id < 1 {
			return usageErr(fmt.Errorf("ctl faults rm %s: want a fault id, a number that 'wschaos ctl faults' shows", args[1]))
		}
		if err := x.c.Remove(ctx, id); err != nil {
			return err
		}
		fmt.Fprintf(x.out, "removed fault %d from proxy %s\n", id, x.proxyName())
	case "clear":
		if err := ctlArgs("faults clear", args[1:], 0, "no arguments"); err != nil {
			return err
		}
		if err := x.c.Reset(ctx); err != nil {
			return err
		}
		fmt.Fprintf(x.out, "removed every fault from proxy %s\n", x.proxyName())
	default:
		return usageErr(fmt.Errorf("ctl faults: unknown command %q%s (known: add, rm, clear; none lists them)", args[0], filecodec.DidYouMean(args[0], []string{"add", "rm", "clear"})))
	}
	return nil
}

// faultFromWords reads a fault written as in the scenario files, "delay
// 200ms dir=client", as the spec the API takes, and builds it with the
// proxy's own vocabulary first, so a misspelt word is caught here, with
// a did-you-mean. Each argument is split at spaces, except one that is
// key=value, which keeps its spaces ("reason=going away").
func faultFromWords(args []string) (proxy.FaultSpec, error) {
	var words []string
	for _, a := range args {
		if k, _, ok := strings.Cut(a, "="); ok && !strings.ContainsAny(k, " \t") {
			words = append(words, a)
			continue
		}
		words = append(words, strings.Fields(a)...)
	}
	line := strings.Join(args, " ")
	if len(words) == 0 {
		return proxy.FaultSpec{}, usageErr(fmt.Errorf("ctl faults add: name a fault, e.g. faults add swallow-pongs (known: %s)", strings.Join(proxy.FaultNames(), ", ")))
	}
	name, fargs, sel := chaos.SplitWords(words)
	spec := proxy.FaultSpec{Fault: name, Args: fargs}
	if len(sel) > 0 {
		spec.Select = sel
	}
	if _, err := spec.Build(); err != nil {
		var se *proxy.SpecError
		if errors.As(err, &se) && se.Field == "fault" {
			hint := ""
			if !slices.Contains(proxy.FaultNames(), name) {
				hint = filecodec.DidYouMean(name, proxy.FaultNames())
			}
			return spec, usageErr(fmt.Errorf("ctl faults add %q%s: %s", line, hint, se.Msg))
		}
		return spec, usageErr(fmt.Errorf("ctl faults add %q: fault %s: %w", line, name, err))
	}
	return spec, nil
}

// cutKinds are the words of CutSpec.Kind.
var cutKinds = []string{"rst", "fin", "black-hole", "code"}

func ctlCut(ctx context.Context, x *ctlRun, args []string) error {
	spec, err := cutFromWords(args)
	if err != nil {
		return err
	}
	res, err := x.c.Cut(ctx, spec)
	if err != nil {
		return err
	}
	how := spec.Kind
	if spec.Kind == "code" {
		how = fmt.Sprintf("a close frame %d", spec.Code)
		if spec.Reason != "" {
			how += fmt.Sprintf(" %q", spec.Reason)
		}
	}
	fmt.Fprintf(x.out, "cut %s of proxy %s with %s\n", count(res.Cut, "connection"), x.proxyName(), how)
	return nil
}

// cutFromWords reads `cut rst`, `cut code 4000` or `cut code=4000`, and a
// close frame's reason after its code: `cut code 4000 going away`.
func cutFromWords(args []string) (proxy.CutSpec, error) {
	const want = "want rst, fin, black-hole or code N, e.g. cut rst or cut code 4000"
	if v, ok := strings.CutPrefix(strings.Join(args, " "), "code="); ok && len(args) == 1 {
		args = []string{"code", v}
	}
	if len(args) == 0 {
		return proxy.CutSpec{}, usageErr(fmt.Errorf("ctl cut: %s", want))
	}
	kind := args[0]
	if !slices.Contains(cutKinds, kind) {
		return proxy.CutSpec{}, usageErr(fmt.Errorf("ctl cut %s%s: %s", kind, filecodec.DidYouMean(kind, cutKinds), want))
	}
	if kind != "code" {
		if len(args) != 1 {
			return proxy.CutSpec{}, usageErr(fmt.Errorf("ctl cut %s: takes no more words, got %q", kind, args[1:]))
		}
		return proxy.CutSpec{Kind: kind}, nil
	}
	if len(args) < 2 {
		return proxy.CutSpec{}, usageErr(fmt.Errorf("ctl cut code: want one close code, e.g. cut code 4000, and a reason if any, e.g. cut code 4000 going away"))
	}
	code, err := strconv.Atoi(args[1])
	if err != nil || !chaos.ValidCloseCode(code) {
		return proxy.CutSpec{}, usageErr(fmt.Errorf("ctl cut code %s: want a close code a client may receive, 1000-1003, 1007-1013 or 3000-4999", args[1]))
	}
	reason, _ := strings.CutPrefix(strings.Join(args[2:], " "), "reason=")
	if len(reason) > proxy.MaxCloseReason {
		return proxy.CutSpec{}, usageErr(fmt.Errorf("ctl cut code %d: the reason is %d bytes; a close frame carries at most %d", code, len(reason), proxy.MaxCloseReason))
	}
	return proxy.CutSpec{Kind: "code", Code: code, Reason: reason}, nil
}

func ctlEnable(ctx context.Context, x *ctlRun, args []string) error {
	if err := ctlArgs("enable", args, 0, "no arguments"); err != nil {
		return err
	}
	if err := x.c.Enable(ctx); err != nil {
		return err
	}
	fmt.Fprintf(x.out, "proxy %s enabled: it accepts clients\n", x.proxyName())
	return nil
}

func ctlDisable(ctx context.Context, x *ctlRun, args []string) error {
	if err := ctlArgs("disable", args, 0, "no arguments"); err != nil {
		return err
	}
	if err := x.c.Disable(ctx); err != nil {
		return err
	}
	fmt.Fprintf(x.out, "proxy %s disabled: its connections were cut with rst, and new ones are refused until 'wschaos ctl enable'\n", x.proxyName())
	return nil
}

func ctlProxies(ctx context.Context, x *ctlRun, args []string) error {
	if len(args) == 0 {
		list, err := x.root.Proxies(ctx)
		if err != nil {
			return err
		}
		showProxies(x.out, list)
		return nil
	}
	switch args[0] {
	case "add":
		if err := ctlArgs("proxies add", args[1:], 1, "a name, e.g. proxies add web --upstream ws://127.0.0.1:8080/ws"); err != nil {
			return err
		}
		cfg, err := proxyConfig(args[1], x.opts)
		if err != nil {
			return err
		}
		info, err := x.root.CreateProxy(ctx, cfg)
		if err != nil {
			return err
		}
		fmt.Fprintf(x.out, "proxy %s: clients connect to %s, relayed to %s\n", info.Name, info.Listen, info.Upstream)
	case "rm":
		if err := ctlArgs("proxies rm", args[1:], 1, "a name, e.g. proxies rm web"); err != nil {
			return err
		}
		x.target = args[1]
		if err := x.root.DeleteProxy(ctx, args[1]); err != nil {
			return err
		}
		fmt.Fprintf(x.out, "proxy %s stopped, its connections cut\n", args[1])
	default:
		return usageErr(fmt.Errorf("ctl proxies: unknown command %q%s (known: add, rm; none lists them)", args[0], filecodec.DidYouMean(args[0], []string{"add", "rm"})))
	}
	return nil
}

// proxyConfig is the body of `proxies add NAME`. An --upstream without a
// scheme is taken as ws://, as the proxy's own flag is; a --profile that
// is a file here is sent as its absolute path, which the proxy, started
// elsewhere, can still open.
func proxyConfig(name string, o ctlOptions) (proxy.ProxyConfig, error) {
	if o.upstream == "" {
		return proxy.ProxyConfig{}, usageErr(fmt.Errorf("ctl proxies add %s: --upstream is required, e.g. --upstream ws://127.0.0.1:8080/ws", name))
	}
	if o.listen != "" {
		if err := checkAddr("ctl proxies add", "listen", o.listen); err != nil {
			return proxy.ProxyConfig{}, err
		}
	}
	cfg := proxy.ProxyConfig{Name: name, Listen: o.listen, Profile: o.profile}
	cfg.Upstream, _ = withScheme(o.upstream)
	if o.profile == "" {
		return cfg, nil
	}
	if fi, err := os.Stat(o.profile); err == nil && !fi.IsDir() {
		if abs, err := filepath.Abs(o.profile); err == nil {
			cfg.Profile = abs
		}
	} else if !strings.ContainsAny(o.profile, `/\.`) {
		// A shipped name: checked here for its did-you-mean.
		if _, err := loadProfile(o.profile); err != nil {
			return cfg, usageErr(fmt.Errorf("ctl proxies add %s: --profile: %w", name, err))
		}
	}
	return cfg, nil
}
