// Package client is the reference reconnecting WebSocket client: the
// behaviour every profile demands, done right, so the harness has a client
// that passes every scenario and a model to compare others against.
//
// Everything it does is read from its profile.Profile: the connect timeout,
// subprotocol and handshake, the heartbeat's mode and dead rule, the close
// codes and where they are reported, the fatal codes, when the failure
// count resets, and what a full queue does.
//
// One goroutine owns the connection's life (dial, heartbeat, backoff); every
// timer it arms comes from the injected clockwork.Clock and every random draw
// from the injected *rand.Rand, so a run on a fake clock with a seeded source
// replays exactly. While running, the client has at most one pending timer:
// the connect timeout while dialing and awaiting the handshake reply, the
// heartbeat's next deadline while connected, the backoff while waiting to
// retry (none where the profile has no such timer). A state notification is
// posted only after the timer of the new state is armed, and a ping or pong
// is written only after the timer that follows it is, so a spec that has
// seen either may step the clock.
package client

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/gorilla/websocket"
	"github.com/jonboulle/clockwork"

	"github.com/wschaos/wschaos/backoff"
	"github.com/wschaos/wschaos/internal/flaw"
	"github.com/wschaos/wschaos/profile"
)

// writeWait is the real-time bound on one socket write: a safety net
// against a peer that stops reading, never a protocol timer.
const writeWait = 10 * time.Second

// Errors returned by Send and Start.
var (
	ErrClosed       = errors.New("client is closed")
	ErrStarted      = errors.New("client is already started")
	ErrNotConnected = errors.New("not connected, and the profile does not queue")
	ErrQueueFull    = errors.New("offline queue is full")
)

// Options configure a Client. The zero value (or nil) means the defaults.
type Options struct {
	// Profile is the protocol contract to follow; nil means profile "queue".
	Profile *profile.Profile
	// Clock drives every timer; nil means the real clock.
	Clock clockwork.Clock
	// Rand is the source of backoff jitter; nil means a randomly seeded one.
	// Pass a seeded source to make a run replayable.
	Rand *rand.Rand
	// Dialer opens sockets; nil means a zero websocket.Dialer. Its
	// HandshakeTimeout is ignored: the connect timeout, on Clock, bounds
	// dials. Its Subprotocols are replaced by the profile's
	// Connect.Subprotocol when the profile names one.
	Dialer *websocket.Dialer
	// Header is sent with every handshake.
	Header http.Header
	// ConnectTimeout, when positive, bounds one dial and handshake on Clock
	// instead of the profile's Connect.Timeout. With neither, a dial waits
	// until it ends or Close: the profile says its client has no timeout.
	ConnectTimeout time.Duration
	// MaxAttempts, when positive, makes the client give up after that many
	// consecutive failures even if the profile's backoff never does.
	MaxAttempts int
	// Logger receives structured logs; nil means silent.
	Logger *slog.Logger
	// Flaws makes the client commit named bugs, for wschaos's own tests:
	// they prove each spec fails on a client with the bug it names. Its
	// type is internal, so it cannot be set outside this module.
	Flaws flaw.Set
}

// Client is a reconnecting WebSocket client for one server URL.
type Client struct {
	url     string
	p       *profile.Profile
	clock   clockwork.Clock
	rng     *rand.Rand
	dialer  websocket.Dialer
	header  http.Header
	timeout time.Duration // the connect timeout; 0 for none
	policy  backoff.Policy
	log     *slog.Logger
	flaws   flaw.Set

	// reconnect asks the loop to drop the socket or the wait and dial now.
	reconnect chan struct{}
	cancel    context.CancelFunc
	loopDone  chan struct{}
	events    *dispatcher

	mu      sync.Mutex
	started bool
	closed  bool
	state   State
	conn    *websocket.Conn // the open socket, nil while not connected
	reqSeq  int64           // next request id on conn (mattermost "seq")
	queue   []profile.Message
	dropped int // sends a full drop-newest or drop-oldest queue dropped

	// Resume state, owned by the loop but read by accessors under mu.
	connID      string
	expectedSeq int64

	// Left behind by flaws: a heartbeat carried into the next connection,
	// a socket left open across a reconnect.
	staleHB *heartbeat
	stale   []*staleSocket
}

// New returns a client for url; it does nothing until Start.
func New(url string, opts *Options) *Client {
	var o Options
	if opts != nil {
		o = *opts
	}
	if o.Profile == nil {
		o.Profile = profile.QueueProfile()
	}
	if o.Clock == nil {
		o.Clock = clockwork.NewRealClock()
	}
	if o.Rand == nil {
		o.Rand = rand.New(rand.NewPCG(rand.Uint64(), rand.Uint64()))
	}
	timeout := o.Profile.Connect.Timeout
	if o.ConnectTimeout > 0 {
		timeout = o.ConnectTimeout
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	c := &Client{
		url:     url,
		p:       o.Profile,
		clock:   o.Clock,
		rng:     o.Rand,
		header:  o.Header.Clone(),
		timeout: timeout,
		// A per-client draw (reconnecting-websocket's minimum delay) is
		// made once, here, so every retry of this client shares it.
		policy:    backoff.ForClient(o.Profile.Backoff, o.Rand),
		log:       o.Logger.With("profile", o.Profile.Name),
		flaws:     o.Flaws,
		reconnect: make(chan struct{}, 1),
		loopDone:  make(chan struct{}),
		events:    newDispatcher(),
	}
	if o.Dialer != nil {
		c.dialer = *o.Dialer
	}
	c.dialer.HandshakeTimeout = 0
	if sp := o.Profile.Connect.Subprotocol; sp != "" {
		c.dialer.Subprotocols = []string{sp}
	}
	if o.MaxAttempts > 0 {
		c.policy = backoff.Limit{Policy: c.policy, Attempts: o.MaxAttempts}
	}
	return c
}

// Start begins connecting in the background. It returns at once.
func (c *Client) Start() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case c.closed:
		return ErrClosed
	case c.started:
		return ErrStarted
	}
	c.started = true
	ctx, cancel := context.WithCancel(context.Background())
	c.cancel = cancel
	go c.events.run()
	go c.run(ctx)
	return nil
}

// Close is the intentional disconnect: in any state it closes the socket
// (with the profile's Close.Code, or a close frame without a code when that
// is "none"), cancels a dial or a pending retry, and returns once no socket
// is open and the client will never reconnect. Callbacks already queued are
// still delivered; Close may be called from one.
func (c *Client) Close() error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil
	}
	c.closed = true
	started := c.started
	c.mu.Unlock()
	if !started {
		c.setState(StateDisconnected, nil)
		c.events.stop()
		return nil
	}
	c.cancel()
	if !c.flaws.RetryIgnoresClose && !c.flaws.CloseLeavesDial && !c.flaws.CloseReconnects {
		<-c.loopDone
	}
	c.events.stop()
	return nil
}

// Reconnect drops the current socket (or the wait before the next attempt,
// or a given-up state) and dials at once, with the failure count reset.
func (c *Client) Reconnect() {
	select {
	case c.reconnect <- struct{}{}:
	default: // one request pending is enough
	}
}

// Send sends a request of type typ whose data is v marshalled to JSON, in
// the profile's envelope (the text envelope sends the JSON as it is, and a
// JSON string as its contents).
//
// While not connected, a queueing profile queues it (flushed in order on the
// next open, before anything sent after that open) and Send returns nil. A
// full queue does what the profile's Queue.Full says: "error" returns
// ErrQueueFull; "drop-newest" drops this send and "drop-oldest" the oldest
// queued one, both returning nil, logged at Warn and counted in Dropped. A
// profile without a queue returns ErrNotConnected.
func (c *Client) Send(ctx context.Context, typ string, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("failed to marshal %s data: %w", typ, err)
	}
	m := profile.Message{Kind: profile.Request, Type: typ, Data: data}
	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case c.closed:
		return ErrClosed
	case c.conn != nil:
		if err := c.writeLocked(ctx, m); err != nil {
			return fmt.Errorf("failed to send %s: %w", typ, err)
		}
		return nil
	case !c.p.Queue.Enabled:
		return fmt.Errorf("failed to send %s: %w", typ, ErrNotConnected)
	case c.p.Queue.Limit > 0 && len(c.queue) >= c.p.Queue.Limit:
		q := c.p.Queue
		switch q.Full {
		case profile.QueueDropNewest:
			c.dropped++
			c.log.Warn("queue full: dropped the new send", "type", typ, "limit", q.Limit, "dropped", c.dropped)
			return nil
		case profile.QueueDropOldest:
			c.dropped++
			c.log.Warn("queue full: dropped the oldest send", "type", c.queue[0].Type, "limit", q.Limit, "dropped", c.dropped)
			c.queue = slices.Delete(c.queue, 0, 1)
		default:
			if c.flaws.QueueDropsSilentlyOnError {
				return nil
			}
			return fmt.Errorf("failed to queue %s: %w (limit %d)", typ, ErrQueueFull, q.Limit)
		}
	}
	c.queue = append(c.queue, m)
	c.log.Debug("queued", "type", typ, "queued", len(c.queue))
	return nil
}

// writeLocked stamps a request id on m where the profile uses them, and
// writes it to the open socket. c.mu must be held.
func (c *Client) writeLocked(ctx context.Context, m profile.Message) error {
	if m.Kind == profile.Request && !m.HasSeq {
		m.Seq, m.HasSeq = c.reqSeq, true
		c.reqSeq++
	}
	return writeMessage(ctx, c.conn, c.p.Codec, m)
}

// writeMessage encodes m as it is (no request id added: a handshake or a
// pong carries none) and writes it to conn. Writes to one conn must be
// serialized: callers hold c.mu.
func writeMessage(ctx context.Context, conn *websocket.Conn, codec profile.Codec, m profile.Message) error {
	frame, err := codec.Encode(m)
	if err != nil {
		return err
	}
	deadline := time.Now().Add(writeWait)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	conn.SetWriteDeadline(deadline)
	return conn.WriteMessage(websocket.TextMessage, frame)
}

// State is the current connection state.
func (c *Client) State() State {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.state
}

// Queued is the number of messages waiting in the offline queue.
func (c *Client) Queued() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.queue)
}

// Dropped is the number of sends a full queue dropped (profiles whose
// Queue.Full is drop-newest or drop-oldest).
func (c *Client) Dropped() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.dropped
}

// ConnectionID is the id the last hello carried ("" before any).
func (c *Client) ConnectionID() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.connID
}

// ExpectedSeq is the seq the client expects of the next event.
func (c *Client) ExpectedSeq() int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.expectedSeq
}
