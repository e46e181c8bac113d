// QueueClient against a tiny in-test server, with the profile's timings
// scaled down to milliseconds so the whole file runs in about a second.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { WebSocketServer } from 'ws';
import { QueueClient } from '../client.js';

// Every wait in this file is bounded by this, so a hang fails instead.
const DEADLINE_MS = 5000;

// startServer listens on a free loopback port. handle(ws, n) gets the n-th
// (1-based) accepted socket; refuse makes every handshake fail with 503,
// or, a function, those of the dials n (1-based) it returns true for. urls
// are the dials' request URLs, in order.
// The server is closed when test t ends, even when it fails: a socket left
// open would keep the test process alive.
async function startServer(t, { handle = () => {}, refuse = false } = {}) {
  const dials = []; // when each handshake arrived, in ms
  const urls = [];
  const wss = new WebSocketServer({
    host: '127.0.0.1',
    port: 0,
    verifyClient: (info, cb) => {
      dials.push(performance.now());
      urls.push(info.req.url);
      cb(!(typeof refuse === 'function' ? refuse(dials.length) : refuse), 503);
    },
  });
  await once(wss, 'listening');
  let n = 0;
  wss.on('connection', (ws) => handle(ws, ++n));
  let closed = null;
  const close = () =>
    (closed ??= new Promise((resolve) => {
      for (const ws of wss.clients) ws.terminate();
      wss.close(resolve);
    }));
  t.after(close);
  return { url: `ws://127.0.0.1:${wss.address().port}/ws`, dials, urls, close };
}

// newClient makes a client that is closed when test t ends.
function newClient(t, url, options) {
  const c = new QueueClient(url, options);
  t.after(() => c.close());
  return c;
}

// recorder collects what the client reports, and waits for it.
function recorder(client) {
  const states = [];
  const details = [];
  const errors = [];
  const waiters = [];
  const check = () => {
    for (const w of [...waiters]) {
      if (w.pred()) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve();
      }
    }
  };
  client.on('state', (s, d) => {
    states.push(s);
    details.push(d);
    check();
  });
  client.on('error', (e) => {
    errors.push(e.message);
    check();
  });
  const until = (pred, what) =>
    new Promise((resolve, reject) => {
      if (pred()) return resolve();
      const timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}; states: ${states.join(' ')}`)), DEADLINE_MS);
      waiters.push({ pred, resolve: () => (clearTimeout(timer), resolve()) });
    });
  return { states, details, errors, until };
}

// messages collects the parsed frames of one server-side socket.
function messages(ws) {
  const got = [];
  ws.on('message', (data) => got.push(JSON.parse(data.toString())));
  return got;
}

async function eventually(pred, what) {
  const end = performance.now() + DEADLINE_MS;
  while (!pred()) {
    if (performance.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(5);
  }
}

const fast = { backoffInitialMs: 20, backoffFactor: 2, backoffMaxRetries: 5, heartbeatIntervalMs: 10000 };

test('the offline queue is flushed in order, before anything sent after the open', async (t) => {
  for (const bugs of [[], ['queue-overtake']]) {
    await t.test(bugs.length ? `with bug ${bugs}` : 'correct client', async (t) => {
      const got = {};
      const srv = await startServer(t, {
        handle: (ws, n) => {
          got[n] = messages(ws);
          if (n === 1) ws.on('message', () => ws.close(1001, 'restart')); // after q0
        },
      });
      const c = newClient(t, srv.url, { ...fast, bugs });
      const r = recorder(c);
      c.on('state', (s) => {
        if (s === 'reconnecting' && c.queued === 0) ['a1', 'a2', 'a3'].forEach((id) => c.send('message.send', { id }));
        if (s === 'connected' && r.states.filter((x) => x === 'connected').length === 2) c.send('message.send', { id: 'after' });
      });
      c.send('message.send', { id: 'q0' }); // queued before the first open
      c.connect();
      await eventually(() => got[2]?.length === 4, 'four messages on the second connection');
      c.close();
      await srv.close();
      assert.deepEqual(got[1].map((m) => m.payload.id), ['q0']);
      const order = got[2].map((m) => m.payload.id);
      if (bugs.length) assert.deepEqual(order, ['after', 'a1', 'a2', 'a3']);
      else assert.deepEqual(order, ['a1', 'a2', 'a3', 'after']);
      assert.equal(got[2][0].type, 'message.send');
    });
  }
});

test('the queue is bounded and says so when full', async () => {
  const c = new QueueClient('ws://127.0.0.1:9/ws', { ...fast, queueLimit: 3 });
  for (const id of ['m1', 'm2', 'm3']) c.send('message.send', { id });
  assert.throws(() => c.send('message.send', { id: 'm4' }), { message: 'queue full (3 messages)' });
  assert.equal(c.queued, 3);
  c.close();
  assert.throws(() => c.send('message.send', { id: 'm5' }), { message: 'client is closed' });
});

test('a refused client waits initial·factor^(n-1) after failure n and gives up at the sixth', async (t) => {
  const srv = await startServer(t, { refuse: true });
  const c = newClient(t, srv.url, fast);
  const r = recorder(c);
  c.connect();
  await r.until(() => r.states.includes('gave-up'), 'gave-up');
  await sleep(100); // nothing may follow
  c.close();
  await srv.close();

  assert.deepEqual(r.states, ['connecting', ...Array(5).fill('reconnecting'), 'gave-up', 'disconnected']);
  assert.equal(srv.dials.length, 6);
  const waits = srv.dials.slice(1).map((at, i) => at - srv.dials[i]);
  [20, 40, 80, 160, 320].forEach((want, i) => {
    // Never early (1 ms for clock granularity). Late only by scheduling,
    // which a loaded machine stretches, so the upper bound is loose.
    assert.ok(waits[i] >= want - 1 && waits[i] < want + 1000, `wait ${i + 1} was ${waits[i].toFixed(1)} ms, want ${want}`);
  });
  assert.match(r.errors.at(-1), /^gave up after 6 failed attempts/);
});

test('the failure count resets on every open, unless the no-reset bug is on', async (t) => {
  for (const bugs of [[], ['no-reset']]) {
    await t.test(bugs.length ? `with bug ${bugs}` : 'correct client', async (t) => {
      // Accept, then close at once: the accept-then-close loop.
      const srv = await startServer(t, { handle: (ws) => ws.close(1001, 'going away') });
      const client = newClient(t, srv.url, { ...fast, bugs });
      const r = recorder(client);
      client.connect();
      await r.until(() => r.details.filter(Boolean).length >= 5 || r.states.includes('gave-up'), 'five failures');
      client.close();
      await srv.close();
      const waits = r.details.filter((d) => d?.startsWith('retry')).slice(0, 5);
      if (bugs.length) {
        assert.deepEqual(waits, ['retry 1 in 20 ms', 'retry 2 in 40 ms', 'retry 3 in 80 ms', 'retry 4 in 160 ms', 'retry 5 in 320 ms']);
      } else {
        assert.deepEqual(waits, Array(5).fill('retry 1 in 20 ms'));
      }
    });
  }
});

test('close sends 1000 and never reconnects', async (t) => {
  let code = null;
  const srv = await startServer(t, { handle: (ws) => ws.on('close', (c) => (code = c)) });
  const c = newClient(t, srv.url, fast);
  const r = recorder(c);
  c.connect();
  await r.until(() => r.states.includes('connected'), 'connected');
  c.close();
  assert.equal(c.state, 'disconnected');
  await eventually(() => code !== null, 'the server to see the close');
  await sleep(100); // longer than the first backoff
  await srv.close();
  assert.equal(code, 1000);
  assert.equal(srv.dials.length, 1);
});

test('close while dialing leaves no socket and no retry', async (t) => {
  const srv = await startServer(t, { refuse: true });
  const c = newClient(t, srv.url, fast);
  c.connect();
  c.close(); // before the handshake could finish
  await sleep(100);
  await srv.close();
  assert.ok(srv.dials.length <= 1, `dialed ${srv.dials.length} times`);
});

test('an unanswered ping closes with 4000 and reconnects, unless the no-pong-check bug is on', async (t) => {
  for (const bugs of [[], ['no-pong-check']]) {
    await t.test(bugs.length ? `with bug ${bugs}` : 'correct client', async (t) => {
      const codes = [];
      const pings = [];
      // A half-open server: it takes pings and never answers.
      const srv = await startServer(t, {
        handle: (ws, n) => {
          pings[n] = messages(ws);
          ws.on('close', (code) => codes.push(code));
        },
      });
      const client = newClient(t, srv.url, { ...fast, heartbeatIntervalMs: 40, bugs });
      client.connect();
      if (bugs.length) {
        // Three unanswered pings: a correct client closed at the second.
        await eventually(() => pings[1]?.length >= 3, 'three pings');
        assert.equal(srv.dials.length, 1);
        assert.deepEqual(codes, []);
      } else {
        await eventually(() => srv.dials.length >= 2 && codes.length >= 1, 'a close and a reconnect');
        assert.equal(codes[0], 4000);
        assert.deepEqual(pings[1], [{ type: 'ping' }]);
      }
      client.close();
      await srv.close();
    });
  }
});

test('answered pings keep the socket; a server "error" message sets state error', async (t) => {
  const srv = await startServer(t, {
    handle: (ws) =>
      ws.on('message', (data) => {
        const m = JSON.parse(data.toString());
        if (m.type === 'ping') ws.send(JSON.stringify({ type: 'pong' }));
        if (m.type === 'fail') ws.send(JSON.stringify({ type: 'error', payload: { message: 'boom' } }));
      }),
  });
  // Wide enough that a loaded machine cannot make a pong look late.
  const c = newClient(t, srv.url, { ...fast, heartbeatIntervalMs: 150 });
  const r = recorder(c);
  const got = [];
  c.on('message', (m) => got.push(m.type));
  c.connect();
  await eventually(() => got.filter((type) => type === 'pong').length >= 3, 'three pongs');
  assert.equal(srv.dials.length, 1); // answered pings never close the socket
  c.send('fail');
  await r.until(() => c.state === 'error', 'state error');
  assert.ok(r.errors.includes('server error: boom'));
  c.close();
  await srv.close();
});

test('with backoffMaxMs the waits stop growing at the cap, unless the no-cap bug is on', async (t) => {
  for (const bugs of [[], ['no-cap']]) {
    await t.test(bugs.length ? `with bug ${bugs}` : 'correct client', async (t) => {
      const srv = await startServer(t, { refuse: true });
      const c = newClient(t, srv.url, { ...fast, backoffMaxMs: 60, bugs });
      const r = recorder(c);
      c.connect();
      await r.until(() => r.states.includes('gave-up'), 'gave-up');
      c.close();
      await srv.close();
      const waits = r.details.filter((d) => d?.startsWith('retry')).map((d) => Number(d.match(/in (\d+) ms/)[1]));
      assert.deepEqual(waits, bugs.length ? [20, 40, 80, 160, 320] : [20, 40, 60, 60, 60]);
    });
  }
});

test('with resetAfterMs a connection that drops at once keeps the count, one up long enough resets it', async (t) => {
  for (const bugs of [[], ['reset-before-uptime']]) {
    await t.test(bugs.length ? `with bug ${bugs}` : 'correct client', async (t) => {
      // Connections 1 and 2 close at once; connection 3 stays up 150 ms.
      const srv = await startServer(t, { handle: (ws, n) => setTimeout(() => ws.close(1001, 'going away'), n < 3 ? 0 : 150) });
      const c = newClient(t, srv.url, { ...fast, resetAfterMs: 100, bugs });
      const r = recorder(c);
      c.connect();
      await r.until(() => r.details.filter((d) => d?.startsWith('retry')).length >= 3, 'three failures');
      c.close();
      await srv.close();
      const waits = r.details.filter((d) => d?.startsWith('retry')).slice(0, 3);
      assert.deepEqual(waits, bugs.length ? Array(3).fill('retry 1 in 20 ms') : ['retry 1 in 20 ms', 'retry 2 in 40 ms', 'retry 1 in 20 ms']);
    });
  }
});

test('a close code in fatalCodes ends the client in gave-up, unless the retries-fatal bug is on', async (t) => {
  for (const bugs of [[], ['retries-fatal']]) {
    await t.test(bugs.length ? `with bug ${bugs}` : 'correct client', async (t) => {
      const srv = await startServer(t, { handle: (ws) => ws.close(4401, 'unauthorized') });
      const c = newClient(t, srv.url, { ...fast, fatalCodes: [[4400, 4403]], bugs });
      const r = recorder(c);
      c.connect();
      if (bugs.length) {
        await r.until(() => srv.dials.length >= 2, 'a second dial');
        assert.ok(!r.states.includes('gave-up'));
      } else {
        await r.until(() => r.states.includes('gave-up'), 'gave-up');
        await sleep(100); // longer than the first backoff
        assert.equal(srv.dials.length, 1);
        assert.match(r.errors.at(-1), /the server closed with 4401, which never reconnects/);
      }
      c.close();
      await srv.close();
    });
  }
});

test('with closeCodeParam each reconnect reports the first close code since the last open, unless a bug is on', async (t) => {
  // Connection 1 is closed by the server with 1001, dials 2 and 3 are
  // refused (1006: no close frame), connection 2 (dial 4) is closed with
  // 4002, dial 5 stays open.
  const name = 'disconnect_err_code';
  const at = (code) => (code ? `/ws?${name}=${code}` : '/ws');
  for (const [bugs, param, want] of [
    [[], '', [0, 0, 0, 0, 0]],
    [[], name, [0, 1001, 1001, 1001, 4002]],
    [['reports-last-code'], name, [0, 1001, 1006, 1006, 4002]],
    [['keeps-code-after-open'], name, [0, 1001, 1001, 1001, 1001]],
  ]) {
    const label = bugs.length ? `with bug ${bugs}` : param ? 'correct client' : 'without closeCodeParam';
    await t.test(label, async (t) => {
      const srv = await startServer(t, {
        refuse: (n) => n === 2 || n === 3,
        handle: (ws, n) => {
          if (n === 1) ws.close(1001, 'going away');
          if (n === 2) ws.close(4002, 'try again');
        },
      });
      const c = newClient(t, srv.url, { ...fast, closeCodeParam: param, bugs });
      const r = recorder(c);
      c.connect();
      await r.until(() => srv.dials.length >= 5 && c.state === 'connected', 'the fifth dial open');
      c.close();
      await srv.close();
      assert.deepEqual(srv.urls, want.map(at));
    });
  }
});

test('with closeCodeParam a dead link\'s 4000 goes in the close frame and on the next connect URL', async (t) => {
  const codes = [];
  const srv = await startServer(t, { handle: (ws) => ws.on('close', (code) => codes.push(code)) }); // never answers a ping
  const c = newClient(t, srv.url, { ...fast, heartbeatIntervalMs: 40, closeCodeParam: 'disconnect_err_code' });
  c.connect();
  await eventually(() => srv.dials.length >= 2 && codes.length >= 1, 'a close and a reconnect');
  c.close();
  await srv.close();
  assert.equal(codes[0], 4000);
  assert.equal(srv.urls[1], '/ws?disconnect_err_code=4000');
});
