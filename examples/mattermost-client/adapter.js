#!/usr/bin/env node
// The wschaos adapter for the Mattermost webapp client (the npm package
// @mattermost/client, its WebSocketClient): protocol version 2 of
// docs/adapter.md. Commands arrive on stdin and events leave on stdout, one
// JSON object per line; stderr carries debug output only.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createInterface } from 'node:readline';
import { pathToFileURL } from 'node:url';

// stdout belongs to the protocol: the library logs with console.log (e.g.
// lib/websocket.js L105, L177, L241), so everything goes to stderr.
console.log = (...a) => console.error(...a);
console.info = (...a) => console.error(...a);

const require = createRequire(import.meta.url);
const WebSocket = require('ws');

// The client is written for a browser: it reads the global WebSocket for
// its readyState constants (L120, L238, L437, L472, L487) and builds a
// global CloseEvent on a ping timeout or a sequence gap (L242, L311).
// Node 20 has neither, so ws plays the browser's WebSocket, and a small
// CloseEvent carries what the client reads of it (code).
globalThis.WebSocket = WebSocket;
if (typeof globalThis.CloseEvent === 'undefined') {
  globalThis.CloseEvent = class CloseEvent extends Event {
    constructor(type, init = {}) {
      super(type);
      this.code = init.code ?? 0;
      this.reason = init.reason ?? '';
      this.wasClean = init.wasClean ?? false;
    }
  };
}

const WebSocketClient = require('@mattermost/client/lib/websocket').default;

const PROTOCOL = 2;
// How long stdin's end waits for the close handshake before exiting anyway;
// the harness kills the adapter after 2 s.
const EXIT_GRACE_MS = 1000;

const clientVersion = JSON.parse(readFileSync(new URL('../package.json', pathToFileURL(require.resolve('@mattermost/client/lib/websocket'))), 'utf8')).version;

function emit(obj) {
  process.stdout.write(JSON.stringify(obj) + '\n');
}
process.stdout.on('error', () => process.exit(0)); // the harness has gone

// configFor maps the resolved profile (durations in milliseconds, already
// scaled) onto WebSocketClient's config (L9-18). The client has one shape:
// {"action"} requests and {"event"} events with seq / seq_reply, its own
// backoff formula that never gives up, a ping on open and every interval,
// no queue, resume by connection_id and sequence_number. A profile of
// another shape is refused, naming what does not fit.
function configFor(p) {
  if (p === null || typeof p !== 'object') throw new Error('connect needs a profile object');
  const misfit = [];
  const e = p.envelope ?? {};
  if (e.codec !== 'json' || e.request_type !== 'action' || e.event_type !== 'event' || e.payload !== 'data' || e.seq !== 'seq' || e.reply_to !== 'seq_reply') {
    misfit.push('envelope (requests {"action","seq","data"}, events {"event","seq","data"}, replies {"seq_reply"})');
  }
  const b = p.backoff ?? {};
  if (b.family !== 'mattermost') misfit.push('backoff.family (the client computes 3000·n² itself: family mattermost)');
  if (b.retries !== 'unlimited') misfit.push('backoff.retries (only close() stops the client)');
  if (b.reset_after) misfit.push('backoff.reset_after (the fail count resets on open, L257)');
  const h = p.heartbeat ?? {};
  if (h.mode !== 'client' || h.ping_type !== 'ping' || h.pong_type || !h.on_open || h.dead !== 'next-ping' || h.close_code !== 4000 || !h.reset_failures) {
    misfit.push('heartbeat (a "ping" request on open and every interval, answered by any seq_reply; unanswered at the next tick: 4000, fail count reset)');
  }
  const c = p.close ?? {};
  if (c.code !== 'none' || c.report !== 'query' || c.query !== 'disconnect_err_code' || c.fatal?.length) {
    misfit.push('close (close() sends no code; error codes go to ?disconnect_err_code=; no code is fatal)');
  }
  if (p.queue?.enabled) misfit.push('queue (sends while not open are not kept)');
  const r = p.resume;
  if (!r || r.hello_type !== 'hello' || r.id_field !== 'connection_id' || r.id_param !== 'connection_id' || r.seq_param !== 'sequence_number' || r.gap_close_code !== 4001 || !r.reset_failures) {
    misfit.push('resume (hello {connection_id}, ?connection_id=&sequence_number=, gap 4001)');
  }
  if (p.connect?.subprotocol || p.connect?.handshake) misfit.push('connect (no subprotocol or handshake message; a token is an authentication_challenge the profile does not have)');
  if (p.error_type) misfit.push('error_type');
  if (misfit.length > 0) throw new Error(`@mattermost/client cannot play profile ${p.name}: ${misfit.join('; ')}`);
  const handshakeTimeout = p.connect?.timeout || undefined;
  return {
    minWebSocketRetryTime: b.min,
    maxWebSocketRetryTime: b.max,
    maxWebSocketFails: b.max_fails ?? 0,
    reconnectJitterRange: b.jitter ?? 0,
    clientPingInterval: h.interval,
    // The client arms no connect timeout (L90-169): in a browser a stalled
    // handshake ends when the browser gives up, which the profile's
    // connect.timeout stands for. ws, playing the browser, is given it.
    newWebSocketFn: (url) => new WebSocket(url, { handshakeTimeout }),
  };
}

const DEFERRED = Symbol('deferred');

let client = null;
let closed = false; // the application called close()
let whenConnected = [];

function isOpen() {
  return client.conn !== null && client.conn !== undefined && client.conn.readyState === WebSocket.OPEN;
}

// send refuses what the client would drop. sendMessage sends only while the
// socket is open and otherwise drops the message without a word (L485-489:
// "If the websocket is closed here, we will drop the message."), so the
// adapter checks the same condition first and says so, rather than reply
// ok to a message that never leaves.
function send(type, payload) {
  if (closed) throw new Error('the client was closed');
  if (!isOpen()) throw new Error('not connected: @mattermost/client drops a send made while its socket is not open (lib/websocket.js L485-489), so the adapter refuses it');
  // The reply to a request reaches the application only through this
  // callback (L276-279): it is reported as a message without a type.
  client.sendMessage(type, payload, (msg) => emit({ event: 'message', type: '', payload: msg.data ?? null }));
}

function onConnected() {
  emit({ event: 'state', state: 'connected' });
  const due = whenConnected;
  whenConnected = [];
  for (const c of due) replyTo(c.id, () => send(c.type, c.payload));
}

const commands = {
  connect(cmd) {
    if (client) throw new Error('connect comes once per process');
    if (typeof cmd.url !== 'string') throw new Error('connect needs a url');
    const c = new WebSocketClient(configFor(cmd.profile));
    // A connection's open runs the first-connect listeners when no failure
    // came before it, the reconnect listeners otherwise (L210-218).
    c.addFirstConnectListener(onConnected);
    c.addReconnectListener(onConnected);
    // The close listeners run on every close but close()'s own (L181,
    // L438), and a retry is then always scheduled (L196-202).
    c.addCloseListener((failCount) => {
      emit({ event: 'log', message: `socket closed; fail count ${failCount}` });
      emit({ event: 'state', state: 'reconnecting' });
    });
    c.addErrorListener((evt) => emit({ event: 'error', message: evt?.message ?? evt?.error?.message ?? 'websocket error' }));
    c.addMessageListener((msg) => emit({ event: 'message', type: msg.event ?? '', payload: msg.data ?? null }));
    // A hello with a connection id other than the one held: events were
    // missed (L288-300). Registering it also turns on the hello handling.
    c.addMissedMessageListener(() => emit({ event: 'resync' }));
    client = c;
    emit({ event: 'state', state: 'connecting' });
    c.initialize(cmd.url); // dials and returns; no token: the profile has no authentication_challenge
  },
  send(cmd) {
    if (!client) throw new Error('no client yet: connect first');
    if (typeof cmd.type !== 'string') throw new Error('send needs a string type');
    if (cmd.when !== undefined) {
      if (cmd.when !== 'connected') throw new Error(`cannot send when ${JSON.stringify(cmd.when)}: only "connected"`);
      if (closed) throw new Error('the client was closed: it will not connect again');
      whenConnected.push(cmd);
      return DEFERRED;
    }
    send(cmd.type, cmd.payload);
  },
  close() {
    if (!client) throw new Error('no client yet: connect first');
    closed = true;
    client.close();
    emit({ event: 'state', state: 'disconnected' });
    const due = whenConnected;
    whenConnected = [];
    for (const c of due) emit({ reply: c.id, ok: false, error: 'the client was closed: it will not connect again' });
  },
};

function replyTo(id, effect) {
  let result;
  try {
    result = effect();
  } catch (err) {
    emit({ reply: id, ok: false, error: err.message });
    return;
  }
  if (result !== DEFERRED) emit({ reply: id, ok: true });
}

let lineNo = 0;
function handle(line) {
  lineNo++;
  if (line.trim() === '') return;
  let cmd;
  try {
    cmd = JSON.parse(line);
  } catch {
    cmd = null;
  }
  if (cmd === null || typeof cmd !== 'object' || Array.isArray(cmd) || !Number.isInteger(cmd.id)) {
    process.stderr.write(`adapter: line ${lineNo} is not a command: ${line}\n`);
    emit({ event: 'log', message: `adapter ignored line ${lineNo}, not a command: ${line}` });
    return;
  }
  const run = Object.hasOwn(commands, cmd.cmd) ? commands[cmd.cmd] : null;
  if (!run) {
    emit({ reply: cmd.id, ok: false, error: `unknown command ${JSON.stringify(cmd.cmd ?? null)}` });
    return;
  }
  replyTo(cmd.id, () => run(cmd));
}

emit({ event: 'ready', protocol: PROTOCOL, client: `@mattermost/client ${clientVersion} (WebSocketClient, ws as the global WebSocket)` });

const input = createInterface({ input: process.stdin, crlfDelay: Infinity });
input.on('line', handle);
input.on('close', () => {
  if (client && !closed) {
    closed = true;
    client.close();
  }
  setTimeout(() => process.exit(0), EXIT_GRACE_MS).unref();
});
