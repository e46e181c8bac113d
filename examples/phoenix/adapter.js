#!/usr/bin/env node
// The wschaos adapter for the Phoenix channels JavaScript client (the npm
// package phoenix, its Socket): protocol version 2 of docs/adapter.md.
// Commands arrive on stdin and events leave on stdout, one JSON object per
// line; stderr carries debug output only.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { runAdapter, consoleToStderr, emit, WhenConnected } from '../adapter-kit/adapter-kit.js';

// stdout belongs to the protocol: anything the library logs goes to stderr.
consoleToStderr();

const require = createRequire(import.meta.url);
// The CommonJS build, whose line numbers the README and the profile cite.
const { Socket } = require('phoenix');
const WebSocket = require('ws');

// phoenix's exports map hides its package.json: read it beside the build
// (priv/static/phoenix.cjs.js).
const phoenixVersion = JSON.parse(readFileSync(new URL('../../package.json', pathToFileURL(require.resolve('phoenix'))), 'utf8')).version;

// optionsFor maps the resolved profile (durations in milliseconds, already
// scaled) onto Socket's options. Phoenix's Socket has one shape: v2 arrays,
// a reconnectAfterMs function that never gives up, a heartbeat whose reply
// must come within one interval, an unbounded send buffer and no connect
// timeout. A profile of another shape is refused, naming what does not fit.
function optionsFor(p) {
  if (p === null || typeof p !== 'object') throw new Error('connect needs a profile object');
  const misfit = [];
  const e = p.envelope ?? {};
  const fields = JSON.stringify(e.fields ?? null);
  if (e.codec !== 'json-array' || fields !== '["-","seq","topic","type","payload"]' || !e.seq_text || e.reply_type !== 'phx_reply' || typeof e.topic !== 'string') {
    misfit.push('envelope (Socket speaks the v2 serializer: [join_ref, ref, topic, event, payload], string refs, phx_reply)');
  }
  const b = p.backoff ?? {};
  if (b.family !== 'steps' || !Array.isArray(b.delays) || b.delays.length === 0) misfit.push('backoff.family (reconnectAfterMs is mapped from steps)');
  if (b.retries !== 'unlimited') misfit.push('backoff.retries (Socket never gives up)');
  if (b.reset_after) misfit.push('backoff.reset_after (Socket resets its tries on open)');
  const h = p.heartbeat ?? {};
  if (h.mode !== 'client' || h.ping_type !== 'heartbeat' || h.pong_type || h.on_open || h.dead !== 'timeout' || h.timeout !== h.interval || h.close_code !== 1000) {
    misfit.push('heartbeat (Socket sends "heartbeat" one interval after open, waits one interval for its phx_reply, then closes with 1000)');
  }
  if (p.close?.code !== 'none' || (p.close.report && p.close.report !== 'frame') || p.close.fatal?.length) misfit.push('close (disconnect() closes with no code, and no close code is fatal)');
  if (!p.queue?.enabled || p.queue.limit) misfit.push('queue (the send buffer has no bound)');
  if (p.connect?.timeout) misfit.push('connect.timeout (Socket arms none for a WebSocket)');
  if (p.connect?.subprotocol || p.connect?.handshake) misfit.push('connect (no subprotocol or handshake without authToken)');
  if (p.resume) misfit.push('resume');
  if (p.error_type) misfit.push('error_type');
  if (misfit.length > 0) throw new Error(`phoenix's Socket cannot play profile ${p.name}: ${misfit.join('; ')}`);
  const delays = b.delays;
  return {
    topic: e.topic,
    socket: {
      transport: WebSocket,
      // Failure n waits the n-th step, and every failure past the list the
      // last one, as the steps family says.
      reconnectAfterMs: (tries) => delays[Math.min(tries, delays.length) - 1],
      heartbeatIntervalMs: h.interval,
      logger: (kind, msg, data) => process.stderr.write(`phoenix ${kind}: ${msg} ${data === undefined ? '' : safeJSON(data)}\n`),
    },
  };
}

function safeJSON(v) {
  try {
    return JSON.stringify(v) ?? String(v);
  } catch {
    return String(v);
  }
}

let socket = null;
let topic = null;
let closed = false; // the application called disconnect()
const waiting = new WhenConnected();

function push(type, payload) {
  // The serializer reads payload.constructor (phoenix.cjs.js L1035): a null
  // or absent payload would throw inside the send buffer's flush, later.
  if (payload === null || payload === undefined) throw new Error('phoenix cannot push a null payload (its serializer reads payload.constructor)');
  // Socket.push sends now when open, and otherwise keeps the push in its
  // sendBuffer until the next open (L1844-1858): it is accepted either way.
  socket.push({ topic, event: type, payload, ref: socket.makeRef() });
}

const commands = {
  connect(cmd) {
    if (socket) throw new Error('connect comes once per process');
    if (typeof cmd.url !== 'string') throw new Error('connect needs a url');
    const opts = optionsFor(cmd.profile);
    topic = opts.topic;
    // Socket appends /websocket and ?vsn=2.0.0 to the endpoint (L1295,
    // L1387-1390); the fake server takes any path and ignores the query.
    const s = new Socket(cmd.url, opts.socket);
    // Socket has no callback for "a retry is scheduled": every failure, a
    // closed socket (L1744) or a heartbeat timeout (L1662), ends in
    // reconnectTimer.scheduleTimeout(), so the adapter reports it there.
    const schedule = s.reconnectTimer.scheduleTimeout.bind(s.reconnectTimer);
    s.reconnectTimer.scheduleTimeout = () => {
      schedule();
      emit({ event: 'state', state: 'reconnecting' });
    };
    s.onOpen(onOpen);
    s.onClose((ev) => emit({ event: 'log', message: `socket closed: code ${ev?.code}${ev?.reason ? ` (${ev.reason})` : ''}` }));
    s.onError((err) => emit({ event: 'error', message: err?.message ?? String(err?.error?.message ?? err?.type ?? err) }));
    s.onMessage((msg) => emit({ event: 'message', type: msg.event ?? '', payload: msg.payload ?? null }));
    socket = s;
    emit({ event: 'state', state: 'connecting' });
    s.connect(); // dials and returns; the reply does not wait for the open
  },
  send(cmd) {
    if (!socket) throw new Error('no client yet: connect first');
    if (typeof cmd.type !== 'string') throw new Error('send needs a string type');
    if (cmd.when !== undefined) return waiting.defer(cmd, closed ? 'the client was closed: it will not connect again' : null);
    if (closed) throw new Error('the client was closed');
    push(cmd.type, cmd.payload);
  },
  close() {
    if (!socket) throw new Error('no client yet: connect first');
    closed = true;
    socket.disconnect();
    emit({ event: 'state', state: 'disconnected' });
    waiting.fail('the client was closed: it will not connect again');
  },
};

// onOpen runs among Socket's open callbacks, after the send buffer was
// flushed (L1636-1639): the application's open handler.
function onOpen() {
  emit({ event: 'state', state: 'connected' });
  waiting.connected((c) => push(c.type, c.payload));
}

runAdapter({
  client: `phoenix ${phoenixVersion} (Socket, ws transport)`,
  commands,
  onEnd() {
    if (socket && !closed) {
      closed = true;
      socket.disconnect();
    }
  },
});
