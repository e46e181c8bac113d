#!/usr/bin/env node
// The wschaos adapter for QueueClient: protocol version 2 of docs/adapter.md.
// Commands arrive on stdin and events leave on stdout, one JSON object per
// line; stderr carries debug output only.
import { readFileSync } from 'node:fs';
import { runAdapter, emit, WhenConnected } from '../adapter-kit/adapter-kit.js';
import WebSocket from 'ws';
import { QueueClient, BUGS, State } from './client.js';

const { name, version } = JSON.parse(readFileSync(new URL('./package.json', import.meta.url), 'utf8'));

// TEST FIXTURE: WSCHAOS_JS_BUG=no-reset,queue-overtake switches on the
// client's deliberate bugs, to show that the harness catches them.
const bugs = (process.env.WSCHAOS_JS_BUG ?? '').split(',').map((s) => s.trim()).filter(Boolean);
const unknown = bugs.filter((b) => !(b in BUGS));
if (unknown.length > 0) {
  process.stderr.write(`adapter: unknown WSCHAOS_JS_BUG ${unknown.join(', ')} (known: ${Object.keys(BUGS).join(', ')})\n`);
  process.exit(2);
}

let client = null;

// optionsFor configures QueueClient from the resolved profile that connect
// carries (durations in milliseconds, already scaled). QueueClient speaks
// the queue profile's shape: {"type","payload"} messages, exponential
// backoff with a retry limit (and, where the profile says, a cap, a reset
// after uptime, close codes that never reconnect and the close code
// reported on the next connect URL), an app-level ping, a bounded queue. A
// profile of another shape is refused, naming what does not fit.
function optionsFor(p) {
  if (p === null || typeof p !== 'object') throw new Error('connect needs a profile object');
  const misfit = [];
  if (p.envelope?.codec !== 'json' || p.envelope.type !== 'type' || p.envelope.payload !== 'payload') misfit.push('envelope');
  const jitter = p.backoff?.jitter ?? 'none';
  if (p.backoff?.family !== 'exponential' || !['none', 'ratio'].includes(jitter) || p.backoff.base_max || p.backoff.add_max) misfit.push('backoff');
  if (typeof p.backoff?.retries !== 'number') misfit.push('backoff.retries');
  if (p.heartbeat?.mode !== 'client' || p.heartbeat.dead !== 'next-ping' || p.heartbeat.on_open) misfit.push('heartbeat');
  if (!p.queue?.enabled || p.queue.full !== 'error') misfit.push('queue');
  if (p.resume || p.connect?.handshake || p.connect?.subprotocol) misfit.push('resume or handshake');
  // QueueClient always puts its error close's code in the close frame; it
  // can report it on the next connect URL as well (both), not instead.
  const report = p.close?.report ?? 'frame';
  if (!['frame', 'both'].includes(report)) misfit.push('close.report');
  if (misfit.length > 0) throw new Error(`this client cannot play profile ${p.name}: its ${misfit.join(', ')} differ from QueueClient's`);
  return {
    backoffInitialMs: p.backoff.base,
    backoffFactor: p.backoff.factor,
    backoffMaxRetries: p.backoff.retries,
    backoffJitterRatio: jitter === 'ratio' ? p.backoff.ratio : 0,
    heartbeatIntervalMs: p.heartbeat.interval,
    queueLimit: p.queue.limit,
    connectTimeoutMs: p.connect?.timeout,
    backoffMaxMs: p.backoff.max ?? 0,
    resetAfterMs: p.backoff.reset_after ?? 0,
    fatalCodes: (p.close?.fatal ?? []).map(codeRange),
    closeCodeParam: report === 'both' ? p.close.query : '',
  };
}

// codeRange reads a fatal close code of the profile: 4401, or "4400-4499".
function codeRange(c) {
  const [lo, hi = lo] = String(c).split('-').map((x) => Number(x.trim()));
  if (!Number.isInteger(lo) || !Number.isInteger(hi)) throw new Error(`close.fatal: ${JSON.stringify(c)} is not a code or a range`);
  return [lo, hi];
}
// Sends with "when":"connected", waiting for the client's next connected
// state; each is made from inside the client's own state listener, as an
// application's open handler would, and only then replied to.
const waiting = new WhenConnected();

const commands = {
  connect(cmd) {
    if (client) throw new Error('connect comes once per process');
    if (typeof cmd.url !== 'string') throw new Error('connect needs a url');
    const c = new QueueClient(cmd.url, { ...optionsFor(cmd.profile), bugs });
    c.on('state', onState);
    c.on('message', (m) => emit({ event: 'message', type: m.type, payload: m.payload }));
    c.on('error', (err) => emit({ event: 'error', message: err.message }));
    c.on('log', (message) => emit({ event: 'log', message }));
    client = c;
    c.connect(); // returns once dialing has started; the reply does not wait for the open
  },
  send(cmd) {
    if (cmd.when !== undefined) return waiting.defer(cmd, willConnect() ? null : `the client will not connect again (state ${client.state})`);
    if (!client) throw new Error('no client yet: connect first');
    client.send(cmd.type, cmd.payload);
  },
  close() {
    if (!client) throw new Error('no client yet: connect first');
    client.close();
  },
};

function onState(state) {
  emit({ event: 'state', state });
  if (state === State.CONNECTED) {
    waiting.connected((cmd) => client.send(cmd.type, cmd.payload));
  } else if (!willConnect()) {
    // No connected state will come: every command still gets its one reply.
    waiting.fail(`the client will not connect again (state ${state})`);
  }
}

// willConnect: a connected state may still come (the adapter never restarts
// a client that gave up).
function willConnect() {
  return client === null || (client.state !== State.DISCONNECTED && client.state !== State.GAVE_UP);
}

const label = bugs.length > 0 ? ` (deliberate bugs: ${bugs.join(', ')})` : '';
runAdapter({
  client: `${name} ${version}${label}`,
  commands,
  // calibrate dials with the client's own WebSocket (ws).
  WebSocket,
  // The scenario is over: close the client, then let the close handshake
  // finish; the process exits by itself once nothing is left, or at the grace.
  onEnd: () => client?.close(),
});
