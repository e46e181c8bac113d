// The page's test hook: the one part of the page the adapter talks to.
// The adapter calls window.wschaos.command(cmd) for each command (connect's
// profile already mapped onto Options), and the page writes every event and
// every reply, in the order they happen here, through window.wschaosOut, a
// DevTools binding the adapter installs before the page loads. One channel
// for both keeps a reply behind the events its command caused.
import { QueueClient, type Options, type State } from './client.js';

type Command = { id: number; cmd: string; url?: string; options?: Partial<Options>; type?: string; payload?: unknown; when?: string; timers?: unknown };

declare global {
  interface Window {
    wschaosOut?: (line: string) => void;
    wschaos: { command(cmd: Command): void; end(): void };
  }
}

function out(obj: object): void {
  window.wschaosOut?.(JSON.stringify(obj));
}

let client: QueueClient | null = null;
let waiting: Command[] = []; // sends for the next connected state

function willConnect(): boolean {
  return client === null || (client.state !== 'disconnected' && client.state !== 'gave-up');
}

function onState(state: State): void {
  out({ event: 'state', state });
  if (state === 'connected') {
    // Sent from the client's own connected handler, as an app's open
    // handler would, and replied to only then.
    const due = waiting;
    waiting = [];
    for (const c of due) run(c.id, () => client!.send(c.type!, c.payload));
  } else if (!willConnect()) {
    const due = waiting;
    waiting = [];
    for (const c of due) out({ reply: c.id, ok: false, error: `the client will not connect again (state ${state})` });
  }
}

function run(id: number, effect: () => void): void {
  try {
    effect();
    out({ reply: id, ok: true });
  } catch (err) {
    out({ reply: id, ok: false, error: err instanceof Error ? err.message : String(err) });
  }
}

// calibrate measures this page's timers and dials for the harness's timing
// margins (docs/adapter.md, "calibrate"): every timer armed at once, and as
// each fires, when (ms since the command, by the page's clock) and a dial
// with the browser's WebSocket, the one the client dials with. The reply,
// with "fired", comes once every dial has closed.
function calibrate(c: Command): void {
  const timers = c.timers;
  if (typeof c.url !== 'string') return out({ reply: c.id, ok: false, error: 'calibrate needs a url' });
  if (!Array.isArray(timers) || !timers.every((d) => typeof d === 'number' && d >= 0)) {
    return out({ reply: c.id, ok: false, error: 'calibrate needs "timers", an array of delays in milliseconds' });
  }
  const url = c.url;
  const t0 = performance.now();
  const sep = url.includes('?') ? '&' : '?';
  const one = (delay: number, i: number) =>
    new Promise<number>((resolve, reject) => {
      setTimeout(() => {
        const fired = performance.now() - t0;
        const ws = new WebSocket(`${url}${sep}timer=${i}`);
        ws.onopen = () => ws.close(1000);
        ws.onerror = () => reject(new Error(`calibrate: the dial of timer ${i} failed`));
        ws.onclose = () => resolve(fired);
      }, delay);
    });
  Promise.all((timers as number[]).map(one)).then(
    (fired) => out({ reply: c.id, ok: true, fired }),
    (err: Error) => out({ reply: c.id, ok: false, error: err.message }),
  );
}

window.wschaos = {
  command(c: Command): void {
    switch (c.cmd) {
      case 'connect':
        return run(c.id, () => {
          if (client !== null) throw new Error('connect comes once per process');
          if (typeof c.url !== 'string') throw new Error('connect needs a url');
          client = new QueueClient(c.url, c.options ?? {}, {
            state: onState,
            message: (type, payload) => out({ event: 'message', type, payload }),
            error: (message) => out({ event: 'error', message }),
            log: (message) => out({ event: 'log', message }),
          });
          client.connect(); // the reply does not wait for the open
        });
      case 'send':
        if (c.when !== undefined) {
          if (c.when !== 'connected') return out({ reply: c.id, ok: false, error: `cannot send when ${JSON.stringify(c.when)}: only "connected"` });
          if (client === null) return out({ reply: c.id, ok: false, error: 'no client yet: connect first' });
          if (!willConnect()) return out({ reply: c.id, ok: false, error: `the client will not connect again (state ${client.state})` });
          waiting.push(c);
          return;
        }
        return run(c.id, () => {
          if (client === null) throw new Error('no client yet: connect first');
          if (typeof c.type !== 'string') throw new Error('send needs a type');
          client.send(c.type, c.payload);
        });
      case 'close':
        return run(c.id, () => {
          if (client === null) throw new Error('no client yet: connect first');
          client.close();
        });
      case 'calibrate':
        return calibrate(c);
      default:
        out({ reply: c.id, ok: false, error: `unknown command ${JSON.stringify(c.cmd ?? null)}` });
    }
  },
  // end: the scenario is over (the adapter's stdin ended); close the client
  // so its close frame goes out, and report nothing more.
  end(): void {
    window.wschaosOut = undefined;
    client?.close();
  },
};
