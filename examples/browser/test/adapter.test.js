// adapter.js as the harness drives it: a child process that launches
// Chromium, with commands on stdin and only protocol lines on stdout.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const ADAPTER = fileURLToPath(new URL('../adapter.js', import.meta.url));
// The harness gives an adapter 10 s for its ready line; Chromium's launch is
// inside that, so it bounds every wait here too.
const DEADLINE_MS = 10000;

const QUEUE_PROFILE = {
  name: 'queue',
  envelope: { codec: 'json', type: 'type', payload: 'payload' },
  connect: { timeout: 2500 },
  backoff: { family: 'exponential', base: 250, factor: 2, retries: 5, reset_after: 0 },
  heartbeat: { mode: 'client', interval: 7500, ping_type: 'ping', pong_type: 'pong', dead: 'next-ping', close_code: 4000 },
  close: { code: 1000, report: 'frame' },
  queue: { enabled: true, limit: 256, full: 'error' },
};

test('only protocol lines reach stdout, each reply after the events its command caused', async (t) => {
  const child = spawn(process.execPath, [ADAPTER], { stdio: ['pipe', 'pipe', 'pipe'] });
  t.after(() => child.kill());
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  const lines = [];
  const waiters = [];
  createInterface({ input: child.stdout }).on('line', (line) => {
    const obj = JSON.parse(line); // a browser log line on stdout would throw here
    assert.ok(obj !== null && typeof obj === 'object', `not an object: ${line}`);
    lines.push(obj);
    for (const w of [...waiters]) if (w.pred(obj)) w.resolve(obj);
  });
  const send = (cmd) => child.stdin.write(JSON.stringify(cmd) + '\n');
  const next = (pred, what) => {
    const seen = lines.find(pred);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}; got ${JSON.stringify(lines)}; stderr: ${stderr}`)), DEADLINE_MS);
      waiters.push({ pred, resolve: (obj) => (clearTimeout(timer), resolve(obj)) });
    });
  };
  const reply = (id) => next((l) => l.reply === id, `the reply to ${id}`);

  const ready = await next((l) => l.event === 'ready', 'ready');
  assert.equal(lines[0], ready, 'ready is the first line');
  assert.equal(ready.protocol, 2);
  assert.match(ready.client, /Chrome/, 'the ready line names the browser');

  send({ id: 1, cmd: 'send', type: 'message.send', payload: { text: 'early' } });
  assert.deepEqual(await reply(1), { reply: 1, ok: false, error: 'no client yet: connect first' });

  send({ id: 2, cmd: 'connect', url: 'ws://127.0.0.1:9/ws', scale: 0.25, profile: { ...QUEUE_PROFILE, envelope: { codec: 'text' } } });
  const misfit = await reply(2);
  assert.equal(misfit.ok, false);
  assert.match(misfit.error, /envelope/);

  // Port 9 refuses: the client starts, and keeps retrying.
  send({ id: 3, cmd: 'connect', url: 'ws://127.0.0.1:9/ws', scale: 0.25, profile: QUEUE_PROFILE });
  assert.equal((await reply(3)).ok, true);
  const at = (pred) => lines.findIndex(pred);
  assert.ok(at((l) => l.event === 'state' && l.state === 'connecting') < at((l) => l.reply === 3), 'connecting comes before the reply to connect');

  send({ id: 4, cmd: 'send', type: 'message.send', payload: { text: 'queued' } });
  assert.deepEqual(await reply(4), { reply: 4, ok: true });
  send({ id: 5, cmd: 'close' });
  assert.deepEqual(await reply(5), { reply: 5, ok: true });
  assert.ok(at((l) => l.event === 'state' && l.state === 'disconnected') < at((l) => l.reply === 5), 'disconnected comes before the reply to close');

  // stdin's end: the adapter closes the browser and exits within the 2 s
  // the harness gives it.
  const started = Date.now();
  child.stdin.end();
  const [code] = await once(child, 'exit');
  assert.equal(code, 0, stderr);
  assert.ok(Date.now() - started < 2000, `exited ${Date.now() - started} ms after stdin's end`);
});
