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
	// code is the close code seen or sent (1006 without one), for the
	// connect URL's report; 0 for an intentional close, which reports
	// nothing.
	code profile.StatusCode
	// byServer: the server closed the socket with code (a Fatal code then
	// stops the client).
	byServer bool
	// opened: the socket got as far as connected (past the handshake
	// reply, if any), for uptime; uptime is how long it stayed so.
	opened bool
	uptime time.Duration
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
	defer c.closeStale()
	defer func() {
		if !c.flaws.ClosedStateNotAnnounced || c.State() != StateGaveUp {
			c.setState(StateDisconnected, nil)
		}
	}()
	timer := c.clock.NewTimer(time.Hour)
	stopTimer(timer)

	var (
		failures int           // consecutive failures since the last reset
		prev     time.Duration // the previous backoff delay
		// firstCode is the first close code seen since the last
		// successful open (0: none), for the connect URL's report.
		firstCode profile.StatusCode
		next      = StateConnecting
	)
	seen := func(code profile.StatusCode) {
		if firstCode == 0 || c.flaws.ReportLastCode {
			firstCode = code
		}
	}
	for {
		c.setState(next, nil)
		next = StateReconnecting
		conn, err := c.dial(ctx, timer, firstCode)
		if ctx.Err() != nil {
			if conn != nil && !c.flaws.CloseLeavesDial { // the handshake won the race with Close
				conn.Close()
			}
			return
		}
		if err == nil {
			end := c.serve(ctx, conn, timer)
			if ctx.Err() != nil && !c.flaws.CloseReconnects {
				return
			}
			if end.opened && !c.flaws.KeepCodeAfterOpen {
				firstCode = 0
				if c.resetsOnEnd(end.uptime) {
					failures, prev = 0, 0
				}
			}
			if end.code != 0 {
				seen(end.code)
			}
			if end.resetFailures {
				failures = 0
			}
			if end.now {
				continue
			}
			fatal := c.p.Close.IsFatal(end.code) || c.flaws.EveryServerCodeFatal
			if end.byServer && fatal && !c.flaws.IgnoreFatalCodes {
				c.setState(StateGaveUp, fmt.Errorf("gave up: the server closed with %d, a fatal code in profile %s: %w",
					end.code, c.p.Name, end.err))
				if !c.waitReconnect(ctx) {
					return
				}
				failures, prev = 0, 0
				continue
			}
			err = end.err
		} else {
			seen(profile.StatusAbnormalClosure)
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
		if c.flaws.RetryIgnoresClose || c.flaws.CloseReconnects {
			done = nil
		}
		select {
		case <-timer.Chan():
			if (c.flaws.RetryIgnoresClose || c.flaws.CloseReconnects) && ctx.Err() != nil {
				// The retry armed before Close still dials, as
				// reconnecting-websocket's did (#86): once, and the
				// socket it opens is dropped.
				if conn, _ := c.dial(context.WithoutCancel(ctx), timer, firstCode); conn != nil {
					conn.Close()
				}
				return
			}
		case <-c.reconnect:
			stopTimer(timer)
			failures, prev = 0, 0
		case <-done:
			stopTimer(timer)
			return
		}
	}
}

// resetsOnEnd reports whether a connection that stayed connected for
// uptime restarts the failure count: always when the profile's ResetAfter
// is 0, else only after that much uptime (reconnecting-websocket's
// minUptime), so a server that accepts and drops at once still sees the
// backoff grow.
func (c *Client) resetsOnEnd(uptime time.Duration) bool {
	switch {
	case c.flaws.NoResetOnOpen:
		return false
	case c.flaws.ResetOnOpenDespiteUptime:
		return true
	}
	return c.p.ResetAfter <= 0 || uptime >= c.p.ResetAfter
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

type dialResult struct {
	conn *websocket.Conn
	err  error
}

// dial opens one socket, bounded by the connect timeout (if any) on the
// client's clock. Close or the timeout aborts it by closing the raw
// connection, since the handshake does not watch its context; dial returns
// only once the attempt is over, so no socket outlives it. On success the
// timer is left armed: the same timeout bounds the handshake reply, and
// serve stops it once the socket is connected.
func (c *Client) dial(ctx context.Context, timer clockTimer, code profile.StatusCode) (*websocket.Conn, error) {
	url, err := c.connectURL(code)
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
	if c.timeout > 0 && !c.flaws.NoConnectTimeout {
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
		stopTimer(timer)
		return nil, fmt.Errorf("failed to dial %s: %w", url, r.err)
	}
	if want := c.p.Connect.Subprotocol; want != "" && r.conn.Subprotocol() != want {
		// A browser fails such a connection: the socket just drops.
		stopTimer(timer)
		r.conn.Close()
		return nil, fmt.Errorf("failed to dial %s: the server did not select subprotocol %q (it chose %q)",
			url, want, r.conn.Subprotocol())
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
	ping bool // a ping control frame (already answered)
	err  error
}

// link is one open socket while serve runs it: the socket, the loop's
// timer, the heartbeat and the reader goroutine's channel.
type link struct {
	c     *Client
	conn  *websocket.Conn
	timer clockTimer
	hb    *heartbeat
	// armedAt is the deadline the timer is armed for; zero when stopped.
	armedAt time.Time

	reads      chan inbound
	done       chan struct{} // closed when serve returns: the reader stops pushing
	readerDone chan struct{}
	reading    bool // the reader goroutine was started

	opened      bool // connected: past the handshake reply, queue flushed
	connectedAt time.Time
}

// serve runs one open socket until it ends, and returns how it ended. It
// closes the socket and waits for its reader before returning: the old
// socket can deliver nothing after the next one opens.
//
// The socket is connected only once the profile's handshake reply came
// (when it has a handshake); until then the connect timeout still runs and
// sends are not let through.
func (c *Client) serve(ctx context.Context, conn *websocket.Conn, timer clockTimer) (end ending) {
	l := &link{c: c, conn: conn, timer: timer, hb: c.newHeartbeat(),
		reads: make(chan inbound), done: make(chan struct{}), readerDone: make(chan struct{})}
	leave := false // flaw OverlapOnReconnect: keep the socket open
	defer func() {
		close(l.done)
		if !l.reading {
			close(l.readerDone)
		}
		c.mu.Lock()
		c.conn = nil
		if leave {
			c.stale = append(c.stale, &staleSocket{conn, l.readerDone})
			c.mu.Unlock()
			return
		}
		c.mu.Unlock()
		conn.Close()
		<-l.readerDone
	}()
	defer func() {
		if l.opened {
			end.opened, end.uptime = true, c.clock.Now().Sub(l.connectedAt)
		}
	}()
	defer stopTimer(timer)
	defer l.hb.stop()
	if c.flaws.StaleHeartbeat {
		defer func() { c.staleHB = l.hb }()
	}
	conn.SetPongHandler(func(string) error { l.push(inbound{pong: true}); return nil })
	conn.SetPingHandler(func(data string) error {
		l.push(inbound{ping: true})
		err := conn.WriteControl(websocket.PongMessage, []byte(data), time.Now().Add(writeWait))
		if errors.Is(err, websocket.ErrCloseSent) {
			return nil // the socket is closing; the pong does not matter
		}
		return err
	})

	if hs := c.p.Connect.Handshake; hs != nil {
		m := profile.Message{Kind: profile.Request, Type: hs.Type, Data: hs.Data}
		c.mu.Lock()
		err := writeMessage(context.Background(), conn, c.p.Codec, m)
		c.mu.Unlock()
		if err != nil {
			return closeSocket(conn, profile.StatusAbnormalClosure, "", false,
				fmt.Errorf("failed to send the handshake %s: %w", hs.Type, err))
		}
		l.startReader()
		if !c.flaws.NoHandshakeWait {
			if end, ok := l.awaitReply(ctx, hs.ReplyType); !ok {
				return end
			}
		}
	}
	stopTimer(timer) // connected: the connect timeout is over

	if err := c.open(conn); err != nil {
		return closeSocket(conn, profile.StatusAbnormalClosure, "", false, err)
	}
	l.opened, l.connectedAt = true, c.clock.Now()
	pingNow := l.hb.start(l.connectedAt)
	l.arm()
	if pingNow {
		if err := l.ping(); err != nil {
			return closeSocket(conn, profile.StatusAbnormalClosure, "", false, err)
		}
	}
	// Read only once the open's own writes (queue, first ping) are out: a
	// close the server sent at once is then answered after them, never
	// before (gorilla refuses writes once it has answered a close).
	l.startReader()
	c.setState(StateConnected, nil) // announced once the heartbeat is armed

	for {
		select {
		case in := <-l.reads:
			if in.err != nil {
				return closedByPeer(in.err)
			}
			now := c.clock.Now()
			l.hb.heard(now)
			if in.pong && c.p.Heartbeat.Mode == profile.HeartbeatFrames {
				l.hb.answered(now)
			}
			if in.pong || in.ping {
				l.arm()
				continue
			}
			if end, ok := l.receive(in); !ok {
				return end
			}
		case <-l.hb.deadline():
			if l.hb.outstanding {
				cfg := c.p.Heartbeat
				return l.errorClose(cfg.CloseCode, "pong timeout", cfg.ResetFailures,
					errors.New("no answer to the last ping within the pong timeout"))
			}
		case <-timer.Chan():
			l.armedAt = time.Time{}
			switch l.hb.fired(c.clock.Now()) {
			case hbDead:
				cfg := c.p.Heartbeat
				if c.flaws.DeadSocketLeftOpen {
					// The close frame goes out; the socket is not dropped.
					leave = true
					frame := cfg.CloseCode
					if !c.p.Close.InFrame() {
						frame = profile.StatusNoStatus
					}
					conn.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(int(frame), "ping timeout"), time.Now().Add(writeWait))
					return ending{code: cfg.CloseCode, resetFailures: cfg.ResetFailures, err: l.hb.why()}
				}
				end := l.errorClose(cfg.CloseCode, "ping timeout", cfg.ResetFailures, l.hb.why())
				end.now = c.flaws.RedialAtOnceAfterDeadLink
				return end
			case hbPing:
				if err := l.ping(); err != nil {
					return closeSocket(conn, profile.StatusAbnormalClosure, "", false, err)
				}
			default:
				l.arm()
			}
		case <-c.reconnect:
			if c.flaws.OverlapOnReconnect {
				leave = true
				return ending{resetFailures: true, now: true}
			}
			return l.reconnectNow()
		case <-ctx.Done():
			l.closeIntentionally()
			return ending{}
		}
	}
}

// push hands one read to serve; false once serve has returned.
func (l *link) push(in inbound) bool {
	select {
	case l.reads <- in:
		return true
	case <-l.done:
		return false
	}
}

// startReader starts the goroutine that reads the socket, once.
func (l *link) startReader() {
	if l.reading {
		return
	}
	l.reading = true
	go func() {
		defer close(l.readerDone)
		for {
			op, data, err := l.conn.ReadMessage()
			if !l.push(inbound{op: op, data: data, err: err}) || err != nil {
				return
			}
		}
	}()
}

// arm points the timer at the heartbeat's earliest deadline, or stops it
// when there is none.
func (l *link) arm() {
	at, ok := l.hb.due()
	switch {
	case !ok:
		stopTimer(l.timer)
		l.armedAt = time.Time{}
	case !at.Equal(l.armedAt):
		stopTimer(l.timer)
		l.timer.Reset(at.Sub(l.c.clock.Now()))
		l.armedAt = at
	}
}

// ping sends one heartbeat and marks it unanswered. The timer is re-armed
// before the ping goes out, so a peer that saw the ping may step the clock.
func (l *link) ping() error {
	c := l.c
	l.hb.sent(c.clock.Now())
	if l.hb.pongTimer != nil {
		l.hb.pongTimer.Reset(c.flaws.PongTimeout)
	}
	l.arm()
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.p.Heartbeat.Mode == profile.HeartbeatFrames {
		return l.conn.WriteControl(websocket.PingMessage, nil, time.Now().Add(writeWait))
	}
	l.hb.seq = c.reqSeq
	m := c.p.Ping(l.hb.seq)
	m.HasSeq = false // writeLocked stamps the id and advances reqSeq
	return c.writeLocked(context.Background(), m)
}

// pong answers a server's ping at once (mode server).
func (l *link) pong(ping profile.Message) error {
	c := l.c
	if c.flaws.NoServerPongs {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return writeMessage(context.Background(), l.conn, c.p.Codec, c.p.Pong(ping))
}

// awaitReply waits for the handshake's reply, answering server pings
// meanwhile, bounded by the connect timeout still armed from the dial. ok
// is false when the socket ended first.
func (l *link) awaitReply(ctx context.Context, replyType string) (end ending, ok bool) {
	c := l.c
	for {
		select {
		case in := <-l.reads:
			if in.err != nil {
				return closedByPeer(in.err), false
			}
			m, ok := l.decode(in)
			if !ok {
				continue
			}
			if l.hb.isServerPing(m) {
				if err := l.pong(m); err != nil {
					return closeSocket(l.conn, profile.StatusAbnormalClosure, "", false, err), false
				}
			}
			c.deliver(m)
			if m.Kind == profile.Event && m.Type == replyType {
				return ending{}, true
			}
		case <-l.timer.Chan():
			return closeSocket(l.conn, profile.StatusAbnormalClosure, "", false,
				fmt.Errorf("no %s within the connect timeout %v", replyType, c.timeout)), false
		case <-c.reconnect:
			stopTimer(l.timer)
			return l.reconnectNow(), false
		case <-ctx.Done():
			stopTimer(l.timer)
			l.closeIntentionally()
			return ending{}, false
		}
	}
}

// decode reads a text frame; ok is false for anything else, and for a
// frame the envelope refuses (reported, not fatal).
func (l *link) decode(in inbound) (m profile.Message, ok bool) {
	if in.op != websocket.TextMessage {
		return m, false
	}
	m, err := l.c.p.Codec.Decode(in.data, profile.Server)
	if err != nil {
		err = fmt.Errorf("failed to decode %q: %w", truncate(in.data), err)
		l.c.log.Warn("bad frame", "err", err)
		l.c.notifyError(err)
		return m, false
	}
	return m, true
}

// reconnectNow is Reconnect on an open socket: an intentional close, then
// a dial at once with the failure count reset.
func (l *link) reconnectNow() ending {
	l.closeIntentionally()
	return ending{resetFailures: true, now: true}
}

// closeIntentionally closes with the profile's Close.Code.
func (l *link) closeIntentionally() {
	code := l.c.p.Close.Code
	if l.c.flaws.CloseWithoutFrame {
		code = profile.StatusAbnormalClosure
	}
	closeSocket(l.conn, code, "client closing", false, nil)
}

// errorClose closes on an error the client found (a dead link, a seq gap)
// with code: in the close frame when the profile reports it there, and in
// the ending for the next connect URL's report either way.
func (l *link) errorClose(code profile.StatusCode, reason string, reset bool, err error) ending {
	frame := code
	if !l.c.p.Close.InFrame() && !l.c.flaws.CloseCodeInFrame {
		frame = profile.StatusNoStatus
	}
	closeSocket(l.conn, frame, reason, reset, err)
	return ending{code: code, resetFailures: reset, err: err}
}

// receive acts on one frame; ok is false when the socket must end.
func (l *link) receive(in inbound) (end ending, ok bool) {
	c := l.c
	m, ok := l.decode(in)
	if !ok {
		return ending{}, true
	}
	now := c.clock.Now()
	if l.hb.isPong(m) {
		l.hb.answered(now)
	}
	serverPing := l.hb.isServerPing(m)
	if serverPing {
		l.hb.serverPinged(now)
	}
	// Re-armed before anything goes out or is delivered: whoever saw the
	// effect may step the clock.
	l.arm()
	if serverPing {
		if err := l.pong(m); err != nil {
			return closeSocket(l.conn, profile.StatusAbnormalClosure, "", false, err), false
		}
	}
	if r := c.p.Resume; r != nil && m.Kind == profile.Event {
		if !c.sequence(m) {
			return l.errorClose(r.GapCloseCode, "sequence mismatch", r.ResetFailures,
				fmt.Errorf("event %s out of sequence", m)), false
		}
	}
	if c.p.ErrorType != "" && m.Kind == profile.Event && m.Type == c.p.ErrorType {
		c.setState(StateError, fmt.Errorf("server error: %s", m.Data))
	}
	c.deliver(m)
	return ending{}, true
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

// sequence applies the hello and seq rules to an event and reports whether
// its seq is the expected one.
func (c *Client) sequence(m profile.Message) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if m.Type == c.p.Resume.HelloType {
		if id := m.Field(c.p.Resume.IDField); id != "" {
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

// closeSocket ends the socket from this side: a close frame with code, or
// one without a code for StatusNoStatus (gorilla writes it empty), or none
// at all for StatusAbnormalClosure; then the TCP connection is closed.
func closeSocket(conn *websocket.Conn, code profile.StatusCode, reason string, reset bool, err error) ending {
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
		return ending{code: profile.StatusCode(ce.Code), byServer: true,
			err: fmt.Errorf("server closed the socket: %w", err)}
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

// closeStale closes the sockets flaw OverlapOnReconnect left open, once
// the client stops: until then each stays open beside its successors, as
// a client's that forgot its old socket does.
func (c *Client) closeStale() {
	c.mu.Lock()
	stale := c.stale
	c.stale = nil
	c.mu.Unlock()
	for _, st := range stale {
		st.conn.Close()
		<-st.readerDone
	}
}
