#!/usr/bin/env node
// The wschaos adapter (protocol 2, docs/adapter.md) for seed 000's
// WebSocketService, compiled from src/ by `npm run build`. Commands arrive on
// stdin, events leave on stdout, one JSON object per line; the service's own
// console output goes to stderr.
import { readFileSync, existsSync } from 'node:fs';
import { runAdapter, consoleToStderr, emit, WhenConnected } from '../adapter-kit/adapter-kit.js';

// The service logs with console.log/warn; stdout belongs to the protocol.
consoleToStderr();

const dist = new URL('./dist/websocket.js', import.meta.url);
if (!existsSync(dist)) {
  process.stderr.write('adapter: dist/websocket.js is missing: run `npm ci && npm run build` in examples/seed-000\n');
  process.exit(3);
}
const { WebSocketService } = await import(dist.href);
const { websocket } = await import(new URL('./dist/stores.js', import.meta.url).href);
const { name, version } = JSON.parse(readFileSync(new URL('./package.json', import.meta.url), 'utf8'));

let service = null;
let closed = false; // disconnect() was called
let gaveUp = false;

// configFor maps the resolved profile (milliseconds, already scaled) onto the
// service's four options: reconnectDelay = backoff base, maxReconnectAttempts
// = retries, pingInterval = heartbeat interval. Everything else the service
// has fixed (an exponential ×2 backoff without jitter, a {"type":"ping"} that
// expects nothing back, an unbounded queue, no connect timeout); a profile
// whose shape differs is refused, naming what does not fit.
function configFor(url, p) {
  if (p === null || typeof p !== 'object') throw new Error('connect needs a profile object');
  const misfit = [];
  if (p.envelope?.codec !== 'json' || p.envelope.type !== 'type' || p.envelope.payload !== 'payload') misfit.push('envelope');
  if (p.backoff?.family !== 'exponential' || p.backoff.factor !== 2 || p.backoff.jitter || p.backoff.base_max || p.backoff.add_max || p.backoff.max) misfit.push('backoff (the service waits base·2^(n-1))');
  if (typeof p.backoff?.retries !== 'number') misfit.push('backoff.retries');
  if (p.heartbeat?.mode !== 'client' || p.heartbeat.ping_type !== 'ping' || p.heartbeat.on_open) misfit.push('heartbeat');
  if (!p.queue?.enabled) misfit.push('queue');
  if (p.resume || p.connect?.handshake || p.connect?.subprotocol) misfit.push('resume or handshake');
  if (misfit.length > 0) throw new Error(`WebSocketService cannot play profile ${p.name}: its ${misfit.join(', ')} differ`);
  return {
    url,
    reconnectDelay: p.backoff.base,
    maxReconnectAttempts: p.backoff.retries,
    pingInterval: p.heartbeat.interval,
  };
}

const waiting = new WhenConnected();

// The store's 'error' state carries three things the protocol tells apart,
// by the detail the service passes: its give-up ('Failed to reconnect', the
// end of handleClose), a socket error ('Connection error', the error handler:
// an error reported to the application, not a state of the protocol), and the
// server's error message (anything else).
function onStoreState(state, detail) {
  if (state === 'error' && detail === 'Failed to reconnect') {
    gaveUp = true;
    emit({ event: 'state', state: 'gave-up' });
  } else if (state === 'error' && detail === 'Connection error') {
    emit({ event: 'error', message: detail });
  } else {
    emit({ event: 'state', state });
  }
  if (state === 'connected') {
    waiting.connected((cmd) => service.send({ type: cmd.type, payload: cmd.payload }));
  } else if (!willConnect()) {
    waiting.fail(`the service will not connect again (${gaveUp ? 'it gave up' : 'disconnected'})`);
  }
}

function willConnect() {
  return !closed && !gaveUp;
}

const commands = {
  connect(cmd) {
    if (service) throw new Error('connect comes once per process');
    if (typeof cmd.url !== 'string') throw new Error('connect needs a url');
    const s = new WebSocketService(configFor(cmd.url, cmd.profile));
    websocket.subscribe(onStoreState);
    s.on('*', (m) => emit({ event: 'message', type: m.type ?? '', payload: m.payload ?? null }));
    service = s;
    s.connect();
  },
  send(cmd) {
    if (!service) throw new Error('no client yet: connect first');
    if (typeof cmd.type !== 'string') throw new Error('send needs a string type');
    if (cmd.when !== undefined) return waiting.defer(cmd, willConnect() ? null : 'the service will not connect again');
    // send() returns nothing and never refuses: it sends, or queues.
    service.send({ type: cmd.type, payload: cmd.payload });
  },
  close() {
    if (!service) throw new Error('no client yet: connect first');
    closed = true;
    service.disconnect();
  },
};

runAdapter({
  client: `${name} ${version} (seed 000 WebSocketService)`,
  commands,
  onEnd() {
    closed = true;
    service?.disconnect();
  },
});
