#!/usr/bin/env node
// The wschaos adapter (protocol 2, docs/adapter.md) for QueueClient running
// in a page of a real browser: it launches Debian's Chromium headless with
// puppeteer-core, loads the page from a loopback static server, forwards
// each command into the page over the DevTools protocol, and writes what the
// page reports, events and replies alike, to stdout. The browser's own
// output never reaches stdout: puppeteer keeps it on pipes of its own, and
// the page's console goes to stderr.
//
// What a team replaces for its own web app (README, "A client in a
// browser"): pageURL (WSCHAOS_BROWSER_URL, its app's test page) and
// optionsFor (its client's options); the page then needs the test hook of
// src/page.ts, window.wschaos.command and window.wschaosOut.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runAdapter, consoleToStderr, emit, DEFERRED } from '../adapter-kit/adapter-kit.js';

consoleToStderr(); // before loading puppeteer: nothing it logs may reach stdout
const { default: puppeteer } = await import('puppeteer-core');
const here = fileURLToPath(new URL('.', import.meta.url));
const { BUGS } = await import('./dist/client.js').catch((err) => {
  process.stderr.write(`adapter: dist/client.js is missing: run npm ci && npm run build in examples/browser (${err.message})\n`);
  process.exit(2);
});
const { name, version } = JSON.parse(readFileSync(join(here, 'package.json'), 'utf8'));

// TEST FIXTURE: WSCHAOS_BROWSER_BUG=no-reset (or queue-overtake) switches on
// a deliberate bug of the client in the page, to show the harness catches it.
const bugs = (process.env.WSCHAOS_BROWSER_BUG ?? '').split(',').map((s) => s.trim()).filter(Boolean);
const unknown = bugs.filter((b) => !(b in BUGS));
if (unknown.length > 0) {
  process.stderr.write(`adapter: unknown WSCHAOS_BROWSER_BUG ${unknown.join(', ')} (known: ${Object.keys(BUGS).join(', ')})\n`);
  process.exit(2);
}

// optionsFor configures QueueClient from the resolved profile that connect
// carries (durations in milliseconds, already scaled), and refuses a
// profile of another shape, naming what does not fit.
function optionsFor(p) {
  if (p === null || typeof p !== 'object') throw new Error('connect needs a profile object');
  const misfit = [];
  if (p.envelope?.codec !== 'json' || p.envelope.type !== 'type' || p.envelope.payload !== 'payload') misfit.push('envelope');
  if (p.backoff?.family !== 'exponential' || p.backoff.jitter || p.backoff.max || p.backoff.base_max || p.backoff.add_max) misfit.push('backoff');
  if (typeof p.backoff?.retries !== 'number') misfit.push('backoff.retries');
  if (p.heartbeat?.mode !== 'client' || p.heartbeat.dead !== 'next-ping' || p.heartbeat.on_open) misfit.push('heartbeat');
  if (p.heartbeat?.ping_type !== 'ping' || p.heartbeat.pong_type !== 'pong' || p.heartbeat.close_code !== 4000) misfit.push('heartbeat messages');
  if (!p.queue?.enabled || p.queue.full !== 'error') misfit.push('queue');
  if ((p.close?.code ?? 1000) !== 1000) misfit.push('close.code');
  if (p.resume || p.connect?.handshake || p.connect?.subprotocol) misfit.push('resume or handshake');
  if (misfit.length > 0) throw new Error(`this client cannot play profile ${p.name}: its ${misfit.join(', ')} differ from QueueClient's`);
  return {
    backoffInitialMs: p.backoff.base,
    backoffFactor: p.backoff.factor,
    backoffMaxRetries: p.backoff.retries,
    heartbeatIntervalMs: p.heartbeat.interval,
    queueLimit: p.queue.limit,
    connectTimeoutMs: p.connect?.timeout,
    bugs,
  };
}

// serveExample serves index.html and the compiled dist/*.js on a loopback
// port: a module script does not load from file://, and a page served over
// http is what a web app is.
function serveExample() {
  const types = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8' };
  const server = createServer((req, res) => {
    const path = normalize(new URL(req.url, 'http://x').pathname);
    const file = path === '/' ? 'index.html' : path.slice(1);
    const ext = file.slice(file.lastIndexOf('.'));
    if (!(file === 'index.html' || (/^dist\/[\w-]+\.js$/.test(file) && ext === '.js'))) {
      res.writeHead(404).end();
      return;
    }
    try {
      const body = readFileSync(join(here, file));
      res.writeHead(200, { 'content-type': types[ext], 'cache-control': 'no-store' }).end(body);
    } catch {
      res.writeHead(404).end();
    }
  });
  // A WebSocket dial here is the page's warm-up (below): refused at once.
  server.on('upgrade', (req, socket) => socket.end('HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n\r\n'));
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve({ server, url: `http://127.0.0.1:${server.address().port}/` }));
  });
}

function chromiumPath() {
  if (process.env.WSCHAOS_CHROMIUM) return process.env.WSCHAOS_CHROMIUM;
  try {
    return execFileSync('which', ['chromium'], { encoding: 'utf8' }).trim();
  } catch {
    process.stderr.write('adapter: no chromium on PATH; install it (apt-get install chromium) or set WSCHAOS_CHROMIUM\n');
    process.exit(2);
  }
}

const served = await serveExample(); // the example's page, and the warm-up's refusal
const pageURL = process.env.WSCHAOS_BROWSER_URL ?? served.url;

const browser = await puppeteer.launch({
  executablePath: chromiumPath(),
  headless: true,
  pipe: true, // DevTools over the process's own pipes: no port to find
  args: [
    ...(process.getuid?.() === 0 ? ['--no-sandbox'] : []), // Chromium refuses root without it (CI containers)
    // The page's timers are the client's backoff and heartbeat: keep the
    // browser from slowing them down as it does for pages it thinks unseen.
    '--disable-background-timer-throttling',
    '--disable-renderer-backgrounding',
    '--disable-backgrounding-occluded-windows',
    '--no-first-run',
    '--no-default-browser-check',
  ],
});
const page = (await browser.pages())[0] ?? (await browser.newPage());
page.on('console', (m) => process.stderr.write(`page console.${m.type()}: ${m.text()}\n`));
page.on('pageerror', (err) => process.stderr.write(`page error: ${err.message}\n`));

// The page writes events and replies through one binding, in the order
// they happen there; the DevTools protocol delivers its calls in that
// order, and each is written as it comes. After stdin's end nothing more
// is written: the scenario is over.
let ended = false;
const session = await page.createCDPSession();
session.on('Runtime.bindingCalled', (e) => {
  if (e.name === 'wschaosOut' && !ended) process.stdout.write(e.payload + '\n');
});
await session.send('Runtime.enable');
await session.send('Runtime.addBinding', { name: 'wschaosOut' });
await page.goto(pageURL, { waitUntil: 'load' });
await page.waitForFunction(() => typeof window.wschaos?.command === 'function', { timeout: 5000 });
// Warm-up: one refused dial from a frame, as the client dials, before the
// ready line. A fresh browser's first WebSocket costs some 200 ms more than
// the next (its network stack starting); in a page that has been open a
// while that is long paid. Left in, it would land in the first attempt's
// timing: a stalled first handshake, timed out by the client's clock from
// its dial, looked to the server as if it was retried too soon.
await page
  .evaluate(
    (url) =>
      new Promise((resolve) => {
        const frame = document.createElement('iframe');
        frame.hidden = true;
        document.body.appendChild(frame);
        const ws = new frame.contentWindow.WebSocket(url);
        const done = () => {
          frame.remove();
          resolve();
        };
        ws.onclose = done;
        setTimeout(done, 3000);
      }),
    served.url.replace(/^http/, 'ws') + 'warm-up',
  )
  .catch((err) => process.stderr.write(`adapter: the warm-up dial failed: ${err.message}\n`));

// forward hands a command to the page, whose reply comes through the
// binding. If the page cannot take it (it crashed, say), the command still
// gets its one reply.
function forward(cmd) {
  page
    .evaluate((c) => window.wschaos.command(c), cmd)
    .catch((err) => {
      process.stderr.write(`adapter: the page did not take command ${cmd.id}: ${err.message}\n`);
      if (!ended) emit({ reply: cmd.id, ok: false, error: `the page did not take the command: ${err.message}` });
    });
  return DEFERRED;
}

const label = bugs.length > 0 ? ` (deliberate bugs: ${bugs.join(', ')})` : '';
runAdapter({
  client: `${name} ${version} in ${await browser.version()}${label}`,
  commands: {
    connect: (cmd) => forward({ id: cmd.id, cmd: 'connect', url: cmd.url, options: optionsFor(cmd.profile) }),
    send: (cmd) => forward(cmd),
    close: (cmd) => forward(cmd),
    // The page's own timers and WebSocket, not Node's: the kit's calibrate
    // would measure this process, which never dials.
    calibrate: (cmd) => forward(cmd),
  },
  // The scenario is over: close the client in the page (its close frame
  // goes out), then the browser, then exit.
  onEnd: () => {
    ended = true;
    page
      .evaluate(() => window.wschaos.end())
      .catch(() => {})
      .then(() => browser.close())
      .catch(() => {})
      .finally(() => {
        served.server.close();
        process.exit(0);
      });
  },
});
