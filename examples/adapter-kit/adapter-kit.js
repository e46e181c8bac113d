// The plumbing of a wschaos adapter (protocol 2, docs/adapter.md), written
// once: reading commands from stdin line by line, refusing a line that is not
// a command, one reply per command, events on stdout, the ready line, and the
// exit after stdin ends. An adapter keeps only what is specific to its
// client: how a profile maps onto the client's options, and what connect,
// send and close do with it. No dependencies, so an adapter can import it by
// a relative path without installing anything.
import { createInterface } from 'node:readline';

export const PROTOCOL = 2;

// EXIT_GRACE_MS is how long stdin's end waits for the client's close
// handshake before exiting anyway; the harness kills the adapter after 2 s.
export const EXIT_GRACE_MS = 1000;

// DEFERRED, returned by a command, means its reply comes later: the adapter
// sends it itself (with emit, or through WhenConnected).
export const DEFERRED = Symbol('deferred');

// emit writes one protocol line whole. stdout to a pipe is synchronous in
// Node on Linux and macOS, so lines leave in the order they were written.
export function emit(obj) {
  process.stdout.write(JSON.stringify(obj) + '\n');
}
process.stdout.on('error', () => process.exit(0)); // the harness has gone

// consoleToStderr sends what a library logs with console to stderr: stdout
// belongs to the protocol, and a stray log line there fails the scenario.
// Call it before loading the library. (console.warn and console.error go to
// stderr already.)
export function consoleToStderr() {
  for (const k of ['log', 'info', 'warn', 'debug']) console[k] = (...a) => console.error(...a);
}

// ReplyFields, returned by a command (or by the promise it returns), adds
// its fields to the ok reply: calibrate's "fired".
export class ReplyFields {
  constructor(fields) {
    this.fields = fields;
  }
}

// okReply is the ok reply to id, with the fields a command returned.
function okReply(id, result) {
  return result instanceof ReplyFields ? { ...result.fields, reply: id, ok: true } : { reply: id, ok: true };
}

// replyTo runs a command's effect and replies with its outcome: ok once it
// returned, or once the promise it returned settled; ok: false with the
// error's message if it threw or rejected; nothing if it returned DEFERRED.
export function replyTo(id, effect) {
  let result;
  try {
    result = effect();
  } catch (err) {
    emit({ reply: id, ok: false, error: errorMessage(err) });
    return;
  }
  if (result === DEFERRED) return;
  if (result !== null && typeof result === 'object' && typeof result.then === 'function') {
    result.then(
      (value) => emit(okReply(id, value)),
      (err) => emit({ reply: id, ok: false, error: errorMessage(err) }),
    );
    return;
  }
  emit(okReply(id, result));
}

function errorMessage(err) {
  return err instanceof Error ? err.message : String(err);
}

// WhenConnected holds the sends that carry "when":"connected": each is made
// from the client's own handler of its next connected state, as an
// application's open handler would, and only then replied to. If that state
// can no longer come, each still gets its one reply, ok: false.
export class WhenConnected {
  #cmds = [];

  // defer checks cmd.when and keeps cmd for the next connected state.
  // refusal, when given, is why that state will not come: the send is then
  // refused at once. Returns DEFERRED, for the command to return.
  defer(cmd, refusal) {
    if (cmd.when !== 'connected') throw new Error(`cannot send when ${JSON.stringify(cmd.when)}: only "connected"`);
    if (refusal) throw new Error(refusal);
    this.#cmds.push(cmd);
    return DEFERRED;
  }

  // connected makes every waiting send with send(cmd), replying to each.
  connected(send) {
    for (const cmd of this.#take()) replyTo(cmd.id, () => send(cmd));
  }

  // fail refuses every waiting send with this error.
  fail(error) {
    for (const cmd of this.#take()) emit({ reply: cmd.id, ok: false, error });
  }

  #take() {
    const due = this.#cmds;
    this.#cmds = [];
    return due;
  }
}

// States reports a client's states as state events, remembers the last,
// and refuses the sends waiting for a connected state once gave-up or
// disconnected says none can come (for a client that never restarts on its
// own after those).
export class States {
  last = null;

  constructor(waiting) {
    this.waiting = waiting;
  }

  report(s) {
    this.last = s;
    emit({ event: 'state', state: s });
    if (s !== 'connected' && !this.willConnect()) this.waiting.fail(`the client will not connect again (state ${s})`);
  }

  willConnect() {
    return this.last !== 'gave-up' && this.last !== 'disconnected';
  }

  // refusal is why a send for the next connected state must be refused
  // now, or null: the second argument of WhenConnected.defer.
  refusal() {
    return this.willConnect() ? null : `the client will not connect again (state ${this.last})`;
  }
}

// OPTIONAL are the commands an adapter may offer: its ready line lists those
// it has. reconnect asks the client to drop its socket and open a new one;
// calibrate measures the runtime's timers and dials (calibrator).
const OPTIONAL = ['reconnect', 'calibrate'];

// calibrator is the calibrate command for a client that dials with
// WebSocketImpl (a constructor with the browser's API: ws's WebSocket, or
// the global one): it arms every timer of cmd.timers (milliseconds) at
// once, and as each fires, notes when (milliseconds since the command came,
// by this runtime's clock) and dials cmd.url with ?timer=INDEX, so the
// harness sees when the dial arrives. The reply, once every dial has
// closed, carries "fired". The timers and the dials are this runtime's
// own: the harness derives its timing margins from them.
export function calibrator(WebSocketImpl) {
  return (cmd) => {
    if (typeof cmd.url !== 'string') throw new Error('calibrate needs a url');
    if (!Array.isArray(cmd.timers) || !cmd.timers.every((d) => typeof d === 'number' && d >= 0)) {
      throw new Error('calibrate needs "timers", an array of delays in milliseconds');
    }
    const t0 = performance.now();
    const sep = cmd.url.includes('?') ? '&' : '?';
    const one = (delay, i) =>
      new Promise((resolve, reject) => {
        setTimeout(() => {
          const fired = performance.now() - t0;
          let ws;
          try {
            ws = new WebSocketImpl(`${cmd.url}${sep}timer=${i}`);
          } catch (err) {
            reject(err);
            return;
          }
          ws.onopen = () => ws.close(1000);
          ws.onerror = (e) => reject(new Error(`calibrate: the dial of timer ${i} failed: ${e?.message ?? e?.type ?? e}`));
          ws.onclose = () => resolve(fired);
        }, delay);
      });
    return Promise.all(cmd.timers.map(one)).then((fired) => new ReplyFields({ fired }));
  };
}

// runAdapter writes the ready line naming client (and the optional commands
// commands has), then reads commands from
// stdin and runs each with commands[cmd.cmd](cmd), replying as replyTo says.
// A line that is not a command (not a JSON object, or no whole-number id) has
// nobody to reply to: it is written to stderr and reported as a log event,
// with its line number, and skipped. An unknown command gets ok: false. When
// stdin ends the scenario is over: onEnd closes the client, and the process
// exits by itself once nothing is left, or after EXIT_GRACE_MS.
// WebSocket, the constructor the client dials with (the global one when
// not given, where the runtime has one), gives the adapter the calibrate
// command unless commands has its own.
export function runAdapter({ client, commands, onEnd = () => {}, input = process.stdin, WebSocket = globalThis.WebSocket }) {
  if (WebSocket && !Object.hasOwn(commands, 'calibrate')) commands = { ...commands, calibrate: calibrator(WebSocket) };
  let lineNo = 0;
  function handle(line) {
    lineNo++;
    if (line.trim() === '') return;
    let cmd = null;
    try {
      cmd = JSON.parse(line);
    } catch {
      cmd = null;
    }
    if (cmd === null || typeof cmd !== 'object' || Array.isArray(cmd) || !Number.isInteger(cmd.id)) {
      process.stderr.write(`adapter: line ${lineNo} is not a command: ${line}\n`);
      emit({ event: 'log', message: `adapter ignored line ${lineNo}, not a command: ${line}` });
      return;
    }
    const run = Object.hasOwn(commands, cmd.cmd) ? commands[cmd.cmd] : null;
    if (!run) {
      emit({ reply: cmd.id, ok: false, error: `unknown command ${JSON.stringify(cmd.cmd ?? null)}` });
      return;
    }
    replyTo(cmd.id, () => run(cmd));
  }

  // The optional commands the adapter has, so the harness may ask for them.
  const optional = OPTIONAL.filter((c) => Object.hasOwn(commands, c));
  emit({ event: 'ready', protocol: PROTOCOL, client, ...(optional.length > 0 ? { commands: optional } : {}) });
  const lines = createInterface({ input, crlfDelay: Infinity });
  lines.on('line', handle);
  lines.on('close', () => {
    try {
      onEnd();
    } catch (err) {
      process.stderr.write(`adapter: closing the client at stdin's end failed: ${err?.stack ?? err}\n`);
    }
    setTimeout(() => process.exit(0), EXIT_GRACE_MS).unref();
  });
}
