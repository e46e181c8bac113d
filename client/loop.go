package client

import (
	"context"
	"errors"
	"fmt"
	"net"
	"slices"
	"sync"
	"time"

	"github.com/gorilla/websocket"

	"github.com/wschaos/wschaos/profile"
)

// ending is how one socket's life ended, as the loop needs to know it.
type ending struct {
	code profile.StatusCode // the close code seen or sent; 1006 without one
	// resetFailures: the profile restarts the failure count before this
	// close (mattermost's ping timeout and seq mismatch).
	resetFailures bool
	// now: dial again at once (Reconnect), not after a backoff delay.
	now bool
	err error
}

// run is the client's one loop: dial, serve, back off, until ctx ends.
func (c *Client) run(ctx context.Context) {
	defer close(c.loopDone)
	defer func() {
		if !c.flaws.ClosedStateNotAnnounced || c.State() != StateGaveUp {
			c.setState(StateDisconnected, nil)
		}
	}()
	timer := c.clock.NewTimer(time.Hour)
	stopTimer(timer)

	var (
		failures int                // consecutive failures since the last open
		prev     time.Duration      // the previous backoff delay
		lastCode profile.StatusCode // how the last socket closed
		next     = StateConnecting
	)
	for {
		c.setState(next, nil)
		next = StateReconnecting
		conn, err := c.dial(ctx, timer, lastCode)
		if ctx.Err() != nil {
			if conn != nil && !c.flaws.CloseLeavesDial { // the handshake won the race with Close
				conn.Close()
			}
			return
		}
		if err == nil {
			if !c.flaws.NoResetOnOpen {
				failures, prev = 0, 0
			}
			end := c.serve(ctx, conn, timer)
			if ctx.Err() != nil {
				return
			}
			lastCode = end.code
			if end.resetFailures {
				failures = 0
			}
			if end.now {
				continue
			}
			err = end.err
		} else {
			c.log.Info("connect failed", "err", err)
		}

		failures++
		delay, ok := c.policy.Delay(failures, prev, c.rng)
		if !ok {
			c.setState(StateGaveUp, fmt.Errorf("gave up after %d failed attempts: %w", failures, err))
			if !c.waitReconnect(ctx) {
				return
			}
			failures, prev = 0, 0
			continue
		}
		prev = delay
		c.log.Info("reconnecting", "in", delay, "attempt", failures)
		timer.Reset(delay)
		// Announced once the timer is armed: a spec that saw this may step
		// the clock.
		c.setState(StateReconnecting, err)
		done := ctx.Done()
		if c.flaws.RetryIgnoresClose {
			done = nil
		}
		select {
		case <-timer.Chan():
		case <-c.reconnect:
			stopTimer(timer)
			failures, prev = 0, 0
		case <-done:
			stopTimer(timer)
			return
		}
	}
}

// waitReconnect parks in the given-up state until Reconnect or Close.
func (c *Client) waitReconnect(ctx context.Context) bool {
	select {
	case <-c.reconnect:
		return true
	case <-ctx.Done():
		return false
	}
}

// stopTimer stops t and drains a fire that raced with the stop, so the
// next Reset starts clean.
func stopTimer(t interface {
	Stop() bool
	Chan() <-chan time.Time
}) {
	if !t.Stop() {
		select {
		case <-t.Chan():
		default:
		}
	}
}

// dialURL is the URL of the next attempt: with the resume query when the
// profile resumes.
func (c *Client) dialURL(lastCode profile.StatusCode) (string, error) {
	if c.p.Resume == nil {
		return c.url, nil
	}
	c.mu.Lock()
	q := profile.ResumeQuery{ConnectionID: c.connID, SequenceNumber: c.expectedSeq, DisconnectCode: lastCode}
	c.mu.Unlock()
	if c.flaws.ResumeFromLastSeen && q.SequenceNumber > 0 {
		q.SequenceNumber--
	}
	return q.URL(c.url)
}

type dialResult struct {
	conn *websocket.Conn
	err  error
}

// dial opens one socket, bounded by the connect timeout on the client's
// clock. Close or the timeout aborts it by closing the raw connection, since
// the handshake does not watch its context; dial returns only once the
// attempt is over, so no socket outlives it.
func (c *Client) dial(ctx context.Context, timer clockTimer, lastCode profile.StatusCode) (*websocket.Conn, error) {
	url, err := c.dialURL(lastCode)
	if err != nil {
		return nil, err
	}
	parent, done := ctx, ctx.Done()
	if c.flaws.CloseLeavesDial {
		parent, done = context.WithoutCancel(ctx), nil
	}
	dctx, cancel := context.WithCancel(parent)
	defer cancel()

	var mu sync.Mutex
	var raw net.Conn
	aborted := false
	d := c.dialer
	netDial := d.NetDialContext
	if netDial == nil {
		netDial = (&net.Dialer{}).DialContext
	}
	d.NetDialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		nc, err := netDial(ctx, network, addr)
		mu.Lock()
		defer mu.Unlock()
		if err == nil && aborted {
			nc.Close()
			return nil, context.Canceled
		}
		raw = nc
		return nc, err
	}
	stop := context.AfterFunc(dctx, func() {
		mu.Lock()
		defer mu.Unlock()
		aborted = true
		if raw != nil {
			raw.Close()
		}
	})
	defer stop()

	c.log.Debug("dialing", "url", url)
	// Armed before the dial starts, so whatever the server sees of this
	// attempt, the timeout is already pending.
	if !c.flaws.NoConnectTimeout {
		timer.Reset(c.timeout)
	}
	result := make(chan dialResult, 1)
	go func() {
		conn, resp, err := d.DialContext(dctx, url, c.header)
		if err != nil && resp != nil {
			err = fmt.Errorf("%w (HTTP %s)", err, resp.Status)
		}
		result <- dialResult{conn, err}
	}()

	var r dialResult
	select {
	case r = <-result:
		stopTimer(timer)
	case <-timer.Chan():
		cancel()
		r = <-result
		if r.err == nil {
			r.conn.Close()
		}
		return nil, fmt.Errorf("failed to dial %s: no handshake within %v", url, c.timeout)
	case <-done:
		stopTimer(timer)
		cancel()
		r = <-result
		if r.err == nil {
			r.conn.Close()
		}
		return nil, ctx.Err()
	}
	if r.err != nil {
		return nil, fmt.Errorf("failed to dial %s: %w", url, r.err)
	}
	return r.conn, nil
}

type clockTimer interface {
	Reset(time.Duration) bool
	Stop() bool
	Chan() <-chan time.Time
}

// inbound is one thing the reader goroutine saw.
type inbound struct {
	op   int
	data []byte
	pong bool // a pong control frame
	err  error
}

// serve runs one open socket until it ends, and returns how it ended. It
// closes the socket and waits for its reader before returning: the old
// socket can deliver nothing after the next one opens.
func (c *Client) serve(ctx context.Context, conn *websocket.Conn, timer clockTimer) ending {
	reads := make(chan inbound)
	done := make(chan struct{})
	readerDone := make(chan struct{})
	push := func(in inbound) bool {
		select {
		case reads <- in:
			return true
		case <-done:
			return false
		}
	}
	leave := false   // flaw OverlapOnReconnect: keep the socket open
	reading := false // the reader goroutine was started
	defer func() {
		close(done)
		if !reading {
			close(readerDone)
		}
		c.mu.Lock()
		c.conn = nil
		if leave {
			c.stale = &staleSocket{conn, readerDone}
			c.mu.Unlock()
			return
		}
		c.mu.Unlock()
		conn.Close()
		<-readerDone
	}()

	if err := c.open(conn); err != nil {
		return c.closeWith(conn, profile.StatusAbnormalClosure, "", false, err)
	}
	c.closeStale()
	hb := c.newHeartbeat()
	if c.flaws.StaleHeartbeat {
		defer func() { c.staleHB = hb }()
	}
	if c.p.Heartbeat.OnOpen && !hb.outstanding {
		if err := c.ping(conn, hb); err != nil {
			return c.closeWith(conn, profile.StatusAbnormalClosure, "", false, err)
		}
	}
	// Read only once the open's own writes (queue, first ping) are out: a
	// close the server sent at once is then answered after them, never
	// before (gorilla refuses writes once it has answered a close).
	conn.SetPongHandler(func(string) error { push(inbound{pong: true}); return nil })
	reading = true
	go func() {
		defer close(readerDone)
		for {
			op, data, err := conn.ReadMessage()
			if !push(inbound{op: op, data: data, err: err}) || err != nil {
				return
			}
		}
	}()
	if c.p.Heartbeat.Interval > 0 {
		timer.Reset(c.p.Heartbeat.Interval)
	}
	defer stopTimer(timer)
	defer hb.stop()
	c.setState(StateConnected, nil) // announced once the heartbeat is armed

	for {
		select {
		case in := <-reads:
			if in.err != nil {
				return closedByPeer(in.err)
			}
			if in.pong {
				hb.answered()
				continue
			}
			if end, ok := c.receive(conn, hb, in); !ok {
				return end
			}
		case <-hb.deadline():
			if hb.outstanding {
				cfg := c.p.Heartbeat
				return c.closeWith(conn, cfg.CloseCode, "pong timeout", cfg.ResetFailures,
					errors.New("no answer to the last ping within the pong timeout"))
			}
		case <-timer.Chan():
			if hb.outstanding && !c.flaws.NoPongCheck {
				cfg := c.p.Heartbeat
				return c.closeWith(conn, cfg.CloseCode, "ping timeout", cfg.ResetFailures,
					errors.New("no answer to the last ping within the heartbeat interval"))
			}
			if err := c.ping(conn, hb); err != nil {
				return c.closeWith(conn, profile.StatusAbnormalClosure, "", false, err)
			}
			timer.Reset(c.p.Heartbeat.Interval)
		case <-c.reconnect:
			if c.flaws.OverlapOnReconnect {
				leave = true
				return ending{code: profile.StatusNormalClosure, resetFailures: true, now: true}
			}
			end := c.closeWith(conn, profile.StatusNormalClosure, "reconnect", true, nil)
			end.now = true
			return end
		case <-ctx.Done():
			if c.flaws.CloseWithoutFrame {
				c.closeWith(conn, profile.StatusAbnormalClosure, "", false, nil)
				return ending{code: profile.StatusAbnormalClosure}
			}
			c.closeWith(conn, profile.StatusNormalClosure, "client closing", false, nil)
			return ending{code: profile.StatusNormalClosure}
		}
	}
}

// open makes conn the client's socket: it flushes the offline queue in
// order, and only then lets new sends through, so none overtakes the queue.
func (c *Client) open(conn *websocket.Conn) error {
	c.mu.Lock()
	c.conn = conn
	c.reqSeq = 1
	if c.flaws.SendsOvertakeQueue {
		c.mu.Unlock()
		c.setState(StateConnected, nil)
		c.events.sync() // the application's reaction goes out first
		c.mu.Lock()
	}
	queue := c.queue
	if c.flaws.QueueLIFO {
		queue = slices.Clone(queue)
		slices.Reverse(queue)
	}
	var err error
	sent := 0
	for _, m := range queue {
		if err = c.writeLocked(context.Background(), m); err != nil {
			break
		}
		sent++
	}
	if !c.flaws.FlushKeepsQueue {
		c.queue = append(c.queue[:0:0], queue[sent:]...) // unsent stay queued
	}
	if err != nil {
		c.conn = nil
	}
	c.mu.Unlock()
	if sent > 0 {
		c.log.Info("flushed queue", "sent", sent)
	}
	if err != nil {
		return fmt.Errorf("failed to flush the offline queue: %w", err)
	}
	return nil
}

// receive acts on one frame; ok is false when the socket must end.
func (c *Client) receive(conn *websocket.Conn, hb *heartbeat, in inbound) (end ending, ok bool) {
	if in.op != websocket.TextMessage {
		return ending{}, true
	}
	m, err := c.p.Codec.Decode(in.data, profile.Server)
	if err != nil {
		err = fmt.Errorf("failed to decode %q: %w", truncate(in.data), err)
		c.log.Warn("bad frame", "err", err)
		c.notifyError(err)
		return ending{}, true
	}
	if hb.isPong(m) {
		hb.answered()
	}
	if r := c.p.Resume; r != nil && m.Kind == profile.Event {
		if !c.sequence(m) {
			return c.closeWith(conn, r.GapCloseCode, "sequence mismatch", r.ResetFailures,
				fmt.Errorf("event %s out of sequence", m)), false
		}
	}
	if c.p.ErrorType != "" && m.Kind == profile.Event && m.Type == c.p.ErrorType {
		c.setState(StateError, fmt.Errorf("server error: %s", m.Data))
	}
	c.deliver(m)
	return ending{}, true
}

// sequence applies the hello and seq rules to an event and reports whether
// its seq is the expected one.
func (c *Client) sequence(m profile.Message) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if m.Type == c.p.Resume.HelloType {
		if id := m.Field("connection_id"); id != "" {
			if c.connID != "" && c.connID != id {
				c.log.Info("new connection id: events were missed", "old", c.connID, "new", id)
				if !c.flaws.NoResyncOnNewID {
					c.notifyResync()
				}
				if !c.flaws.KeepSeqOnNewID {
					c.expectedSeq = 0
				}
			}
			c.connID = id
		}
	}
	if (!m.HasSeq || m.Seq != c.expectedSeq) && !c.flaws.NoSeqCheck {
		c.log.Info("missed event", "got", m.Seq, "expected", c.expectedSeq)
		return false
	}
	c.expectedSeq = m.Seq + 1
	return true
}

// closeWith ends the socket from this side with a close frame (none for
// 1006) and says how.
func (c *Client) closeWith(conn *websocket.Conn, code profile.StatusCode, reason string, reset bool, err error) ending {
	if code != profile.StatusAbnormalClosure {
		msg := websocket.FormatCloseMessage(int(code), reason)
		conn.WriteControl(websocket.CloseMessage, msg, time.Now().Add(writeWait))
	}
	conn.Close()
	return ending{code: code, resetFailures: reset, err: err}
}

// closedByPeer reads the close code out of a read error.
func closedByPeer(err error) ending {
	var ce *websocket.CloseError
	if errors.As(err, &ce) {
		return ending{code: profile.StatusCode(ce.Code), err: fmt.Errorf("server closed the socket: %w", err)}
	}
	return ending{code: profile.StatusAbnormalClosure, err: fmt.Errorf("socket failed: %w", err)}
}

func truncate(b []byte) string {
	const max = 120
	if len(b) > max {
		return string(b[:max]) + "…"
	}
	return string(b)
}

// staleSocket is a socket flaw OverlapOnReconnect left open.
type staleSocket struct {
	conn       *websocket.Conn
	readerDone chan struct{}
}

// closeStale closes a socket a flaw left open, once the next one is open.
func (c *Client) closeStale() {
	c.mu.Lock()
	st := c.stale
	c.stale = nil
	c.mu.Unlock()
	if st != nil {
		st.conn.Close()
		<-st.readerDone
	}
}
