// The stores seed 000's service updates. The document gives their method
// names (Store Integration) but not their code, and they are Svelte stores;
// these are the minimal stores that carry out what the names say.

import type { ClientMessage } from './types.js';

export type ConnectionState = 'disconnected' | 'connecting' | 'connected' | 'reconnecting' | 'error';

type Listener = (state: ConnectionState, error: string | undefined) => void;

// gap: the document's `websocket` store is a Svelte store; this is a minimal
// store with the methods the document lists, and a synchronous subscribe as a
// Svelte store's (a subscriber runs inside set).
class WebSocketStore {
  state: ConnectionState = 'disconnected';
  error: string | undefined;
  reconnectAttempts = 0;
  // gap: "Queue stored in `websocket` store"; the document gives no bound.
  private queue: ClientMessage[] = [];
  private listeners: Listener[] = [];

  subscribe(fn: Listener): () => void {
    this.listeners.push(fn);
    return () => {
      this.listeners = this.listeners.filter((l) => l !== fn);
    };
  }

  setState(state: ConnectionState, error?: string): void {
    this.state = state;
    this.error = error;
    for (const l of [...this.listeners]) l(state, error);
  }

  queueMessage(message: ClientMessage): void {
    this.queue.push(message);
  }

  // clearQueue empties the queue and returns what it held, in order
  // (the document: `const queued = websocket.clearQueue();`).
  clearQueue(): ClientMessage[] {
    const queued = this.queue;
    this.queue = [];
    return queued;
  }

  incrementReconnectAttempts(): void {
    this.reconnectAttempts++;
  }

  resetReconnectAttempts(): void {
    this.reconnectAttempts = 0;
  }
}

export const websocket = new WebSocketStore();

// gap: the history, carousel and sessions stores are not shown; these keep
// what they are given, which is all the service asks of them.
export const history = {
  messages: [] as Array<{ sessionId: string; message: unknown }>,
  addMessage(sessionId: string, message: unknown): void {
    this.messages.push({ sessionId, message });
  },
};

export const carousel = {
  panels: new Map<string, unknown>(),
  updatePanel(id: string, panel: unknown): void {
    this.panels.set(id, panel);
  },
  loadPanel(panel: { id: string }): void {
    this.panels.set(panel.id, panel);
  },
  closePanel(id: string): void {
    this.panels.delete(id);
  },
};

export const sessions = {
  touched: [] as string[],
  touch(panelId: string): void {
    this.touched.push(panelId);
  },
};
