// QueueClient for the browser: a reconnecting client for the wschaos "queue"
// profile on the browser's own WebSocket, the shape of seed 000's
// WebSocketService made whole. Messages are JSON {"type", "payload"} both
// ways; a failed attempt waits base·factor^(n-1) before the next, and the
// failure after the last retry gives up; an app-level ping goes out every
// interval and a ping still unanswered when the next is due closes the
// socket (4000); sends while not connected wait in a bounded FIFO queue.

export type State = 'connecting' | 'connected' | 'reconnecting' | 'gave-up' | 'disconnected' | 'error';

export interface Options {
  backoffInitialMs: number;
  backoffFactor: number;
  backoffMaxRetries: number;
  heartbeatIntervalMs: number;
  queueLimit: number;
  // The browser's WebSocket has no handshake timeout of its own: without
  // this a server that accepts TCP and never answers the upgrade would
  // hold the client in "connecting" for as long as the browser waits.
  connectTimeoutMs: number;
  bugs?: string[];
}

export const DEFAULTS: Options = {
  backoffInitialMs: 1000,
  backoffFactor: 2,
  backoffMaxRetries: 5,
  heartbeatIntervalMs: 30000,
  queueLimit: 256,
  connectTimeoutMs: 10000,
};

// TEST FIXTURE. Deliberate bugs, each changing exactly one behaviour, so the
// harness can be shown to catch them in a real browser. Never enable them
// outside tests.
export const BUGS: Record<string, string> = {
  'no-reset': 'the failure count is not reset on open',
  'queue-overtake': 'the "connected" listeners run before the queue is flushed',
  'dead-socket-open': 'a socket closed on a dead link is left to the browser, open beside the next one',
};

const CLOSE_NORMAL = 1000; // close(): the application is done
const CLOSE_PING_TIMEOUT = 4000; // the last ping went unanswered

export interface Listeners {
  state?: (state: State, detail?: string) => void;
  message?: (type: string, payload: unknown) => void;
  error?: (message: string) => void;
  log?: (message: string) => void;
}

export class QueueClient {
  readonly #url: string;
  readonly #opts: Options;
  readonly #bugs: Set<string>;
  readonly #on: Listeners;

  #state: State | null = null; // null until connect()
  #ws: WebSocket | null = null; // the one socket: dialing or open
  #open = false; // #ws is open and past its flush: sends go straight out
  #timer: ReturnType<typeof setTimeout> | null = null; // backoff wait, connect timeout, or heartbeat
  #failures = 0; // consecutive failed attempts since the last open
  #awaitingPong = false; // a ping went out and no pong came back yet
  #queue: string[] = []; // encoded frames waiting for the next open, oldest first
  #closed = false; // close() was called: final
  // Each socket lives in a hidden frame of its own, until the next dial:
  // removing the frame is the one way a page has to drop a socket at once.
  #frames = new Map<WebSocket, HTMLIFrameElement>();

  constructor(url: string, options: Partial<Options>, on: Listeners) {
    // Checked here, not at the first dial, so a retry can never throw.
    const proto = new URL(url).protocol;
    if (proto !== 'ws:' && proto !== 'wss:') throw new Error(`not a ws:// or wss:// URL: ${url}`);
    this.#url = url;
    this.#opts = { ...DEFAULTS };
    for (const k of Object.keys(DEFAULTS) as (keyof Options)[]) {
      if (options[k] !== undefined) (this.#opts as any)[k] = options[k];
    }
    this.#bugs = new Set(options.bugs ?? []);
    for (const b of this.#bugs) if (!(b in BUGS)) throw new Error(`unknown bug ${JSON.stringify(b)}`);
    this.#on = on;
  }

  get state(): State | null {
    return this.#state;
  }

  /** connect starts the client; it reconnects on its own from then on. */
  connect(): void {
    if (this.#closed) throw new Error('client is closed');
    if (this.#state !== null && this.#state !== 'gave-up') return;
    this.#failures = 0;
    this.#dial('connecting');
  }

  /** send sends now when connected, else queues; it throws rather than drop. */
  send(type: string, payload: unknown): void {
    if (this.#closed) throw new Error('client is closed');
    const frame = encode(type, payload);
    // readyState too: between the server's close frame and the close
    // event the browser would discard the frame without a word.
    if (this.#open && this.#ws !== null && this.#ws.readyState === WebSocket.OPEN) {
      this.#ws.send(frame);
      return;
    }
    if (this.#queue.length >= this.#opts.queueLimit) throw new Error(`queue full (${this.#opts.queueLimit} messages)`);
    this.#queue.push(frame);
  }

  /** close stops for good: a close frame with 1000, no retry after it. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#clearTimer();
    const ws = this.#ws;
    this.#ws = null; // from now on its events are ignored
    this.#open = false;
    // On a socket still dialing, close() aborts the handshake; on an open
    // one it sends the close frame.
    if (ws !== null) ws.close(CLOSE_NORMAL, 'client closing');
    if (this.#queue.length > 0) this.#log(`closed with ${this.#queue.length} message(s) still queued`);
    this.#setState('disconnected');
  }

  // #dial opens the next socket; its events are ignored once it is no
  // longer #ws, so a socket left behind can never act on the client.
  #dial(state: State): void {
    this.#setState(state);
    this.#log(`dialing ${this.#url}`);
    const ws = this.#newSocket();
    this.#ws = ws;
    this.#timer = setTimeout(() => {
      this.#timer = null;
      if (ws !== this.#ws) return;
      this.#ws = null;
      ws.close(); // aborts the handshake; its events are ignored now
      this.#failed(`connect timeout after ${this.#opts.connectTimeoutMs} ms`);
    }, this.#opts.connectTimeoutMs);
    ws.onopen = () => {
      if (ws === this.#ws) this.#opened(ws);
    };
    ws.onmessage = (ev: MessageEvent) => {
      if (ws === this.#ws) this.#received(ev.data);
    };
    // Every failure ends in a close event, which is where it is handled;
    // the browser's error event carries no detail.
    ws.onclose = (ev: CloseEvent) => {
      if (ws !== this.#ws) return;
      this.#ws = null;
      this.#failed(`closed with ${ev.code}${ev.reason ? ` ${ev.reason}` : ''}`);
    };
  }

  // #newSocket dials in a new hidden frame, after dropping every earlier
  // socket still closing. The browser's WebSocket has no terminate(): a
  // socket closed on a dead link sends its close frame, then waits for the
  // answer the dead link never brings, and the browser holds the connection
  // open until its own closing timeout, beside the retry's socket. Removing
  // its frame destroys the socket without the handshake; it is done at the
  // next dial, so the close frame has had the whole backoff wait to go out.
  #newSocket(): WebSocket {
    // BUG (test fixture) dead-socket-open: the page's own WebSocket, which
    // nothing can destroy before the browser's closing timeout.
    if (this.#bugs.has('dead-socket-open')) return new WebSocket(this.#url);
    for (const frame of this.#frames.values()) frame.remove();
    this.#frames.clear();
    const frame = document.createElement('iframe');
    frame.hidden = true;
    document.body.appendChild(frame);
    const FrameWebSocket = (frame.contentWindow as unknown as { WebSocket: typeof WebSocket }).WebSocket;
    const ws = new FrameWebSocket(this.#url);
    // The frame stays until the next dial, even after its socket closed:
    // removing a frame from inside its socket's close event would end that
    // event's dispatch, and the client's own close handler would not run.
    this.#frames.set(ws, frame);
    return ws;
  }

  #opened(ws: WebSocket): void {
    this.#clearTimer(); // the connect timeout
    if (!this.#bugs.has('no-reset')) this.#failures = 0;
    this.#awaitingPong = false;
    this.#armHeartbeat();
    if (this.#bugs.has('queue-overtake')) {
      // BUG (test fixture): what the listeners send overtakes the queue.
      this.#open = true;
      this.#setState('connected');
      if (ws === this.#ws) this.#flush(ws);
      return;
    }
    // The queue goes out first; only then can a send (from a connected
    // listener, say) go straight to the socket.
    this.#flush(ws);
    this.#open = true;
    this.#setState('connected');
  }

  #flush(ws: WebSocket): void {
    const queue = this.#queue;
    if (queue.length === 0) return;
    this.#queue = []; // each queued message goes out exactly once
    for (const frame of queue) ws.send(frame);
    this.#log(`flushed ${queue.length} queued message(s)`);
  }

  #received(data: unknown): void {
    let msg: { type?: unknown; payload?: unknown };
    try {
      if (typeof data !== 'string') throw new Error('binary frame');
      msg = JSON.parse(data);
      if (msg === null || typeof msg !== 'object' || typeof msg.type !== 'string') throw new Error('no "type" field');
    } catch (err) {
      this.#on.error?.(`unreadable server message: ${(err as Error).message}`);
      return;
    }
    const type = msg.type as string;
    if (type === 'pong') this.#awaitingPong = false;
    this.#on.message?.(type, msg.payload);
    if (type === 'error') {
      const p = msg.payload as { message?: unknown } | undefined;
      const text = typeof p?.message === 'string' ? p.message : JSON.stringify(msg.payload ?? null);
      this.#setState('error', text);
      this.#on.error?.(`server error: ${text}`);
    }
  }

  // #failed handles the end of an attempt, a refused dial, a timed-out
  // handshake or a closed socket alike: back off, or give up.
  #failed(why: string): void {
    this.#clearTimer();
    this.#open = false;
    this.#failures++;
    if (this.#failures > this.#opts.backoffMaxRetries) {
      const msg = `gave up after ${this.#failures} failed attempts in a row (last: ${why})`;
      this.#log(msg);
      this.#setState('gave-up', msg);
      this.#on.error?.(msg);
      return;
    }
    const delay = this.#opts.backoffInitialMs * this.#opts.backoffFactor ** (this.#failures - 1);
    this.#log(`connection ${why}; reconnecting in ${delay} ms (retry ${this.#failures} of ${this.#opts.backoffMaxRetries})`);
    this.#timer = setTimeout(() => {
      this.#timer = null;
      this.#dial('reconnecting');
    }, delay);
    // Announced on every failure, even when already "reconnecting": each
    // is a new wait.
    this.#setState('reconnecting', `retry ${this.#failures} in ${delay} ms`);
  }

  #armHeartbeat(): void {
    if (this.#opts.heartbeatIntervalMs <= 0) return;
    this.#timer = setTimeout(() => this.#beat(), this.#opts.heartbeatIntervalMs);
  }

  // #beat runs every interval while open: a ping still unanswered from the
  // last beat means the link is dead, even if TCP says otherwise.
  #beat(): void {
    this.#timer = null;
    const ws = this.#ws;
    if (ws === null) return;
    if (this.#awaitingPong) {
      this.#ws = null;
      this.#open = false;
      // The close frame goes now and the socket is dropped from the
      // client at once; if the dead link never answers the close, the
      // next dial destroys it (#newSocket).
      ws.close(CLOSE_PING_TIMEOUT, 'ping timeout');
      this.#on.error?.('no pong to the last ping within the heartbeat interval');
      this.#failed(`closed with ${CLOSE_PING_TIMEOUT} ping timeout`);
      return;
    }
    this.#awaitingPong = true;
    ws.send(encode('ping', undefined));
    this.#armHeartbeat();
  }

  #clearTimer(): void {
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
  }

  // #setState reports a change, or the same state again with news.
  #setState(state: State, detail?: string): void {
    if (state === this.#state && detail === undefined) return;
    this.#state = state;
    this.#on.state?.(state, detail);
  }

  #log(message: string): void {
    this.#on.log?.(message);
  }
}

// encode builds the profile's envelope; a ping has no payload.
function encode(type: string, payload: unknown): string {
  if (typeof type !== 'string' || type === '') throw new Error('a message needs a type');
  return JSON.stringify(payload === undefined ? { type } : { type, payload });
}
