package conform

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/wschaos/wschaos/profile"
)

// ProtocolVersion is the adapter protocol this package speaks
// (docs/adapter.md).
// Version 2 sends the whole resolved profile in connect.
const ProtocolVersion = 2

const (
	// readyPatience bounds the adapter's start, up to its ready line: a
	// runtime that compiles or loads modules first needs a few seconds.
	readyPatience = 10 * time.Second
	// replyPatience bounds one command's reply when the caller set no
	// deadline.
	replyPatience = 10 * time.Second
	// exitPatience is how long an adapter has to exit once its input is
	// closed, before it is killed.
	exitPatience = 2 * time.Second
	// stderrLimit bounds the adapter's standard error kept for reports.
	stderrLimit = 64 << 10
	// lineLimit bounds one line of adapter output, in whole MiB (its error
	// says it so): far above any message a scenario sends, low enough that
	// a runaway line cannot take the harness's memory.
	lineLimit = 4 << 20
)

// Adapter runs a client in another language through an adapter process
// that speaks the line-based JSON protocol of docs/adapter.md.
type Adapter struct {
	// Command is run with sh -c, once per scenario.
	Command string
	// Dir is its working directory; empty means the current one.
	Dir string
	// Env is added to the process's environment.
	Env []string
}

// ProtocolError is an adapter that could not be started or broke the
// protocol: a fault of the adapter, not of the client it wraps.
type ProtocolError struct{ Msg string }

func (e *ProtocolError) Error() string { return "adapter: " + e.Msg }

func protocolErr(format string, args ...any) error {
	return &ProtocolError{Msg: fmt.Sprintf(format, args...)}
}

// Factory starts a fresh adapter process for each scenario.
func (a *Adapter) Factory() Factory {
	return func(env Env) (Subject, error) { return a.start(env) }
}

// adapterRuns numbers the adapters this process starts, for their
// markers.
var adapterRuns atomic.Int64

// process is one running adapter.
type process struct {
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	env    Env
	stderr *capped
	name   string
	// commands are the optional commands the adapter's ready line offers
	// ("reconnect").
	commands []string
	// marker is in the environment of the adapter and so of everything it
	// starts, so the sweep finds what it left behind.
	marker string

	events     chan Event    // to the dispatcher, in order
	dispatched chan struct{} // closed when the dispatcher is done
	readDone   chan struct{} // closed when stdout is at its end
	exited     chan struct{} // closed when the process has been waited for
	waitErr    error
	released   atomic.Bool // the harness closed its input: from now on it may exit

	mu      sync.Mutex
	nextID  int
	pending map[int]chan reply
	broken  error // the first protocol error
	ready   chan readyLine
	writeMu sync.Mutex
}

type reply struct {
	OK    bool
	Error string
	// Unsupported: the adapter offers the command, but its client cannot
	// do it.
	Unsupported bool
	// Fired, in a reply to calibrate, is when each timer fired, in
	// milliseconds since the command came.
	Fired []float64
}

type readyLine struct {
	protocol int
	client   string
	commands []string
}

// line is any line an adapter may write.
type line struct {
	Event    *string         `json:"event"`
	Reply    *int            `json:"reply"`
	OK       bool            `json:"ok"`
	Error    string          `json:"error"`
	Protocol int             `json:"protocol"`
	Client   string          `json:"client"`
	State    string          `json:"state"`
	Type     string          `json:"type"`
	Payload  json.RawMessage `json:"payload"`
	Message  string          `json:"message"`
	// Commands, in the ready line, lists the optional commands the
	// adapter offers; Unsupported, in a reply, says its client cannot do
	// the one asked.
	Commands    []string `json:"commands"`
	Unsupported bool     `json:"unsupported"`
	// Fired is calibrate's reply: see reply.Fired.
	Fired []float64 `json:"fired"`
}

func (a *Adapter) start(env Env) (*process, error) {
	becomeSubreaper()
	marker := fmt.Sprintf("WSCHAOS_ADAPTER_RUN=%d.%d", os.Getpid(), adapterRuns.Add(1))
	cmd := exec.Command("sh", "-c", a.Command)
	cmd.Dir = a.Dir
	cmd.Env = append(append(os.Environ(), fmt.Sprintf("WSCHAOS_ADAPTER_PROTOCOL=%d", ProtocolVersion), marker), a.Env...)
	setProcessGroup(cmd)
	p := &process{
		cmd: cmd, env: env, stderr: &capped{limit: stderrLimit}, marker: marker,
		events: make(chan Event, 1024), dispatched: make(chan struct{}),
		readDone: make(chan struct{}), exited: make(chan struct{}),
		pending: map[int]chan reply{}, ready: make(chan readyLine, 1),
	}
	cmd.Stderr = p.stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, protocolErr("failed to start %q: %v", a.Command, err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, protocolErr("failed to start %q: %v", a.Command, err)
	}
	p.stdin = stdin
	if err := cmd.Start(); err != nil {
		return nil, protocolErr("failed to start %q: %v", a.Command, err)
	}
	go p.read(stdout)
	go p.dispatch()
	go func() {
		<-p.readDone // Wait closes stdout: read it all first
		p.waitErr = cmd.Wait()
		if !p.released.Load() {
			// It was not asked to end: the client, or its adapter, died.
			p.breakf("the adapter exited in the middle of the scenario (%s), before the harness ended it: the client or its adapter died%s",
				exitStatus(p.waitErr), p.stderr.tail())
		}
		close(p.exited)
	}()
	select {
	case r, ok := <-p.ready:
		if !ok {
			p.Release()
			return nil, p.brokenErr("the adapter ended before its ready line")
		}
		if r.protocol != ProtocolVersion {
			p.Release()
			return nil, protocolErr("%q speaks protocol %d; this wschaos speaks %d", a.Command, r.protocol, ProtocolVersion)
		}
		p.name, p.commands = r.client, r.commands
	case <-time.After(readyPatience):
		p.Release()
		return nil, protocolErr("%q wrote no ready line within %v%s", a.Command, readyPatience, p.stderr.tail())
	}
	return p, nil
}

// read parses the adapter's output line by line.
func (p *process) read(r io.Reader) {
	defer close(p.readDone)
	defer close(p.events)
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), lineLimit)
	n, sawReady, notReady := 0, false, false
	for sc.Scan() {
		n++
		raw := bytes.TrimSpace(sc.Bytes())
		if len(raw) == 0 || notReady {
			continue // after a bad start, only drained: the adapter must not block on its writes
		}
		var l line
		err := json.Unmarshal(raw, &l)
		if !sawReady {
			if what := notReadyLine(err, &l, raw); what != "" {
				// Named at once, rather than as a missing ready line when
				// readyPatience is up.
				p.breakf("output line %d comes before the ready event and is not it: %s: %s", n, what, truncate(raw))
				notReady = true
				close(p.ready)
				continue
			}
		}
		if err != nil {
			if err, ok := wrongType(err, &l); ok {
				p.breakf("output line %d: %v: %s", n, err, truncate(raw))
			} else {
				p.breakf("output line %d is not a JSON object (%v): %s", n, err, truncate(raw))
			}
			continue
		}
		if string(raw) == "null" { // decodes into a struct without an error
			p.breakf("output line %d is not a JSON object: %s", n, raw)
			continue
		}
		switch {
		case l.Reply != nil:
			p.answer(n, *l.Reply, reply{OK: l.OK, Error: l.Error, Unsupported: l.Unsupported, Fired: l.Fired})
		case l.Event == nil:
			p.breakf(`output line %d has neither "event" nor "reply": %s`, n, truncate(raw))
		case *l.Event == "ready":
			if sawReady {
				p.breakf("output line %d: a second ready event", n)
				continue
			}
			sawReady = true
			p.ready <- readyLine{protocol: l.Protocol, client: l.Client, commands: l.Commands}
		default:
			e, err := toEvent(l)
			if err != nil {
				p.breakf("output line %d: %v: %s", n, err, truncate(raw))
				continue
			}
			p.events <- e
		}
	}
	switch err := sc.Err(); {
	case errors.Is(err, bufio.ErrTooLong):
		p.breakf("output line %d is longer than %d MiB, the protocol's limit", n+1, lineLimit>>20)
	case err != nil:
		p.breakf("reading its output after line %d: %v", n, err)
	}
	if sc.Err() != nil {
		io.Copy(io.Discard, r) // drained, so the adapter does not block on its writes until it is ended
	}
	if !sawReady && !notReady {
		close(p.ready)
	}
	p.failPending("the adapter's output ended")
}

// notReadyLine says what a line that should be the ready event is
// instead, given how it decoded into *l; it is empty for a ready event.
func notReadyLine(err error, l *line, raw []byte) string {
	switch {
	case err != nil:
		if err, ok := wrongType(err, l); ok {
			return err.Error()
		}
		return fmt.Sprintf("not a JSON object (%v)", err)
	case string(raw) == "null":
		return "not a JSON object"
	case l.Reply != nil:
		return fmt.Sprintf("a reply to command %d", *l.Reply)
	case l.Event == nil:
		return `neither "event" nor "reply"`
	case *l.Event != "ready":
		return fmt.Sprintf("a %q event", *l.Event)
	}
	return ""
}

// toEvent checks an event line against the protocol.
func toEvent(l line) (Event, error) {
	e := Event{Kind: EventKind(*l.Event), State: l.State, Type: l.Type, Payload: l.Payload, Message: l.Message}
	switch e.Kind {
	case EventState:
		switch e.State {
		case StateConnecting, StateConnected, StateReconnecting, StateGaveUp, StateDisconnected, StateError:
		default:
			return e, fmt.Errorf("unknown state %q", e.State)
		}
	case EventMessage, EventResync, EventError, EventLog:
	default:
		return e, fmt.Errorf("unknown event %q", e.Kind)
	}
	return e, nil
}

// dispatch reports events on a goroutine of its own, so a reaction to an
// event (a send from an open handler) can wait for its reply.
func (p *process) dispatch() {
	defer close(p.dispatched)
	for e := range p.events {
		p.env.Emit(e)
	}
}

func (p *process) answer(n, id int, r reply) {
	p.mu.Lock()
	ch, ok := p.pending[id]
	delete(p.pending, id)
	p.mu.Unlock()
	if !ok {
		p.breakf("output line %d: a reply to command %d, which is not waiting for one", n, id)
		return
	}
	ch <- r
}

// breakf records a protocol error; it is fatal: every command waiting for
// a reply, and every later one, fails with it.
func (p *process) breakf(format string, args ...any) {
	p.mu.Lock()
	if p.broken == nil {
		p.broken = protocolErr(format, args...)
	}
	p.mu.Unlock()
	p.failPending(p.broken.Error())
}

// brokenErr is the protocol error, or one saying why.
func (p *process) brokenErr(why string) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.broken != nil {
		return p.broken
	}
	return protocolErr("%s%s", why, p.stderr.tail())
}

// Broken is the first way the adapter broke the protocol, or nil.
func (p *process) Broken() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.broken
}

func (p *process) failPending(why string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for id, ch := range p.pending {
		ch <- reply{Error: why}
		delete(p.pending, id)
	}
}

// request sends a command and waits for its reply.
func (p *process) request(ctx context.Context, cmd map[string]any) error {
	_, err := p.requestReply(ctx, cmd)
	return err
}

// requestReply is request, with the reply for a command that carries
// more than its verdict.
func (p *process) requestReply(ctx context.Context, cmd map[string]any) (reply, error) {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, replyPatience)
		defer cancel()
	}
	ch := make(chan reply, 1)
	p.mu.Lock()
	if p.broken != nil {
		p.mu.Unlock()
		return reply{}, p.broken
	}
	p.nextID++
	id := p.nextID
	p.pending[id] = ch
	p.mu.Unlock()
	cmd["id"] = id
	data, err := json.Marshal(cmd)
	if err != nil {
		return reply{}, fmt.Errorf("failed to encode %s: %w", cmd["cmd"], err)
	}
	p.writeMu.Lock()
	_, err = p.stdin.Write(append(data, '\n'))
	p.writeMu.Unlock()
	if err != nil {
		return reply{}, p.brokenErr(fmt.Sprintf("failed to write %s: %v", cmd["cmd"], err))
	}
	select {
	case r := <-ch:
		if !r.OK {
			if r.Error == "" {
				r.Error = "refused without a reason"
			}
			if r.Unsupported {
				return r, fmt.Errorf("%w: %s", ErrNotSupported, r.Error)
			}
			return r, errors.New(r.Error)
		}
		return r, nil
	case <-ctx.Done():
		// The command stays pending: its reply is still due, and may come
		// late (a send waiting for a connected state that never came is
		// refused once the client is closed). ch has room for it.
		return reply{}, fmt.Errorf("no reply to %s: %w", cmd["cmd"], ctx.Err())
	}
}

func (p *process) Name() string { return p.name }

func (p *process) Connect(ctx context.Context, url string) error {
	prof, err := profile.JSON(p.env.Profile)
	if err != nil {
		return fmt.Errorf("cannot send the profile to the adapter: %w", err)
	}
	return p.request(ctx, map[string]any{"cmd": "connect", "url": url, "scale": p.env.Scale, "profile": json.RawMessage(prof)})
}

func (p *process) Send(ctx context.Context, typ string, payload json.RawMessage) error {
	if len(payload) == 0 {
		payload = json.RawMessage("null")
	}
	return p.request(ctx, map[string]any{"cmd": "send", "type": typ, "payload": payload})
}

// SendWhen asks the adapter to send from its client's handler of state;
// the reply comes once it has.
func (p *process) SendWhen(ctx context.Context, state, typ string, payload json.RawMessage) error {
	return p.request(ctx, map[string]any{"cmd": "send", "type": typ, "payload": payload, "when": state})
}

// Reconnect asks the adapter's client to drop its connection and open a
// new one at once: an optional command, offered in the ready line.
func (p *process) Reconnect(ctx context.Context) error {
	if !slices.Contains(p.commands, "reconnect") {
		return fmt.Errorf("%w: the adapter's ready line does not offer \"reconnect\"", ErrNotSupported)
	}
	return p.request(ctx, map[string]any{"cmd": "reconnect"})
}

func (p *process) Close(ctx context.Context) error {
	return p.request(ctx, map[string]any{"cmd": "close"})
}

// Release ends the process: its input closes, it has exitPatience to exit,
// then it is killed. Whatever it started is killed too, whether it still
// runs or not, so nothing of one scenario lives on into the next or past
// conform. Every event it wrote has been reported on return.
func (p *process) Release() {
	p.released.Store(true)
	p.stdin.Close()
	select {
	case <-p.exited:
	case <-time.After(exitPatience):
		// The sweep too: a descendant out of the group that holds its
		// stdout would keep it open, and exited from closing.
		killProcessGroup(p.cmd)
		sweep(p.marker)
		<-p.exited
	}
	sweep(p.marker)
	killProcessGroup(p.cmd) // any that cleared its environment but stayed in the group
	<-p.dispatched
}

// exitStatus says how a process ended, from its Wait error.
func exitStatus(err error) string {
	if err == nil {
		return "exit status 0"
	}
	return err.Error()
}

// Stderr is what the adapter wrote on its standard error (the end of it,
// when long).
func (p *process) Stderr() string { return p.stderr.String() }

// capped keeps the last limit bytes written to it.
type capped struct {
	mu    sync.Mutex
	limit int
	buf   []byte
	cut   bool
}

func (c *capped) Write(b []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.buf = append(c.buf, b...)
	if over := len(c.buf) - c.limit; over > 0 {
		c.buf = append(c.buf[:0], c.buf[over:]...)
		c.cut = true
	}
	return len(b), nil
}

func (c *capped) String() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.cut {
		return "…" + string(c.buf)
	}
	return string(c.buf)
}

// tail is the end of standard error, for an error message.
func (c *capped) tail() string {
	s := c.String()
	if s == "" {
		return ""
	}
	const max = 600
	if len(s) > max {
		s = "…" + s[len(s)-max:]
	}
	return "; its standard error:\n" + s
}

func truncate(b []byte) string {
	const max = 200
	if len(b) > max {
		return string(b[:max]) + "…"
	}
	return string(b)
}

// wrongType says which field has the wrong type, and the type it must
// have, when err is from decoding a JSON object into the struct *into and
// is about one field; ok is false for anything else (not JSON, not an
// object).
func wrongType(err error, into any) (_ error, ok bool) {
	var te *json.UnmarshalTypeError
	if !errors.As(err, &te) || te.Field == "" {
		return err, false
	}
	want := te.Type // of the value inside, for a map or a pointer
	t := reflect.TypeOf(into).Elem()
	for i := range t.NumField() {
		if tag, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ","); tag == te.Field {
			want = t.Field(i).Type
		}
	}
	return fieldTypeErr(te.Field, want, te), true
}

// fieldTypeErr says that field, which must hold a want, holds what te
// found.
func fieldTypeErr(field string, want reflect.Type, te *json.UnmarshalTypeError) error {
	for want.Kind() == reflect.Pointer {
		want = want.Elem()
	}
	if lit, ok := strings.CutPrefix(te.Value, "number "); ok { // a number that does not fit
		f, err := strconv.ParseFloat(lit, 64)
		isWhole := (err == nil || errors.Is(err, strconv.ErrRange)) && f == math.Trunc(f)
		if isInt(te.Type) && !isWhole {
			return fmt.Errorf("%q must be a whole number, not %s", field, lit)
		}
		return fmt.Errorf("%q: %s is out of range", field, lit)
	}
	got := te.Value
	switch got {
	case "array", "object":
		got = "an " + got
	case "bool":
		got = "true or false"
	default:
		got = "a " + got
	}
	if want.Kind() == reflect.Map && want.Elem() == te.Type {
		return fmt.Errorf("%q must hold %s, not %s", field, plural(te.Type), got)
	}
	return fmt.Errorf("%q must be %s, not %s", field, describe(want), got)
}

func isInt(t reflect.Type) bool {
	switch t.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return true
	}
	return false
}

// describe names a Go type as the JSON it decodes from.
func describe(t reflect.Type) string {
	switch {
	case isInt(t):
		return "a whole number"
	case t.Kind() == reflect.Float32 || t.Kind() == reflect.Float64:
		return "a number"
	case t.Kind() == reflect.String:
		return "a string"
	case t.Kind() == reflect.Bool:
		return "true or false"
	case t.Kind() == reflect.Map && t.Elem().Kind() != reflect.Interface:
		return "an object of " + plural(t.Elem())
	case t.Kind() == reflect.Map || t.Kind() == reflect.Struct:
		return "an object"
	case t.Kind() == reflect.Slice || t.Kind() == reflect.Array:
		return "an array"
	}
	return t.String()
}

// plural names many values of a Go type as the JSON they decode from.
func plural(t reflect.Type) string {
	switch d := describe(t); d {
	case "a whole number", "a number", "a string":
		return strings.TrimPrefix(d, "a ") + "s"
	default:
		return "values that are each " + d
	}
}
