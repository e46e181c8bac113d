#!/usr/bin/env node
// The wschaos adapter for the ASP.NET Core SignalR JavaScript client (the
// npm package @microsoft/signalr, a HubConnection built with
// withAutomaticReconnect()): protocol version 2 of docs/adapter.md.
// Commands arrive on stdin and events leave on stdout, one JSON object per
// line; stderr carries debug output only. Line numbers (L…) are those of
// node_modules/@microsoft/signalr/dist/cjs/, the build Node loads.
import { createRequire } from 'node:module';
import { runAdapter, consoleToStderr, emit, WhenConnected } from '../adapter-kit/adapter-kit.js';

// stdout belongs to the protocol: anything the library logs goes to stderr
// (its logger is configured below too; this catches the rest).
consoleToStderr();

const require = createRequire(import.meta.url);
const signalR = require('@microsoft/signalr');
const { HubConnectionBuilder, HttpTransportType, LogLevel } = signalR;

// Under Node the library loads the ws package itself, its own dependency
// (HttpConnection.js L40-53): no global WebSocket is needed.

// stderrLogger is the library's ILogger, writing to stderr.
const stderrLogger = {
  log(level, message) {
    process.stderr.write(`signalr ${LogLevel[level] ?? level}: ${message}\n`);
  },
};

// optionsFor maps the resolved profile (durations in milliseconds, already
// scaled) onto the builder's options. A HubConnection has one shape: the
// JSON hub protocol, a list of reconnect delays after which it stops, a ping
// after the handshake and then keep-alive pings, a server timeout, no queue
// and no connect timeout. A profile of another shape is refused, naming
// what does not fit.
function optionsFor(p) {
  if (p === null || typeof p !== 'object') throw new Error('connect needs a profile object');
  const misfit = [];
  const e = p.envelope ?? {};
  if (e.codec !== 'json' || e.type !== 'type' || !e.type_number || !e.inline || e.untyped !== 'handshake' || e.separator !== '\u001e') {
    misfit.push('envelope (the JSON hub protocol: {"type":N,...} records ending in 0x1E, a typeless handshake)');
  }
  const hs = p.connect?.handshake;
  if (!hs || hs.type !== 'handshake' || hs.reply_type !== 'handshake' || hs.data?.protocol !== 'json' || hs.data?.version !== 1) {
    misfit.push('connect.handshake (the hub sends {"protocol":"json","version":1} and waits for {})');
  }
  if (p.connect?.timeout) misfit.push('connect.timeout (the dial has none; only the handshake reply is bounded, by the server timeout)');
  if (p.connect?.subprotocol) misfit.push('connect.subprotocol');
  const b = p.backoff ?? {};
  if (b.family !== 'steps' || !Array.isArray(b.delays) || b.delays.length === 0) misfit.push('backoff.family (withAutomaticReconnect takes a list of delays)');
  if (b.retries !== b.delays?.length) misfit.push('backoff.retries (the policy stops after the last delay: retries must be the list\'s length)');
  if (b.reset_after) misfit.push('backoff.reset_after (each lost connection starts the list over)');
  const h = p.heartbeat ?? {};
  if (h.mode !== 'client' || h.ping_type !== '6' || h.pong_type !== '6' || !h.on_open || h.dead !== 'silence' || h.close_code !== 'none') {
    misfit.push('heartbeat (a {"type":6} ping on open and every keep-alive interval; any server silence longer than the server timeout closes with no code)');
  }
  if (p.close?.code !== 'none' || (p.close.report && p.close.report !== 'frame') || p.close.fatal?.length) misfit.push('close (stop() closes with no code, and no close code is fatal)');
  if (p.queue?.enabled) misfit.push('queue (send() while not connected is refused)');
  if (p.resume) misfit.push('resume');
  if (p.error_type) misfit.push('error_type');
  if (p.send_type !== '1') misfit.push('send_type (send() makes an invocation, type 1)');
  if (misfit.length > 0) throw new Error(`SignalR's HubConnection cannot play profile ${p.name}: ${misfit.join('; ')}`);
  return { delays: b.delays, keepAlive: h.interval, serverTimeout: h.timeout };
}

let connection = null;
let closed = false; // the application called stop()
let gaveUp = false;
const waiting = new WhenConnected();

// send makes one invocation with connection.send (HubConnection.js L331):
// the payload's target and arguments when it gives both, else method
// "send" with the payload as its one argument. The profile's envelope is
// inline, so the server reads {"target","arguments"} as the data.
// HttpConnection.send refuses when not connected (L97-99): ok: false.
function send(type, payload) {
  if (type !== '1') throw new Error(`SignalR sends invocations (type 1), not ${JSON.stringify(type)}`);
  if (payload !== null && typeof payload === 'object' && typeof payload.target === 'string' && Array.isArray(payload.arguments)) {
    return connection.send(payload.target, ...payload.arguments);
  }
  return connection.send('send', payload);
}

function connected() {
  emit({ event: 'state', state: 'connected' });
  waiting.connected((c) => send(c.type, c.payload));
}

const commands = {
  connect(cmd) {
    if (connection) throw new Error('connect comes once per process');
    if (typeof cmd.url !== 'string') throw new Error('connect needs a url');
    const opts = optionsFor(cmd.profile);
    // The library has no callback for "a retry is scheduled" after each
    // failed attempt (onreconnecting fires once per lost connection,
    // HubConnection.js L761-764). Its retry policy is asked before every
    // retry (L748, L810), so the adapter's policy reports it there, and
    // gives the library's own answer: withAutomaticReconnect(delays)'s
    // DefaultReconnectPolicy, delays[count] and null past the list
    // (DefaultReconnectPolicy.js L11-15).
    const delays = [...opts.delays, null];
    const policy = {
      nextRetryDelayInMilliseconds(ctx) {
        const d = delays[ctx.previousRetryCount];
        if (d !== null && d !== undefined) emit({ event: 'state', state: 'reconnecting' });
        else gaveUp = true; // the library now completes the close (L813-814): onclose says gave-up
        return d ?? null;
      },
    };
    // skipNegotiation with the WebSockets transport dials the URL as it is,
    // with no /negotiate request first (HttpConnection.js L168-175).
    // The library takes the hub's http(s) URL (HttpConnection.js L545-551
    // refuses a ws: one under Node) and dials it as ws(s)
    // (WebSocketTransport.js L32): the harness's ws URL, given as http.
    const url = cmd.url.replace(/^ws/, 'http');
    connection = new HubConnectionBuilder()
      .withUrl(url, { skipNegotiation: true, transport: HttpTransportType.WebSockets })
      .withAutomaticReconnect(policy)
      .withServerTimeout(opts.serverTimeout)
      .withKeepAliveInterval(opts.keepAlive)
      .configureLogging(stderrLogger)
      .build();
    connection.onreconnecting((err) => emit({ event: 'log', message: `reconnecting: ${err?.message ?? 'no error'}` }));
    connection.onreconnected(() => connected());
    connection.onclose((err) => {
      if (err) emit({ event: 'error', message: err.message ?? String(err) });
      const s = closed ? 'disconnected' : 'gave-up';
      if (!closed) emit({ event: 'state', state: s });
      waiting.fail(`the client will not connect again (state ${s})`);
    });
    emit({ event: 'state', state: 'connecting' });
    // start() is not retried: withAutomaticReconnect covers only a
    // connection that was up (HubConnection.js L712-714 reconnects from the
    // Connected state alone; a failed start rejects, L127-130). The
    // adapter reports that as the library tells it: an error, then gave-up.
    connection.start().then(
      () => connected(),
      (err) => {
        if (closed) return;
        emit({ event: 'error', message: err?.message ?? String(err) });
        emit({ event: 'state', state: 'gave-up' });
        waiting.fail('start() failed: the client will not connect again');
      },
    );
  },
  send(cmd) {
    if (!connection) throw new Error('no client yet: connect first');
    if (typeof cmd.type !== 'string') throw new Error('send needs a string type');
    if (cmd.when !== undefined) return waiting.defer(cmd, closed || gaveUp ? 'the client will not connect again' : null);
    if (closed) throw new Error('the client was closed');
    return send(cmd.type, cmd.payload);
  },
  async close() {
    if (!connection) throw new Error('no client yet: connect first');
    closed = true;
    // stop() sends a close record {"type":7} when connected (L235-238),
    // then closes the socket with no code (WebSocketTransport.js L138).
    await connection.stop();
    emit({ event: 'state', state: 'disconnected' });
    waiting.fail('the client was closed: it will not connect again');
  },
};

runAdapter({
  client: `@microsoft/signalr ${signalR.VERSION} (HubConnection, withAutomaticReconnect, JSON hub protocol, ws)`,
  commands,
  onEnd() {
    if (connection && !closed) {
      closed = true;
      connection.stop();
    }
  },
});
