#!/usr/bin/env node
// The wschaos adapter for QueueClient: protocol version 2 of docs/adapter.md.
// Commands arrive on stdin and events leave on stdout, one JSON object per
// line; stderr carries debug output only.
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { QueueClient, BUGS, State } from './client.js';

const PROTOCOL = 2;
// How long stdin's end waits for the close handshake before exiting anyway;
// the harness kills the adapter after 2 s.
const EXIT_GRACE_MS = 1000;

const { name, version } = JSON.parse(readFileSync(new URL('./package.json', import.meta.url), 'utf8'));

// TEST FIXTURE: WSCHAOS_JS_BUG=no-reset,queue-overtake switches on the
// client's deliberate bugs, to show that the harness catches them.
const bugs = (process.env.WSCHAOS_JS_BUG ?? '').split(',').map((s) => s.trim()).filter(Boolean);
const unknown = bugs.filter((b) => !(b in BUGS));
if (unknown.length > 0) {
  process.stderr.write(`adapter: unknown WSCHAOS_JS_BUG ${unknown.join(', ')} (known: ${Object.keys(BUGS).join(', ')})\n`);
  process.exit(2);
}

// emit writes one line whole. stdout to a pipe is synchronous in Node on
// Linux and macOS, so lines leave in the order they were written.
function emit(obj) {
  process.stdout.write(JSON.stringify(obj) + '\n');
}
process.stdout.on('error', () => process.exit(0)); // the harness has gone

let client = null;

// optionsFor configures QueueClient from the resolved profile that connect
// carries (durations in milliseconds, already scaled). QueueClient speaks
// the queue profile's shape: {"type","payload"} messages, exponential
// backoff with a retry limit, an app-level ping, a bounded queue. A profile
// of another shape is refused, naming what does not fit.
function optionsFor(p) {
  if (p === null || typeof p !== 'object') throw new Error('connect needs a profile object');
  const misfit = [];
  if (p.envelope?.codec !== 'json' || p.envelope.type !== 'type' || p.envelope.payload !== 'payload') misfit.push('envelope');
  if (p.backoff?.family !== 'exponential' || p.backoff.jitter || p.backoff.base_max || p.backoff.add_max) misfit.push('backoff');
  if (typeof p.backoff?.retries !== 'number') misfit.push('backoff.retries');
  if (p.heartbeat?.mode !== 'client' || p.heartbeat.dead !== 'next-ping' || p.heartbeat.on_open) misfit.push('heartbeat');
  if (!p.queue?.enabled || p.queue.full !== 'error') misfit.push('queue');
  if (p.resume || p.connect?.handshake || p.connect?.subprotocol) misfit.push('resume or handshake');
  if (misfit.length > 0) throw new Error(`this client cannot play profile ${p.name}: its ${misfit.join(', ')} differ from QueueClient's`);
  return {
    backoffInitialMs: p.backoff.base,
    backoffFactor: p.backoff.factor,
    backoffMaxRetries: p.backoff.retries,
    heartbeatIntervalMs: p.heartbeat.interval,
    queueLimit: p.queue.limit,
    connectTimeoutMs: p.connect?.timeout,
  };
}
// DEFERRED, returned by a command, means its reply comes later.
const DEFERRED = Symbol('deferred');
// Sends with "when":"connected", waiting for the client's next connected
// state; each is made from inside the client's own state listener, as an
// application's open handler would, and only then replied to.
let whenConnected = [];

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
    if (cmd.when !== undefined) {
      if (cmd.when !== 'connected') throw new Error(`cannot send when ${JSON.stringify(cmd.when)}: only "connected"`);
      if (!willConnect()) throw new Error(`the client will not connect again (state ${client.state})`);
      whenConnected.push(cmd);
      return DEFERRED;
    }
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
    const due = whenConnected;
    whenConnected = [];
    for (const cmd of due) replyTo(cmd.id, () => client.send(cmd.type, cmd.payload));
  } else if (!willConnect()) {
    // No connected state will come: every command still gets its one reply.
    const due = whenConnected;
    whenConnected = [];
    for (const cmd of due) emit({ reply: cmd.id, ok: false, error: `the client will not connect again (state ${state})` });
  }
}

// willConnect: a connected state may still come (the adapter never restarts
// a client that gave up).
function willConnect() {
  return client === null || (client.state !== State.DISCONNECTED && client.state !== State.GAVE_UP);
}

// replyTo runs a command's effect and replies with its outcome.
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

// handle runs one command line and replies once it has taken effect.
function handle(line) {
  if (line.trim() === '') return;
  let cmd;
  try {
    cmd = JSON.parse(line);
  } catch (err) {
    cmd = null;
  }
  if (cmd === null || typeof cmd !== 'object' || Array.isArray(cmd) || cmd.id === undefined) {
    // Without an id there is nobody to reply to.
    process.stderr.write(`adapter: ignored a line that is not a command: ${line}\n`);
    emit({ event: 'log', message: `adapter ignored a line that is not a command: ${line}` });
    return;
  }
  const run = Object.hasOwn(commands, cmd.cmd) ? commands[cmd.cmd] : null;
  if (!run) {
    emit({ reply: cmd.id, ok: false, error: `unknown command ${JSON.stringify(cmd.cmd ?? null)}` });
    return;
  }
  replyTo(cmd.id, () => run(cmd));
}

const label = bugs.length > 0 ? ` (deliberate bugs: ${bugs.join(', ')})` : '';
emit({ event: 'ready', protocol: PROTOCOL, client: `${name} ${version}${label}` });

const input = createInterface({ input: process.stdin, crlfDelay: Infinity });
input.on('line', handle);
input.on('close', () => {
  // The scenario is over: close the client, then let the close handshake
  // finish; the process exits by itself once nothing is left, or at the grace.
  client?.close();
  setTimeout(() => process.exit(0), EXIT_GRACE_MS).unref();
});
