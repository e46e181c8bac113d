// QueueClient: a reconnecting WebSocket client for the wschaos "queue"
// profile. Messages are JSON {"type", "payload"} both ways; a failed attempt
// waits 1, 2, 4, 8, 16 s before the next and the sixth failure in a row gives
// up; an app-level ping goes out every 30 s and an unanswered one closes the
// socket; sends while not connected wait in a bounded FIFO queue.
import WebSocket from 'ws';

// States reported to 'state' listeners, as docs/adapter.md names them.
export const State = Object.freeze({
  CONNECTING: 'connecting', // the first dial after connect()
  CONNECTED: 'connected',
  RECONNECTING: 'reconnecting', // waiting out a backoff, or redialing after one
  GAVE_UP: 'gave-up', // too many failures in a row; connect() starts again
  DISCONNECTED: 'disconnected', // close() was called
  ERROR: 'error', // the server sent a message of type "error"
});

// The profile's defaults (unscaled).
const DEFAULTS = Object.freeze({
  backoffInitialMs: 1000,
  backoffFactor: 2,
  backoffMaxRetries: 5,
  // The longest wait, before jitter; 0: the waits grow without a cap.
  backoffMaxMs: 0,
  // How long a connection must stay up before the failure count starts
  // over; 0: it starts over on every open.
  resetAfterMs: 0,
  // Close codes from the server after which the client never reconnects
  // (gave-up): [lo, hi] ranges. None by default: every close is retried.
  fatalCodes: [],
  // Each wait is drawn from [w·(1-ratio), w·(1+ratio)): 0.2 for ±20 %, so
  // clients dropped together do not come back together. 0: no jitter.
  backoffJitterRatio: 0,
  heartbeatIntervalMs: 30000,
  queueLimit: 256,
  // ws's own handshake timeout: a server that accepts TCP and never answers
  // the upgrade would otherwise hold the client in "connecting" forever.
  connectTimeoutMs: 10000,
  // The query parameter each reconnect URL reports the code of the first
  // close since the last successful open in (mattermost's
  // disconnect_err_code): the server learns why the client went away,
  // even when no close frame reached it. '': no report.
  closeCodeParam: '',
});

// Close codes the client sends.
const CLOSE_NORMAL = 1000; // close(): the application is done
const CLOSE_PING_TIMEOUT = 4000; // the last ping went unanswered

// TEST FIXTURE. Deliberate bugs, each changing exactly one behaviour, so the
// harness can be shown to catch them. Never enable them outside tests.
export const BUGS = Object.freeze({
  'no-reset': 'the failure count is not reset on open',
  'queue-overtake': 'the "connected" listeners run before the queue is flushed',
  'no-pong-check': 'an unanswered ping never closes the socket',
  'dead-link-no-wait': 'after a dead link the client dials again at once, with no backoff wait',
  'dead-socket-open': 'a dead socket gets its close frame but is left open until the close handshake times out',
  'close-keeps-retry': 'close() leaves a pending retry armed',
  'close-reconnects': 'close() on an open socket is taken for a lost connection, and retried',
  'no-connect-timeout': 'no connect timeout: a stalled handshake is waited for forever',
  'close-only-open': 'close() acts only on an open socket: a handshake in progress runs on, and its failure is retried',
  'timeout-dies': 'the connect timeout closes a socket still connecting with no error listener: the process dies',
  'no-jitter': 'every wait is the nominal one: backoffJitterRatio is ignored',
  'slow-growth': 'each wait grows by 1.5, whatever backoffFactor says',
  'no-cap': 'the waits grow past backoffMaxMs',
  'reset-before-uptime': 'the failure count starts over on every open, whatever resetAfterMs says',
  'retries-fatal': 'a close code in fatalCodes is retried like any other',
  'keeps-code-after-open': 'with closeCodeParam, a successful open does not forget the close code: an old one is still reported',
  'reports-last-code': 'with closeCodeParam, the last close code since the open is reported, not the first',
});

export class QueueClient {
  #url;
  #opts;
  #bugs;
  #listeners = { state: new Set(), message: new Set(), error: new Set(), log: new Set() };

  #state = null; // null until connect()
  #ws = null; // the one socket: dialing or open
  #open = false; // #ws is open and past its flush: sends go straight out
  #timer = null; // the one timer: backoff wait, or heartbeat while open
  #failures = 0; // consecutive failed attempts since the last open
  #openedAt = null; // when #ws opened (performance.now()), while it is open
  #awaitingPong = false; // a ping went out and no pong came back yet
  #queue = []; // encoded frames waiting for the next open, oldest first
  #closeCode = 0; // the first close code since the last open (0: none), for closeCodeParam
  #closed = false; // close() was called: final

  /**
   * @param {string} url ws:// or wss:// URL to connect to.
   * @param {object} [options] timing and queue settings; see DEFAULTS.
   *   options.bugs (array or Set of names from BUGS) is a test fixture.
   */
  constructor(url, options = {}) {
    // Checked here, not at the first dial, so a retry can never throw.
    if (!['ws:', 'wss:'].includes(new URL(url).protocol)) throw new Error(`not a ws:// or wss:// URL: ${url}`);
    this.#url = url;
    this.#opts = { ...DEFAULTS };
    for (const key of Object.keys(DEFAULTS)) {
      if (options[key] !== undefined) this.#opts[key] = options[key];
    }
    this.#bugs = new Set(options.bugs ?? []);
    for (const name of this.#bugs) {
      if (!(name in BUGS)) throw new Error(`unknown bug ${JSON.stringify(name)} (known: ${Object.keys(BUGS).join(', ')})`);
    }
  }

  /**
   * on subscribes to 'state' (state, detail), 'message' ({type, payload}),
   * 'error' (Error) or 'log' (string), and returns the unsubscribe function.
   * Listeners run synchronously, after the client's own state is updated.
   */
  on(event, fn) {
    const set = this.#listeners[event];
    if (!set) throw new Error(`unknown event ${JSON.stringify(event)}`);
    set.add(fn);
    return () => set.delete(fn);
  }

  get state() {
    return this.#state;
  }

  /** queued is how many messages wait for the next open. */
  get queued() {
    return this.#queue.length;
  }

  /**
   * connect starts the client: it dials and from then on reconnects on its
   * own. It does nothing while the client is already running, so there is
   * never more than one socket; after gave-up it starts over.
   */
  connect() {
    if (this.#closed) throw new Error('client is closed');
    if (this.#state !== null && this.#state !== State.GAVE_UP) return;
    this.#failures = 0;
    this.#dial(State.CONNECTING);
  }

  /**
   * send sends {type, payload} now when connected; otherwise it queues it
   * for the next open. It throws rather than drop a message: when the queue
   * is full, or after close().
   */
  send(type, payload) {
    if (this.#closed) throw new Error('client is closed');
    const frame = encode(type, payload);
    // readyState too: between the server's close frame and the 'close'
    // event ws would discard the frame without a word.
    if (this.#open && this.#ws.readyState === WebSocket.OPEN) {
      this.#ws.send(frame);
      return;
    }
    if (this.#queue.length >= this.#opts.queueLimit) {
      throw new Error(`queue full (${this.#opts.queueLimit} messages)`);
    }
    this.#queue.push(frame);
  }

  /**
   * close stops the client for good: an open socket gets a close frame with
   * code 1000, a socket still dialing is abandoned, a pending retry is
   * cancelled. Messages still queued are never sent.
   */
  close() {
    if (this.#closed) return;
    this.#closed = true;
    if (!this.#bugs.has('close-keeps-retry')) this.#clearTimer(); // BUG (test fixture) otherwise
    const ws = this.#ws;
    // BUG (test fixture) close-reconnects: an open socket stays #ws, so its
    // 'close' event is handled as a failure and retried.
    if (!(this.#bugs.has('close-reconnects') && ws?.readyState === WebSocket.OPEN)) {
      this.#ws = null; // from now on its events are ignored
    }
    this.#open = false;
    if (this.#bugs.has('close-only-open') && ws?.readyState === WebSocket.CONNECTING) {
      // BUG (test fixture), @mattermost/client's close(): a socket still
      // connecting is left alone, and stays #ws: its connect timeout is a
      // failure like any other, and retried.
      this.#ws = ws;
      this.#setState(State.DISCONNECTED);
      return;
    }
    if (ws) {
      // close() on a socket still dialing aborts the handshake;
      // on an open one it sends the close frame.
      ws.close(CLOSE_NORMAL, 'client closing');
    }
    if (this.#queue.length > 0) this.#log(`closed with ${plural(this.#queue.length, 'message')} still queued`);
    this.#setState(State.DISCONNECTED);
  }

  // #dial opens the next socket; its events are ignored once it is no
  // longer #ws, so a socket left behind can never act on the client.
  #dial(state) {
    this.#setState(state);
    const url = this.#dialURL();
    this.#log(`dialing ${url}`);
    const ownTimeout = this.#bugs.has('no-connect-timeout') || this.#bugs.has('timeout-dies');
    const ws = new WebSocket(url, {
      handshakeTimeout: ownTimeout ? undefined : this.#opts.connectTimeoutMs,
      perMessageDeflate: false, // keeps every write synchronous and in order
    });
    this.#ws = ws;
    if (this.#bugs.has('timeout-dies')) {
      // BUG (test fixture), reconnecting-websocket #183: its own connect
      // timeout drops its listeners and closes the socket still connecting;
      // ws then emits an 'error' no one listens to, and the process dies.
      const t = setTimeout(() => {
        ws.removeAllListeners('error');
        ws.close();
      }, this.#opts.connectTimeoutMs);
      ws.once('open', () => clearTimeout(t));
      ws.once('close', () => clearTimeout(t));
    }
    // ws throws an 'error' with no listener; every failure also ends in
    // 'close', which is where it is handled.
    let cause = null;
    ws.on('error', (err) => {
      cause = err;
    });
    ws.on('open', () => {
      if (ws === this.#ws) this.#opened(ws);
    });
    ws.on('message', (data, isBinary) => {
      if (ws === this.#ws) this.#received(data, isBinary);
    });
    ws.on('close', (code, reason) => {
      if (ws !== this.#ws) return;
      // A refused or failed dial ends in 1006 too: no close frame came.
      this.#sawClose(code);
      const why = cause ? `failed: ${cause.message}` : `closed with ${code}${reason.length ? ` ${reason}` : ''}`;
      if (!cause && this.#fatal(code) && !this.#bugs.has('retries-fatal')) {
        // BUG (test fixture) retries-fatal otherwise: the code is retried.
        this.#clearTimer();
        this.#ws = null;
        this.#open = false;
        this.#openedAt = null;
        const err = new Error(`the server closed with ${code}, which never reconnects (${why})`);
        this.#log(err.message);
        this.#setState(State.GAVE_UP, err.message);
        this.#emit('error', err);
        return;
      }
      this.#failed(why, cause);
    });
  }

  // #dialURL is the URL of the next dial: the client's own, plus, with
  // closeCodeParam, the first close code since the last open.
  #dialURL() {
    if (!this.#opts.closeCodeParam || this.#closeCode === 0) return this.#url;
    const u = new URL(this.#url);
    u.searchParams.set(this.#opts.closeCodeParam, String(this.#closeCode));
    return u.toString();
  }

  // #sawClose keeps a close's code for the next dial's report: the first
  // since the last open says why the trouble began; what follows (the
  // refusals of a server still down) says less.
  #sawClose(code) {
    if (!code) return;
    // BUG (test fixture) reports-last-code: every code replaces the first.
    if (this.#closeCode === 0 || this.#bugs.has('reports-last-code')) this.#closeCode = code;
  }

  #fatal(code) {
    return this.#opts.fatalCodes.some(([lo, hi]) => code >= lo && code <= hi);
  }

  #opened(ws) {
    // With resetAfterMs the count starts over only once the connection has
    // stayed up that long (#failed looks); a connection that drops at once
    // keeps the count growing, so a flapping server is not hammered.
    const resetNow = this.#opts.resetAfterMs <= 0 || this.#bugs.has('reset-before-uptime'); // BUG (test fixture) reset-before-uptime
    if (resetNow && !this.#bugs.has('no-reset')) this.#failures = 0;
    // An open ends the trouble the code reported: the next close starts
    // over. BUG (test fixture) keeps-code-after-open: the old code stays.
    if (!this.#bugs.has('keeps-code-after-open')) this.#closeCode = 0;
    this.#openedAt = performance.now();
    this.#awaitingPong = false; // nothing carried over from the last socket
    this.#armHeartbeat();
    if (this.#bugs.has('queue-overtake')) {
      // BUG (test fixture): what the listeners send overtakes the queue.
      this.#open = true;
      this.#setState(State.CONNECTED);
      if (ws === this.#ws) this.#flush(ws); // a listener may have closed it
      return;
    }
    // The queue goes out first; only then can a send (from a 'connected'
    // listener, say) go straight to the socket.
    this.#flush(ws);
    this.#open = true;
    this.#setState(State.CONNECTED);
  }

  #flush(ws) {
    const queue = this.#queue;
    if (queue.length === 0) return;
    this.#queue = []; // each queued message goes out exactly once
    for (const frame of queue) ws.send(frame);
    this.#log(`flushed ${plural(queue.length, 'queued message')}`);
  }

  #received(data, isBinary) {
    let msg;
    try {
      if (isBinary) throw new Error('binary frame');
      msg = JSON.parse(data.toString('utf8'));
      if (msg === null || typeof msg !== 'object' || typeof msg.type !== 'string') throw new Error('no "type" field');
    } catch (err) {
      this.#emit('error', new Error(`unreadable server message: ${err.message}`));
      return;
    }
    if (msg.type === 'pong') this.#awaitingPong = false;
    this.#emit('message', { type: msg.type, payload: msg.payload });
    if (msg.type === 'error') {
      const text = msg.payload?.message ?? JSON.stringify(msg.payload ?? null);
      this.#setState(State.ERROR, text);
      this.#emit('error', new Error(`server error: ${text}`));
    }
  }

  // #failed handles the end of an attempt, a refused dial or a closed
  // socket alike: back off, or give up.
  #failed(why, cause) {
    this.#clearTimer();
    this.#ws = null;
    this.#open = false;
    if (this.#openedAt !== null && performance.now() - this.#openedAt >= this.#opts.resetAfterMs && !this.#bugs.has('no-reset')) {
      this.#failures = 0; // it stayed up long enough
    }
    this.#openedAt = null;
    this.#failures++;
    if (cause) this.#emit('error', new Error(`connection ${why}`, { cause }));
    if (this.#failures > this.#opts.backoffMaxRetries) {
      const err = new Error(`gave up after ${this.#failures} failed attempts in a row (last: ${why})`);
      this.#log(err.message);
      this.#setState(State.GAVE_UP, err.message);
      this.#emit('error', err);
      return;
    }
    const factor = this.#bugs.has('slow-growth') ? 1.5 : this.#opts.backoffFactor;
    let nominal = this.#opts.backoffInitialMs * factor ** (this.#failures - 1);
    if (this.#opts.backoffMaxMs > 0 && !this.#bugs.has('no-cap')) nominal = Math.min(nominal, this.#opts.backoffMaxMs); // BUG (test fixture) no-cap otherwise
    const ratio = this.#bugs.has('no-jitter') ? 0 : this.#opts.backoffJitterRatio;
    const delay = Math.round(nominal * (1 + ratio * (2 * Math.random() - 1)));
    this.#log(`connection ${why}; reconnecting in ${delay} ms (retry ${this.#failures} of ${this.#opts.backoffMaxRetries})`);
    this.#timer = setTimeout(() => {
      this.#timer = null;
      this.#dial(State.RECONNECTING);
    }, delay);
    // Announced on every failure, with the wait, even when the state
    // already was "reconnecting": each is a new wait.
    this.#setState(State.RECONNECTING, `retry ${this.#failures} in ${delay} ms`);
  }

  #armHeartbeat() {
    if (this.#opts.heartbeatIntervalMs <= 0) return; // off: no tight ping loop
    this.#timer = setTimeout(() => this.#beat(), this.#opts.heartbeatIntervalMs);
  }

  // #beat runs every heartbeat interval while open: a ping still unanswered
  // from the last beat means the link is dead, even if TCP says otherwise.
  #beat() {
    this.#timer = null;
    const ws = this.#ws;
    if (this.#awaitingPong && !this.#bugs.has('no-pong-check')) {
      this.#ws = null;
      this.#open = false;
      // The close frame is written at once; terminate then drops the socket
      // without waiting for an answer a dead link would never send.
      ws.close(CLOSE_PING_TIMEOUT, 'ping timeout');
      this.#sawClose(CLOSE_PING_TIMEOUT); // #ws is cleared: its 'close' event is ignored
      // BUG (test fixture) dead-socket-open: no terminate, so the socket
      // stays open until ws's close handshake times out (30 s).
      if (!this.#bugs.has('dead-socket-open')) ws.terminate();
      this.#emit('error', new Error('no pong to the last ping within the heartbeat interval'));
      if (this.#bugs.has('dead-link-no-wait')) {
        // BUG (test fixture): a dead link is redialed at once.
        this.#failures++;
        this.#dial(State.RECONNECTING);
        return;
      }
      // The retry is armed from setImmediate, not from this timer callback:
      // Node counts a timer armed in a timer callback from when that
      // callback was due, so a beat that ran late under load would retry
      // as much too soon. After the poll phase the clock is fresh.
      setImmediate(() => {
        if (!this.#closed) this.#failed(`closed with ${CLOSE_PING_TIMEOUT} ping timeout`, null);
      });
      return;
    }
    this.#awaitingPong = true;
    ws.send(encode('ping'));
    this.#armHeartbeat();
  }

  #clearTimer() {
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
  }

  // #setState reports a change of state, or the same state again when it
  // comes with news (a failure's new wait).
  #setState(state, detail) {
    if (state === this.#state && detail === undefined) return;
    this.#state = state;
    this.#emit('state', state, detail);
  }

  #log(text) {
    this.#emit('log', text);
  }

  #emit(event, ...args) {
    for (const fn of this.#listeners[event]) fn(...args);
  }
}

// encode builds the profile's envelope; a ping has no payload.
function encode(type, payload) {
  if (typeof type !== 'string' || type === '') throw new Error('a message needs a type');
  return JSON.stringify(payload === undefined ? { type } : { type, payload });
}

function plural(n, noun) {
  return `${n} ${noun}${n === 1 ? '' : 's'}`;
}
