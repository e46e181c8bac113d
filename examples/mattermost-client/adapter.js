#!/usr/bin/env node
// The wschaos adapter for the Mattermost webapp client (the npm package
// @mattermost/client, its WebSocketClient): protocol version 2 of
// docs/adapter.md. Commands arrive on stdin and events leave on stdout, one
// JSON object per line; stderr carries debug output only.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { runAdapter, consoleToStderr, emit, WhenConnected } from '../adapter-kit/adapter-kit.js';

// stdout belongs to the protocol: the library logs with console.log (e.g.
// lib/websocket.js L105, L177, L241), so everything goes to stderr.
consoleToStderr();

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

const clientVersion = JSON.parse(readFileSync(new URL('../package.json', pathToFileURL(require.resolve('@mattermost/client/lib/websocket'))), 'utf8')).version;

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

let client = null;
let closed = false; // the application called close()
const waiting = new WhenConnected();

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
  waiting.connected((c) => send(c.type, c.payload));
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
    if (cmd.when !== undefined) return waiting.defer(cmd, closed ? 'the client was closed: it will not connect again' : null);
    send(cmd.type, cmd.payload);
  },
  close() {
    if (!client) throw new Error('no client yet: connect first');
    closed = true;
    client.close();
    emit({ event: 'state', state: 'disconnected' });
    waiting.fail('the client was closed: it will not connect again');
  },
};

runAdapter({
  client: `@mattermost/client ${clientVersion} (WebSocketClient, ws as the global WebSocket)`,
  commands,
  onEnd() {
    if (client && !closed) {
      closed = true;
      client.close();
    }
  },
});
