#!/usr/bin/env node
// The wschaos adapter for reconnecting-websocket 4.4.0: protocol version 2
// of docs/adapter.md. Commands arrive on stdin and events leave on stdout,
// one JSON object per line; stderr carries debug output only.
import { createRequire } from 'node:module';
import { runAdapter, consoleToStderr, emit, WhenConnected, States } from '../adapter-kit/adapter-kit.js';
import ReconnectingWebSocket from 'reconnecting-websocket';
import WS from 'ws';

// Adapters own stdout: the library's debug option logs with console.log.
consoleToStderr();

const require = createRequire(import.meta.url);
const LIBRARY = 'reconnecting-websocket';
const libraryVersion = require(`${LIBRARY}/package.json`).version;

const MAX_TIMER_MS = 2 ** 31 - 1;

// BrowserLikeWS is the ws package's WebSocket with one difference: an
// 'error' with no listener is harmless, as it is in a browser, the
// environment the library is written for. The library removes its
// listeners before it closes a socket on a connect timeout or an error
// (dist/reconnecting-websocket-cjs.js L531-540); ws then emits 'error' for
// the aborted handshake, which on a bare EventEmitter would crash the
// process instead of being ignored.
//
// WSCHAOS_RWS_NODE_WS=1 uses ws as it is, as a Node application that
// passes it to the library would: the connect timeout then kills the
// process ("WebSocket was closed before the connection was established",
// pladaria/reconnecting-websocket#183), which stalled-handshake shows.
class BrowserLikeWS extends WS {
  constructor(...args) {
    super(...args);
    this.on('error', () => {});
  }
}
const WebSocketImpl = process.env.WSCHAOS_RWS_NODE_WS === '1' ? WS : BrowserLikeWS;

// optionsFor maps the resolved profile (durations in milliseconds, already
// scaled) onto the library's options, or throws naming what the library
// cannot do.
function optionsFor(p) {
  if (p === null || typeof p !== 'object') throw new Error('connect needs a profile object');
  const misfit = [];
  const b = p.backoff ?? {};
  if (p.envelope?.codec !== 'text') misfit.push(`envelope codec ${p.envelope?.codec} (the library sends the application's text as it is)`);
  if (b.family !== 'exponential' || b.jitter || b.add_max) misfit.push('backoff (the library has min·factor^(n-1) capped at max, no jitter)');
  if (p.heartbeat && p.heartbeat.mode !== 'none') misfit.push('heartbeat (the library never pings)');
  if (p.close?.code !== 1000) misfit.push(`close code ${p.close?.code} (close() sends 1000)`);
  if (p.close?.report && p.close.report !== 'frame') misfit.push('close.report');
  if (p.close?.fatal?.length) misfit.push('close.fatal (the library reconnects after any close code)');
  if (!p.queue?.enabled) misfit.push('queue disabled (the library always queues sends while not open)');
  if (p.queue?.limit && p.queue.full !== 'drop-newest') misfit.push(`queue full: ${p.queue.full} (the library drops the newest send silently)`);
  if (p.connect?.handshake || p.connect?.subprotocol) misfit.push('handshake or subprotocol');
  if (p.resume) misfit.push('resume');
  if (misfit.length > 0) throw new Error(`${LIBRARY} cannot play profile ${p.name}: ${misfit.join('; ')}`);
  // The profile draws the base once per client from [base, base_max); the
  // library draws its default minReconnectionDelay once, at module load, as
  // 1000 + Math.random()·4000 (L115). Passing the option replaces that
  // draw, so the adapter makes the same draw over the scaled range.
  const min = b.base_max ? b.base + Math.random() * (b.base_max - b.base) : b.base;
  return {
    WebSocket: WebSocketImpl,
    minReconnectionDelay: min,
    reconnectionDelayGrowFactor: b.factor,
    maxReconnectionDelay: b.max || Infinity,
    minUptime: b.reset_after,
    // The library always has a connect timeout (default 4 s, L118); a
    // profile without one gets the longest timer Node keeps (setTimeout
    // fires at once for anything longer).
    connectionTimeout: p.connect?.timeout || MAX_TIMER_MS,
    maxRetries: b.retries === 'unlimited' ? Infinity : b.retries,
    maxEnqueuedMessages: p.queue.limit || Infinity,
  };
}

let rws = null;
let options = null;
// closing: the application called close(); the next close event is final.
let closing = false;
// The retry count just before the library handles a close (see watchRetries).
let countBeforeClose = null;
// Sends with "when":"connected", made from the client's own open listener.
const waiting = new WhenConnected();

const states = new States(waiting);
const state = (s) => states.report(s);

// watchRetries records the retry count before the library's own close
// handler runs. The library has no gave-up event: when maxRetries is
// reached, _connect returns without counting (L500-503), and that is the
// only difference a close listener could see. _handleClose is the instance
// property the library registers on each new socket (L577) and calls from
// _disconnect (L540), so wrapping it before the first socket exists (the
// first one is made after a setTimeout, L510-524) sees every close.
function watchRetries(r) {
  const handle = r._handleClose;
  r._handleClose = (event) => {
    countBeforeClose = r._retryCount;
    handle(event);
  };
}

function frameText(payload) {
  // The text codec's encoding: a JSON string is sent as its contents, any
  // other JSON value as its JSON.
  return typeof payload === 'string' ? payload : JSON.stringify(payload);
}

function send(cmd) {
  const before = rws._messageQueue.length;
  const queued = rws.readyState !== ReconnectingWebSocket.OPEN;
  rws.send(frameText(cmd.payload));
  // A full queue drops the send without a word (L403-407): say so rather
  // than accept it.
  if (queued && rws._messageQueue.length === before) {
    throw new Error(`queue full (${options.maxEnqueuedMessages} messages): the library dropped the send`);
  }
}

const commands = {
  connect(cmd) {
    if (rws) throw new Error('connect comes once per process');
    if (typeof cmd.url !== 'string') throw new Error('connect needs a url');
    options = optionsFor(cmd.profile);
    process.stderr.write(`adapter: minReconnectionDelay ${options.minReconnectionDelay.toFixed(1)} ms\n`);
    const r = new ReconnectingWebSocket(cmd.url, [], options);
    watchRetries(r);
    r.addEventListener('open', () => {
      state('connected');
      waiting.connected(send);
    });
    r.addEventListener('message', (e) => {
      emit({ event: 'message', type: 'message', payload: typeof e.data === 'string' ? e.data : String(e.data) });
    });
    r.addEventListener('close', (e) => {
      if (closing) return state('disconnected');
      emit({ event: 'log', message: `close ${e.code} ${e.reason ?? ''}`.trim() });
      // _handleClose called _connect before this listener (L191-192); a
      // count it did not raise means maxRetries stopped it (L500-503).
      state(r._retryCount > countBeforeClose ? 'reconnecting' : 'gave-up');
    });
    r.addEventListener('error', (e) => {
      emit({ event: 'error', message: e.message ?? 'error' });
    });
    rws = r;
    state('connecting');
  },
  send(cmd) {
    if (!rws) throw new Error('no client yet: connect first');
    if (cmd.when !== undefined) return waiting.defer(cmd, states.refusal());
    send(cmd);
  },
  close() {
    if (!rws) throw new Error('no client yet: connect first');
    if (closing) return;
    closing = true;
    rws.close(); // code 1000 by default (L364)
    // No socket yet, or one already closed: the library returns without a
    // close event (L368-375).
    const ws = rws._ws;
    if (!ws || ws.readyState === ReconnectingWebSocket.CLOSED) state('disconnected');
  },
};

runAdapter({
  client: `${LIBRARY} ${libraryVersion}`,
  commands,
  onEnd() {
    closing = true;
    rws?.close();
  },
});
