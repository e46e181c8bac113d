#!/usr/bin/env node
// The wschaos adapter for the graphql-ws client (createClient): protocol
// version 2 of docs/adapter.md. Commands arrive on stdin and events leave on
// stdout, one JSON object per line; stderr carries debug output only.
// Line numbers below are node_modules/graphql-ws/dist/client.js's.
import { createRequire } from 'node:module';
import { runAdapter, consoleToStderr, emit, DEFERRED, WhenConnected, States } from '../adapter-kit/adapter-kit.js';
import { createClient, GRAPHQL_TRANSPORT_WS_PROTOCOL } from 'graphql-ws';
import WS from 'ws';

// Adapters own stdout; the library's default onNonLazyError is
// console.error, which is stderr already, but nothing may reach stdout.
consoleToStderr();

const require = createRequire(import.meta.url);
const LIBRARY = 'graphql-ws';
const libraryVersion = require(`${LIBRARY}/package.json`).version;

const MAX_TIMER_MS = 2 ** 31 - 1;

// WSCHAOS_GQL_RETRY=errors passes shouldRetry: () => true, so a dial that
// fails with an error event (a refused handshake, a refused TCP connect) is
// retried like a close. The library's default, shouldRetry = isLikeCloseEvent
// (L25, L484-486), makes such a failure fatal: see README.md.
const RETRY = process.env.WSCHAOS_GQL_RETRY ?? 'default';
if (RETRY !== 'default' && RETRY !== 'errors') {
  process.stderr.write(`adapter: WSCHAOS_GQL_RETRY is "default" or "errors", not ${JSON.stringify(RETRY)}\n`);
  process.exit(2);
}

// fatalCodes lists the library's own fatal close codes (L292-307, L487-506),
// to compare with the profile's close.fatal.
function libraryFatal(code) {
  if ([4500, 4005, 4400, 4004, 4401, 4406, 4409, 4429].includes(code)) return true;
  if ([1000, 1001, 1006, 1005, 1012, 1013, 1014].includes(code)) return false;
  return code >= 1000 && code <= 1999;
}

function profileFatal(p) {
  const set = new Set();
  for (const f of p.close?.fatal ?? []) {
    if (typeof f === 'number') set.add(f);
    else {
      const [lo, hi] = String(f).split('-').map(Number);
      for (let c = lo; c <= (hi ?? lo); c++) set.add(c);
    }
  }
  return set;
}

// retryWaitFor is the profile's exponential schedule as the library's
// retryWait option: the library calls it with the number of retries made
// since the last ack, from 0 (L128-134), so failure n waits
// base·factor^(n-1) (capped at max) plus a draw from [add_min, add_max),
// the library's default shape (2^retries s + [300 ms, 3 s), L15-24) with the
// profile's scaled numbers.
function retryWaitFor(b, onWait) {
  return (retries) => {
    let w = b.base * Math.pow(b.factor, retries);
    if (b.max && w > b.max) w = b.max;
    if (b.add_max) w += Math.floor(Math.random() * (b.add_max - (b.add_min ?? 0)) + (b.add_min ?? 0));
    onWait(retries, w);
    return new Promise((resolve) => setTimeout(resolve, Math.min(w, MAX_TIMER_MS)));
  };
}

// optionsFor maps the resolved profile (durations in milliseconds, already
// scaled) onto createClient's options, or throws naming what the library
// cannot do.
function optionsFor(p) {
  if (p === null || typeof p !== 'object') throw new Error('connect needs a profile object');
  const misfit = [];
  const e = p.envelope ?? {};
  if (e.codec !== 'json' || e.type !== 'type' || e.payload !== 'payload') misfit.push('envelope (the library writes {"id","type","payload"})');
  const b = p.backoff ?? {};
  if (b.family !== 'exponential' || (b.jitter && b.jitter !== 'none') || b.base_max) misfit.push('backoff family or jitter (the adapter maps exponential with add_min/add_max onto retryWait)');
  if (typeof b.retries !== 'number') misfit.push('backoff.retries unlimited (retryAttempts is a number)');
  if (b.reset_after) misfit.push('backoff.reset_after (the library resets its count on the ack, L236-238)');
  if (p.connect?.subprotocol !== GRAPHQL_TRANSPORT_WS_PROTOCOL) misfit.push(`subprotocol (the library offers ${GRAPHQL_TRANSPORT_WS_PROTOCOL}, L137-140)`);
  const h = p.connect?.handshake;
  if (h?.type !== 'connection_init' || h?.reply_type !== 'connection_ack') misfit.push('handshake (connection_init / connection_ack)');
  const hb = p.heartbeat ?? { mode: 'none' };
  if (hb.mode !== 'server' && hb.mode !== 'none') misfit.push(`heartbeat mode ${hb.mode} (the library only answers the server's pings unless keepAlive is set, and then never checks the answer)`);
  if (hb.mode === 'server' && (hb.ping_type !== 'ping' || hb.pong_type !== 'pong')) misfit.push('heartbeat ping/pong types');
  if (p.close?.code !== 1000 || (p.close?.report && p.close.report !== 'frame')) misfit.push('close (dispose() closes with 1000, L463-469)');
  const fatal = profileFatal(p);
  const differ = [];
  for (let c = 1000; c <= 4999; c++) if (fatal.has(c) !== libraryFatal(c)) differ.push(c);
  if (differ.length) misfit.push(`close.fatal (differs from the library's on ${differ.slice(0, 5).join(', ')}${differ.length > 5 ? '…' : ''})`);
  if (p.queue?.enabled) misfit.push('queue (the library has no offline queue)');
  if (p.resume) misfit.push('resume');
  if (p.connect?.timeout) misfit.push('connect.timeout (the library bounds only the wait for the ack, connectionAckWaitTimeout, closing with 4504; not the dial)');
  if (misfit.length > 0) throw new Error(`${LIBRARY} cannot play profile ${p.name}: ${misfit.join('; ')}`);
  return {
    retryAttempts: b.retries,
    connectionParams: h.data ?? undefined,
  };
}

let client = null;
let disposing = false;
let everConnected = false;
const waiting = new WhenConnected();

const states = new States(waiting);
const state = (s) => states.report(s);

// subscribe starts a subscription, the one request graphql-ws lets an
// application send: the harness's payload becomes the request. A payload
// with a string query is the request itself; anything else is carried as
// the query's text, since the library refuses a subscribe without a string
// query (common-*.js validateMessage).
function subscribe(cmd) {
  if (cmd.type !== 'subscribe') throw new Error(`graphql-ws sends only subscribe requests, not ${JSON.stringify(cmd.type)}`);
  const pl = cmd.payload;
  const request = pl !== null && typeof pl === 'object' && typeof pl.query === 'string'
    ? pl
    : { query: typeof pl === 'string' ? pl : JSON.stringify(pl) };
  // Every server message reaches the adapter through the client's
  // 'message' event already; the sink only logs the subscription's end.
  client.subscribe(request, {
    next: () => {},
    error: (err) => emit({ event: 'log', message: `subscription ${JSON.stringify(request.query)} ended with an error: ${errText(err)}` }),
    complete: () => emit({ event: 'log', message: `subscription ${JSON.stringify(request.query)} completed` }),
  });
  if (states.last !== 'connected') emit({ event: 'log', message: 'subscribe accepted while not connected: the library sends it after the next connection_ack' });
}

function errText(err) {
  if (err && typeof err === 'object' && 'code' in err) return `close ${err.code} ${err.reason ?? ''}`.trim();
  if (err instanceof Error) return err.message;
  if (err && typeof err === 'object' && 'message' in err) return String(err.message);
  try {
    return JSON.stringify(err);
  } catch {
    return String(err);
  }
}

const commands = {
  connect(cmd) {
    if (client) throw new Error('connect comes once per process');
    if (typeof cmd.url !== 'string') throw new Error('connect needs a url');
    const opts = optionsFor(cmd.profile);
    client = createClient({
      url: cmd.url,
      webSocketImpl: WS,
      lazy: false, // connect now, and hold the connection without a subscription (L315-331)
      ...opts,
      ...(RETRY === 'errors' ? { shouldRetry: () => true } : {}),
      retryWait: retryWaitFor(cmd.profile.backoff, (retries, w) => {
        // The library has decided to retry (L311-313) and waits now.
        emit({ event: 'log', message: `retry ${retries + 1} in ${w} ms` });
        state('reconnecting');
      }),
      // The non-lazy loop ends here when it stops retrying (L322-327):
      // a fatal close, retryAttempts used up, or shouldRetry said no.
      onNonLazyError: (err) => {
        emit({ event: 'error', message: errText(err) });
        state(disposing ? 'disconnected' : 'gave-up');
      },
      on: {
        connecting: (isRetry) => {
          // A 1000 close is retried at once without retryWait (L309-310):
          // report the retry before its dial.
          if (everConnected && states.last === 'connected') state('reconnecting');
          state('connecting');
        },
        connected: () => {
          everConnected = true;
          state('connected');
          waiting.connected(subscribe);
        },
        closed: (ev) => {
          emit({ event: 'log', message: `closed ${errText(ev)}` });
          if (disposing) state('disconnected');
        },
        error: (err) => emit({ event: 'error', message: errText(err) }),
        message: (m) => emit({ event: 'message', type: m.type ?? '', payload: m.payload ?? null }),
      },
    });
  },
  send(cmd) {
    if (!client) throw new Error('no client yet: connect first');
    if (typeof cmd.type !== 'string') throw new Error('send needs a string type');
    if (cmd.when !== undefined) return waiting.defer(cmd, states.refusal());
    subscribe(cmd);
  },
  close(cmd) {
    if (!client) throw new Error('no client yet: connect first');
    disposing = true;
    // dispose() closes with 1000 once the pending connection is up
    // (L463-469); the reply waits for it.
    client.dispose().then(
      () => emit({ reply: cmd.id, ok: true }),
      (err) => emit({ reply: cmd.id, ok: true, note: `dispose settled with ${errText(err)}` }),
    );
    return DEFERRED;
  },
};

const label = RETRY === 'errors' ? ' (shouldRetry: () => true)' : '';
runAdapter({
  client: `${LIBRARY} ${libraryVersion}${label}`,
  commands,
  onEnd() {
    disposing = true;
    client?.dispose().catch(() => {});
  },
});
