#!/usr/bin/env node
// The wschaos adapter (protocol 2, docs/adapter.md) for seed 002's RxJS
// WebSocketService, compiled from src/ by `npm run build`. Commands arrive on
// stdin, events leave on stdout, one JSON object per line; the service's own
// console output goes to stderr.
//
// WSCHAOS_SEED002_STORE=open-connects makes the (unshown, filled-in) store's
// resetReconnect() also set the status "connected": the document's service
// never sets it, and this reading looks past that at the rest.
import { readFileSync, existsSync } from 'node:fs';
import { runAdapter, consoleToStderr, emit, WhenConnected } from '../adapter-kit/adapter-kit.js';

consoleToStderr();

const dist = new URL('./dist/socket.js', import.meta.url);
if (!existsSync(dist)) {
  process.stderr.write('adapter: dist/socket.js is missing: run `npm ci && npm run build` in examples/seed-002\n');
  process.exit(3);
}
const { websocketService } = await import(dist.href);
const { useConnectionStore, storeOptions } = await import(new URL('./dist/connection.js', import.meta.url).href);
const { name, version } = JSON.parse(readFileSync(new URL('./package.json', import.meta.url), 'utf8'));
const rxjsVersion = JSON.parse(readFileSync(new URL('./node_modules/rxjs/package.json', import.meta.url), 'utf8')).version;

const storeMode = process.env.WSCHAOS_SEED002_STORE ?? '';
if (storeMode !== '' && storeMode !== 'open-connects') {
  process.stderr.write(`adapter: unknown WSCHAOS_SEED002_STORE ${storeMode} (known: open-connects)\n`);
  process.exit(2);
}
storeOptions.openConnects = storeMode === 'open-connects';

let started = false;
let closed = false; // disconnect() was called
let gaveUp = false; // events$ completed without disconnect(): retry gave up

// configFor maps the resolved mattermost-family profile (milliseconds, already
// scaled) onto the four constants the document's IWebSocketConfig has:
// reconnectDelay = min, reconnectAttempts = max_fails, reconnectDelayMax = max,
// reconnectJitter = jitter. The service has no option for the rest (retries,
// heartbeat, connect timeout, resume): it is not mapped, and the scenarios show
// what the service does without it.
function configFor(url, p) {
  if (p === null || typeof p !== 'object') throw new Error('connect needs a profile object');
  const b = p.backoff ?? {};
  if (b.family !== 'mattermost') throw new Error(`the service's backoff is the mattermost family; profile ${p.name} has ${b.family}`);
  if (p.envelope?.codec !== 'json' || p.envelope.event_type !== 'event' || p.envelope.payload !== 'data') {
    throw new Error(`the service reads {"event","data","seq"} events; profile ${p.name}'s envelope differs`);
  }
  return {
    url,
    token: 'wschaos', // the document's connect() needs a token; the harness asks for none
    reconnectAttempts: b.max_fails,
    reconnectDelay: b.min,
    reconnectDelayMax: b.max,
    reconnectJitter: b.jitter ?? 0,
  };
}

const waiting = new WhenConnected();

// Every store action notifies (as zustand's set does); each status it sets
// is reported, so a "reconnecting" comes for every retry the service schedules.
function onStore(s, prev, action) {
  const sets = action === 'setConnectionState' || action === 'setStatus' || (action === 'resetReconnect' && s.status !== prev.status);
  if (!sets) return; // a count, seq or id update
  emit({ event: 'state', state: s.status });
  if (s.status === 'connected') waiting.connected(doSend);
}

// doSend sends through the service. send() returns nothing: when it refuses
// ("[WS] Cannot send - not connected") it only warns. The adapter reads the
// same condition the service checks, so a refused send is not reported as
// accepted.
function doSend(cmd) {
  const sent = websocketService.isConnected();
  websocketService.send(cmd.type, cmd.payload);
  if (!sent) throw new Error('the service dropped the send: not connected (it only logs a warning)');
}

const commands = {
  connect(cmd) {
    if (started) throw new Error('connect comes once per process');
    if (typeof cmd.url !== 'string') throw new Error('connect needs a url');
    const config = configFor(cmd.url, cmd.profile);
    useConnectionStore.subscribe(onStore);
    started = true;
    const events$ = websocketService.connect(config);
    events$.subscribe({
      next: (msg) => emit({ event: 'message', type: msg?.event ?? '', payload: msg?.data ?? msg ?? null }),
      complete: () => {
        if (closed) return;
        // catchError → EMPTY: the retry gave up; the service has no such state.
        gaveUp = true;
        emit({ event: 'state', state: 'gave-up' });
        waiting.fail('the service gave up');
      },
    });
  },
  send(cmd) {
    if (!started) throw new Error('no client yet: connect first');
    if (typeof cmd.type !== 'string') throw new Error('send needs a string type');
    if (cmd.when !== undefined) return waiting.defer(cmd, closed || gaveUp ? 'the service will not connect again' : null);
    doSend(cmd);
  },
  close() {
    if (!started) throw new Error('no client yet: connect first');
    closed = true;
    websocketService.disconnect();
    waiting.fail('the service was disconnected');
  },
};

const label = storeOptions.openConnects ? ' (store: open-connects)' : '';
runAdapter({
  client: `${name} ${version}, rxjs ${rxjsVersion} (seed 002 WebSocketService)${label}`,
  commands,
  onEnd() {
    if (started && !closed) {
      closed = true;
      websocketService.disconnect();
    }
  },
});
