// adapter-kit.js as the harness drives an adapter built on it: a child
// process (fixtures/adapter.js), commands on stdin, lines on stdout.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const FIXTURE = fileURLToPath(new URL('../fixtures/adapter.js', import.meta.url));
// Every wait is bounded, so a hang fails instead; the harness gives an
// adapter 10 s for its ready line.
const DEADLINE_MS = 10000;

// start runs the fixture adapter, reading its stdout line by line; every
// line must be a whole JSON object. It is killed when test t ends.
function start(t, env = {}) {
  const child = spawn(process.execPath, [FIXTURE], { env: { ...process.env, ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
  t.after(() => child.kill());
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  const lines = [];
  const waiters = [];
  createInterface({ input: child.stdout }).on('line', (line) => {
    const obj = JSON.parse(line);
    lines.push(obj);
    for (const w of [...waiters]) if (w.pred(obj)) w.resolve(obj);
  });
  return {
    child,
    lines,
    stderr: () => stderr,
    write: (text) => child.stdin.write(text),
    send: (cmd) => child.stdin.write(JSON.stringify(cmd) + '\n'),
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

test('the first line is the ready event', async (t) => {
  const a = start(t);
  assert.deepEqual(await a.next(() => true, 'the first line'), { event: 'ready', protocol: 2, client: 'kit-fixture 1.0.0' });
});

test('the ready event lists the optional commands the adapter has', async (t) => {
  const a = start(t, { KIT_RECONNECT: '1' });
  assert.deepEqual(await a.next(() => true, 'the first line'), {
    event: 'ready', protocol: 2, client: 'kit-fixture 1.0.0', commands: ['reconnect'],
  });
});

test('a line that is not a command is logged with its number and skipped', async (t) => {
  const a = start(t);
  // Line 2 is blank (skipped, but counted); 3 is not JSON; 4 has no id; 5
  // has an id that is not a whole number; 6 is an array.
  a.write('{"id":1,"cmd":"ok"}\n\nnot json\n{"cmd":"ok"}\n{"id":1.5,"cmd":"ok"}\n[1]\n{"id":2,"cmd":"ok"}\n');
  assert.deepEqual(await a.next(reply(2), 'reply 2'), { reply: 2, ok: true });
  const logs = a.lines.filter((l) => l.event === 'log').map((l) => l.message);
  assert.deepEqual(logs, [
    'adapter ignored line 3, not a command: not json',
    'adapter ignored line 4, not a command: {"cmd":"ok"}',
    'adapter ignored line 5, not a command: {"id":1.5,"cmd":"ok"}',
    'adapter ignored line 6, not a command: [1]',
  ]);
  assert.deepEqual(a.lines.filter((l) => 'reply' in l).map((l) => l.reply), [1, 2], 'one reply per command, none for the skipped lines');
  assert.match(a.stderr(), /adapter: line 3 is not a command: not json\n/);
});

test('an unknown command gets ok: false naming it', async (t) => {
  const a = start(t);
  a.send({ id: 1, cmd: 'bogus' });
  a.send({ id: 2, cmd: 'toString' }); // not the commands object's own property
  a.send({ id: 3 });
  assert.deepEqual(await a.next(reply(1), 'reply 1'), { reply: 1, ok: false, error: 'unknown command "bogus"' });
  assert.deepEqual(await a.next(reply(2), 'reply 2'), { reply: 2, ok: false, error: 'unknown command "toString"' });
  assert.deepEqual(await a.next(reply(3), 'reply 3'), { reply: 3, ok: false, error: 'unknown command null' });
});

test('a command that throws gets ok: false with its message', async (t) => {
  const a = start(t);
  a.send({ id: 1, cmd: 'throws' });
  assert.deepEqual(await a.next(reply(1), 'reply 1'), { reply: 1, ok: false, error: 'it broke' });
});

test('an async command is replied to when it settles', async (t) => {
  const a = start(t);
  a.send({ id: 1, cmd: 'async', ms: 300 });
  a.send({ id: 2, cmd: 'async', ms: 100, error: 'no luck' });
  a.send({ id: 3, cmd: 'ok' });
  assert.deepEqual(await a.next(reply(1), 'reply 1'), { reply: 1, ok: true });
  assert.deepEqual(a.lines.filter((l) => 'reply' in l), [
    { reply: 3, ok: true },
    { reply: 2, ok: false, error: 'no luck' },
    { reply: 1, ok: true },
  ]);
});

test('a DEFERRED reply is sent later, by the adapter', async (t) => {
  const a = start(t);
  a.send({ id: 1, cmd: 'send', payload: 'a', when: 'connected' });
  a.send({ id: 2, cmd: 'send', payload: 'b', when: 'open' });
  a.send({ id: 3, cmd: 'send', payload: 'c' });
  assert.deepEqual(await a.next(reply(3), 'reply 3'), { reply: 3, ok: true });
  assert.deepEqual(await a.next(reply(2), 'reply 2'), { reply: 2, ok: false, error: 'cannot send when "open": only "connected"' });
  assert.equal(a.lines.find(reply(1)), undefined, 'no reply before the connected state');
  a.send({ id: 4, cmd: 'connected' });
  assert.deepEqual(await a.next(reply(1), 'reply 1'), { reply: 1, ok: true });
  await a.next(reply(4), 'reply 4');
  const i = (pred) => a.lines.findIndex(pred);
  assert.ok(i((l) => l.state === 'connected') < i((l) => l.message === 'sent a'), 'sent from the connected handler');
  assert.ok(i((l) => l.message === 'sent a') < i(reply(1)), 'replied once sent');
  assert.ok(i(reply(1)) < i(reply(4)));

  // A waiting send is refused when the connected state can no longer come,
  // and a new one at once.
  a.send({ id: 5, cmd: 'send', payload: 'd', when: 'connected' });
  a.send({ id: 6, cmd: 'close' });
  assert.deepEqual(await a.next(reply(5), 'reply 5'), { reply: 5, ok: false, error: 'the client was closed' });
  a.send({ id: 7, cmd: 'send', payload: 'e', when: 'connected' });
  assert.deepEqual(await a.next(reply(7), 'reply 7'), { reply: 7, ok: false, error: 'closed: no connected state will come' });
});

test('States reports states, and refuses waiting sends once no connected state can come', async (t) => {
  const a = start(t);
  a.send({ id: 1, cmd: 'state', state: 'reconnecting' });
  a.send({ id: 2, cmd: 'sendWhen', payload: 'a' });
  assert.deepEqual(await a.next(reply(1), 'reply 1'), { reply: 1, ok: true });
  assert.ok(a.lines.some((l) => l.event === 'state' && l.state === 'reconnecting'), 'the state is reported');
  a.send({ id: 3, cmd: 'state', state: 'gave-up' });
  assert.deepEqual(await a.next(reply(2), 'reply 2'), { reply: 2, ok: false, error: 'the client will not connect again (state gave-up)' });
  a.send({ id: 4, cmd: 'sendWhen', payload: 'b' });
  assert.deepEqual(await a.next(reply(4), 'reply 4'), { reply: 4, ok: false, error: 'the client will not connect again (state gave-up)' });
  // A client that comes back (Reconnect) may connect again.
  a.send({ id: 5, cmd: 'state', state: 'connecting' });
  a.send({ id: 6, cmd: 'sendWhen', payload: 'c' });
  a.send({ id: 7, cmd: 'state', state: 'connected' });
  assert.deepEqual(await a.next(reply(6), 'reply 6'), { reply: 6, ok: true });
  assert.ok(a.lines.some((l) => l.message === 'sent c'), 'sent from the connected handler');
});

test("stdin's end calls the end hook and exits after the grace period", async (t) => {
  const a = start(t);
  await a.next(() => true, 'the ready line');
  const began = performance.now();
  a.child.stdin.end();
  // The harness kills an adapter that is still there 2 s after stdin ends.
  const [code] = await once(a.child, 'exit', { signal: AbortSignal.timeout(2000) });
  assert.equal(code, 0, a.stderr());
  assert.ok(performance.now() - began >= 900, 'the client held the process open: it waited the grace period');
  assert.deepEqual(a.lines.at(-1), { event: 'log', message: 'end hook' });
});

test("stdin's end exits at once when the end hook lets the client go", async (t) => {
  const a = start(t, { KIT_FIXTURE_RELEASE: '1' });
  await a.next(() => true, 'the ready line');
  const began = performance.now();
  a.child.stdin.end();
  const [code] = await once(a.child, 'exit', { signal: AbortSignal.timeout(2000) });
  assert.equal(code, 0, a.stderr());
  assert.ok(performance.now() - began < 900, 'the grace timer does not hold the process open');
  assert.deepEqual(a.lines.at(-1), { event: 'log', message: 'end hook' });
});

// A stand-in for a WebSocket constructor with the browser's API: it opens,
// then closes, a moment after it is made, and records the URLs it dialed.
function fakeWebSocket(dialed) {
  return class {
    constructor(url) {
      dialed.push(url);
      setTimeout(() => this.onopen?.(), 1);
    }
    close() {
      setTimeout(() => this.onclose?.(), 1);
    }
  };
}

test('calibrator arms each timer, dials on each, and replies with when each fired', async () => {
  const { calibrator, ReplyFields } = await import('../adapter-kit.js');
  const dialed = [];
  const result = await calibrator(fakeWebSocket(dialed))({ id: 1, cmd: 'calibrate', url: 'ws://h/c', timers: [30, 5, 15] });
  assert.ok(result instanceof ReplyFields);
  const { fired } = result.fields;
  assert.equal(fired.length, 3);
  fired.forEach((f, i) => assert.ok(f >= [30, 5, 15][i] - 1, `timer ${i} fired at ${f} ms`));
  assert.deepEqual(dialed, ['ws://h/c?timer=1', 'ws://h/c?timer=2', 'ws://h/c?timer=0'], 'dialed as each fired, with its index');
  assert.throws(() => calibrator(fakeWebSocket([]))({ id: 2, cmd: 'calibrate', url: 'ws://h/c', timers: ['x'] }), /an array of delays/);
});

test('the ready event offers calibrate when the adapter gives its WebSocket', async (t) => {
  const a = start(t, { KIT_WEBSOCKET: '1' });
  assert.deepEqual((await a.next(() => true, 'the first line')).commands, ['calibrate']);
});
