// adapter.js speaking protocol 2 of docs/adapter.md, as the harness would
// drive it: a child process, commands on stdin, events on stdout.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { WebSocketServer } from 'ws';

const ADAPTER = fileURLToPath(new URL('../adapter.js', import.meta.url));
// Every wait is bounded: the harness gives an adapter 10 s for its ready
// line (a loaded machine starts node slowly), so that bounds them all.
const DEADLINE_MS = 10000;

// startAdapter runs the adapter and reads its stdout line by line; every
// line must be a whole JSON object. The process is killed when test t ends,
// even when it fails: a child left running would keep the test alive.
function startAdapter(t, env = {}) {
  const child = spawn(process.execPath, [ADAPTER], {
    env: { ...process.env, WSCHAOS_ADAPTER_PROTOCOL: '1', ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  t.after(() => child.kill());
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  const lines = [];
  const waiters = [];
  createInterface({ input: child.stdout }).on('line', (line) => {
    const obj = JSON.parse(line); // throws, failing the test, on a broken line
    assert.equal(typeof obj, 'object');
    lines.push(obj);
    for (const w of [...waiters]) if (w.pred(obj)) w.resolve(obj);
  });
  return {
    child,
    lines,
    stderr: () => stderr,
    send: (cmd) => child.stdin.write(JSON.stringify(cmd) + '\n'),
    // next resolves with the first line, seen or to come, that pred accepts.
    next(pred, what) {
      const seen = lines.find(pred);
      if (seen) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}; got ${JSON.stringify(lines)}`)), DEADLINE_MS);
        waiters.push({ pred, resolve: (obj) => (clearTimeout(timer), resolve(obj)) });
      });
    },
  };
}

const reply = (id) => (l) => l.reply === id;

// The queue profile as connect carries it: resolved, durations in
// milliseconds, scaled (here by 0.01, with a slower heartbeat).
const QUEUE_PROFILE = {
  name: 'queue',
  envelope: { codec: 'json', type: 'type', payload: 'payload' },
  connect: { timeout: 100 },
  backoff: { family: 'exponential', base: 10, factor: 2, retries: 5, reset_after: 0 },
  heartbeat: { mode: 'client', interval: 5000, ping_type: 'ping', pong_type: 'pong', dead: 'next-ping', close_code: 4000 },
  close: { code: 1000, report: 'frame' },
  queue: { enabled: true, limit: 256, full: 'error' },
  error_type: 'error',
  send_type: 'message.send',
  ack_type: 'message.received',
};
const state = (s) => (l) => l.event === 'state' && l.state === s;

test('the adapter handshake, commands, events, and exit on stdin end', async (t) => {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await once(wss, 'listening');
  t.after(() => {
    for (const ws of wss.clients) ws.terminate();
    wss.close();
  });
  const got = [];
  let code = null;
  wss.on('connection', (ws) => {
    ws.on('message', (d) => got.push(JSON.parse(d.toString())));
    ws.on('close', (c) => (code = c));
    ws.send(JSON.stringify({ type: 'panel.updated', payload: { n: 1 } }));
  });
  const url = `ws://127.0.0.1:${wss.address().port}/ws`;
  const a = startAdapter(t);

  const ready = await a.next(() => true, 'the first line');
  assert.equal(ready.event, 'ready');
  assert.equal(ready.protocol, 2);
  assert.match(ready.client, /^wschaos-example-queue-client \d+\.\d+\.\d+$/);

  a.send({ id: 1, cmd: 'bogus' });
  assert.deepEqual(await a.next(reply(1), 'reply 1'), { reply: 1, ok: false, error: 'unknown command "bogus"' });

  a.send({ id: 2, cmd: 'send', type: 'message.send', payload: { text: 'early' } });
  assert.equal((await a.next(reply(2), 'reply 2')).ok, false);

  // A profile of another shape is refused, naming what does not fit.
  a.send({ id: 10, cmd: 'connect', url, profile: { ...QUEUE_PROFILE, name: 'mattermost', envelope: { codec: 'json', request_type: 'action', event_type: 'event' } } });
  const refused = await a.next(reply(10), 'reply 10');
  assert.equal(refused.ok, false);
  assert.match(refused.error, /cannot play profile mattermost: its envelope differ/);

  a.send({
    id: 3,
    cmd: 'connect',
    url,
    scale: 0.01,
    profile: QUEUE_PROFILE,
  });
  assert.deepEqual(await a.next(reply(3), 'reply 3'), { reply: 3, ok: true });
  await a.next(state('connecting'), 'state connecting');
  await a.next(state('connected'), 'state connected');
  const m = await a.next((l) => l.event === 'message', 'a message event');
  assert.deepEqual(m, { event: 'message', type: 'panel.updated', payload: { n: 1 } });

  a.send({ id: 4, cmd: 'send', type: 'message.send', payload: { text: 'm1' } });
  assert.deepEqual(await a.next(reply(4), 'reply 4'), { reply: 4, ok: true });

  // A send "when connected" waits for the next open: the server drops this
  // socket, the client reconnects, and the send goes out behind the queue.
  a.send({ id: 7, cmd: 'send', type: 'message.send', payload: { text: 'after-open' }, when: 'connected' });
  a.send({ id: 8, cmd: 'send', type: 'message.send', payload: { text: 'bad' }, when: 'open' });
  assert.equal((await a.next(reply(8), 'reply 8')).ok, false);
  for (const ws of wss.clients) ws.close(1001, 'restart');
  await a.next(state('reconnecting'), 'state reconnecting');
  a.send({ id: 9, cmd: 'send', type: 'message.send', payload: { text: 'queued' } });
  assert.deepEqual(await a.next(reply(9), 'reply 9'), { reply: 9, ok: true });
  assert.deepEqual(await a.next(reply(7), 'reply 7'), { reply: 7, ok: true });
  const connected = a.lines.findLastIndex(state('connected'));
  assert.ok(connected < a.lines.findIndex(reply(7)), 'the deferred send replied before the connected state');

  a.send({ id: 5, cmd: 'connect', url, profile: QUEUE_PROFILE });
  assert.equal((await a.next(reply(5), 'reply 5')).ok, false); // once per process

  a.send({ id: 6, cmd: 'close' });
  assert.deepEqual(await a.next(reply(6), 'reply 6'), { reply: 6, ok: true });
  const stateLines = a.lines.filter((l) => l.event === 'state').map((l) => l.state);
  assert.equal(stateLines.at(-1), 'disconnected');

  a.child.stdin.end();
  // The harness kills an adapter that is still there 2 s after stdin ends.
  const [exitCode] = await once(a.child, 'exit', { signal: AbortSignal.timeout(2000) });
  assert.equal(exitCode, 0, a.stderr());
  assert.equal(code, 1000);
  assert.deepEqual(
    got.filter((m) => m.type === 'message.send').map((m) => m.payload.text),
    ['m1', 'queued', 'after-open'],
  );
});

test('an unknown WSCHAOS_JS_BUG stops the adapter before ready', async (t) => {
  const a = startAdapter(t, { WSCHAOS_JS_BUG: 'no-reset,nonsense' });
  const [exitCode] = await once(a.child, 'exit', { signal: AbortSignal.timeout(DEADLINE_MS) });
  assert.notEqual(exitCode, 0);
  assert.equal(a.lines.length, 0);
  assert.match(a.stderr(), /unknown WSCHAOS_JS_BUG nonsense/);
});

test('WSCHAOS_JS_BUG names the bugs in the ready line', async (t) => {
  const a = startAdapter(t, { WSCHAOS_JS_BUG: 'no-reset' });
  const ready = await a.next(() => true, 'the first line');
  assert.match(ready.client, /deliberate bugs: no-reset/);
  a.child.stdin.end();
  const [exitCode] = await once(a.child, 'exit', { signal: AbortSignal.timeout(DEADLINE_MS) });
  assert.equal(exitCode, 0);
});

test('a profile reporting the close code on the connect URL sets closeCodeParam; one reporting it there only is refused', async (t) => {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await once(wss, 'listening');
  t.after(() => {
    for (const ws of wss.clients) ws.terminate();
    wss.close();
  });
  const urls = [];
  wss.on('connection', (ws, req) => {
    urls.push(req.url);
    if (urls.length === 1) ws.close(1001, 'restart');
  });
  const url = `ws://127.0.0.1:${wss.address().port}/ws`;
  const a = startAdapter(t);
  await a.next(() => true, 'the first line');

  // QueueClient always puts the code in the close frame too.
  a.send({ id: 1, cmd: 'connect', url, profile: { ...QUEUE_PROFILE, close: { code: 1000, report: 'query', query: 'disconnect_err_code' } } });
  const refused = await a.next(reply(1), 'reply 1');
  assert.equal(refused.ok, false);
  assert.match(refused.error, /its close.report differ/);

  a.send({ id: 2, cmd: 'connect', url, profile: { ...QUEUE_PROFILE, close: { code: 1000, report: 'both', query: 'disconnect_err_code' } } });
  assert.deepEqual(await a.next(reply(2), 'reply 2'), { reply: 2, ok: true });
  await a.next((l) => l.event === 'state' && l.state === 'connected' && urls.length === 2, 'the reconnect');
  assert.deepEqual(urls, ['/ws', '/ws?disconnect_err_code=1001']);
  a.child.stdin.end();
  await once(a.child, 'exit', { signal: AbortSignal.timeout(DEADLINE_MS) });
});
