// ui/src/lib/services/websocket.ts of seed 000 ("Phase 4: WebSocket Service"),
// written out from its document. Every line the document gives is kept as it
// gives it; every completion is marked `// gap:` with what the document did
// not give.

// gap: the document uses the browser's native WebSocket; Node 20 has none,
// so the `ws` package stands in for it (same readyState, onopen/onclose/
// onerror/onmessage, event.data a string for a text frame).
import { WebSocket } from 'ws';
import { websocket, history, carousel, sessions } from './stores.js';
import type { ConnectionState } from './stores.js';
import { createPingMessage } from './types.js';
import type { ClientMessage, ServerMessage, WSMessage } from './types.js';

export interface WebSocketConfig {
  url: string;                    // WebSocket URL (auto-detected)
  maxReconnectAttempts: number;   // Max reconnection attempts (default: 5)
  reconnectDelay: number;         // Initial delay in ms (default: 1000)
  pingInterval: number;           // Ping interval in ms (default: 30000)
}

type EventHandler<T = ServerMessage> = (message: T) => void;

// gap: the document derives the URL from window.location ("ws://" for http,
// "wss://" for https, port 8000, path /ws); there is no window here, so the
// default is the document's example URL and callers give the URL.
function defaultUrl(): string {
  return 'ws://localhost:8000/ws';
}

export class WebSocketService {
  private ws: WebSocket | null = null;
  private config: WebSocketConfig;
  private reconnectAttempts = 0;
  // gap: window.setTimeout / window.setInterval return numbers in a browser;
  // in Node they are Node's timers.
  private reconnectTimeout: ReturnType<typeof setTimeout> | null = null;
  private pingInterval: ReturnType<typeof setInterval> | null = null;
  private intentionalDisconnect = false;
  private handlers = new Map<string, Set<EventHandler<any>>>();

  // gap: the constructor is not shown; the document's tests call
  // `new WebSocketService({ url })` and `new WebSocketService()`, and its
  // Configuration Options override single fields, so it takes a partial config
  // over the listed defaults.
  constructor(config: Partial<WebSocketConfig> = {}) {
    this.config = {
      url: defaultUrl(),
      maxReconnectAttempts: 5,
      reconnectDelay: 1000,
      pingInterval: 30000,
      ...config,
    };
  }

  // gap: connect()'s body is not shown. The document says it sets
  // 'connecting' (and 'reconnecting' for a retry), logs "[WS] Connecting to
  // URL", and that the heartbeat starts, the queue is flushed and the
  // reconnect count is reset on connect; this is the smallest code that does it.
  connect(): void {
    if (this.ws && (this.ws.readyState === WebSocket.OPEN || this.ws.readyState === WebSocket.CONNECTING)) {
      return; // gap: not shown; a second connect() while one is live does nothing
    }
    this.intentionalDisconnect = false;
    this.reconnectTimeout = null;
    websocket.setState(this.reconnectAttempts > 0 ? 'reconnecting' : 'connecting');
    console.log(`[WS] Connecting to ${this.config.url}`);

    const ws = new WebSocket(this.config.url);
    this.ws = ws;
    ws.onopen = () => {
      console.log('[WS] Connected');
      // gap: the document does not show where the counts are reset; it
      // lists websocket.resetReconnectAttempts() and "Success Metrics:
      // Automatic reconnection ... max 5 attempts", read as 5 in a row.
      this.reconnectAttempts = 0;
      websocket.resetReconnectAttempts();
      this.startPing();
      // gap: the document flushes the queue "automatically on reconnect" but
      // does not order it against setState('connected'); the queue goes first,
      // so that a store subscriber's send on 'connected' cannot overtake it.
      this.sendQueuedMessages();
      websocket.setState('connected');
    };
    ws.onmessage = (event) => {
      this.handleMessage(event.data as string);
    };
    ws.onerror = () => {
      // From the document's Error Handling: "Handled automatically".
      websocket.setState('error', 'Connection error');
    };
    ws.onclose = () => {
      if (this.ws !== ws) return; // gap: not shown; a replaced socket's late close is ignored
      console.log('[WS] Connection closed');
      this.stopPing(); // "Automatically stops on disconnect"
      this.ws = null;
      this.handleClose();
    };
  }

  // gap: disconnect()'s body is not shown. It marks the disconnect
  // intentional (handleClose reads intentionalDisconnect), cancels a pending
  // reconnect, stops the ping and closes the socket. The document gives no
  // close code; 1000 (normal closure) is the one the queue profile expects.
  disconnect(): void {
    this.intentionalDisconnect = true;
    if (this.reconnectTimeout !== null) {
      clearTimeout(this.reconnectTimeout);
      this.reconnectTimeout = null;
    }
    this.stopPing();
    if (this.ws) {
      this.ws.close(1000, 'Client disconnect');
    } else {
      websocket.setState('disconnected');
    }
  }

  // gap: not shown; "Check if connected", as send() checks it.
  isConnected(): boolean {
    return this.ws?.readyState === WebSocket.OPEN;
  }

  // gap: not shown; "Get current connection state", the store's.
  getState(): ConnectionState {
    return websocket.state;
  }

  // gap: on/off are not shown beyond their signatures and usage; handlers are
  // kept per message type. '*' receives every message (the document has no
  // such type; an adapter needs every message the service hands out).
  on<T = ServerMessage>(messageType: string, handler: EventHandler<T>): void {
    let set = this.handlers.get(messageType);
    if (!set) {
      set = new Set();
      this.handlers.set(messageType, set);
    }
    set.add(handler);
  }

  off<T = ServerMessage>(messageType: string, handler: EventHandler<T>): void {
    this.handlers.get(messageType)?.delete(handler);
  }

  send(message: ClientMessage): void {
    if (this.ws?.readyState === WebSocket.OPEN) {
      this.ws.send(JSON.stringify(message));
    } else {
      console.warn('[WS] Not connected, queueing message');
      websocket.queueMessage(message);
    }
  }

  private sendQueuedMessages(): void {
    const queued = websocket.clearQueue();

    if (queued.length > 0) {
      console.log(`[WS] Sending ${queued.length} queued messages`);
      queued.forEach((message) => this.send(message));
    }
  }

  private handleClose(): void {
    if (this.intentionalDisconnect) {
      websocket.setState('disconnected');
      return;
    }

    if (this.reconnectAttempts < this.config.maxReconnectAttempts) {
      this.reconnectAttempts++;
      websocket.incrementReconnectAttempts();

      const delay = this.config.reconnectDelay * Math.pow(2, this.reconnectAttempts - 1);

      // gap: window.setTimeout in the document; Node's setTimeout here.
      this.reconnectTimeout = setTimeout(() => {
        this.connect();
      }, delay);
    } else {
      websocket.setState('error', 'Failed to reconnect');
    }
  }

  private startPing(): void {
    this.stopPing();

    // gap: window.setInterval in the document; Node's setInterval here.
    this.pingInterval = setInterval(() => {
      if (this.isConnected()) {
        this.send(createPingMessage());
      }
    }, this.config.pingInterval);
  }

  private stopPing(): void {
    if (this.pingInterval !== null) {
      clearInterval(this.pingInterval);
      this.pingInterval = null;
    }
  }

  // gap: the document shows the parse (Parse Errors) and the built-in switch
  // (Built-In Message Handlers) but not the method around them, nor when the
  // registered handlers run: here after the built-in handling.
  private handleMessage(data: string): void {
    let message: WSMessage;
    try {
      message = JSON.parse(data);
    } catch (error) {
      console.error('[WS] Failed to parse message:', error);
      return;
    }
    console.log(`[WS] Received: ${message.type}`);

    switch (message.type) {
      case 'pong':
        // Heartbeat acknowledged
        break;

      case 'session.created':
        // Session created confirmation
        console.log('Session created:', message.payload.sessionId);
        break;

      case 'session.closed':
        // Session closed
        console.log('Session closed:', message.payload.sessionId);
        break;

      case 'message.received':
        // Message acknowledged
        console.log('Message received:', message.payload.messageId);
        break;

      case 'message.response':
        // Agent response - add to history
        history.addMessage(message.payload.sessionId, message.payload.message);
        // Touch session
        sessions.touch(message.payload.message.panelId);
        break;

      case 'panel.updated':
        // Panel updated - update carousel
        carousel.updatePanel(message.payload.panel.id, message.payload.panel);
        break;

      case 'panel.created':
        // New panel created - load into carousel
        carousel.loadPanel(message.payload.panel);
        break;

      case 'panel.deleted':
        // Panel deleted - close from carousel
        carousel.closePanel(message.payload.panelId);
        break;

      case 'error':
        // Server error
        console.error('[WS] Server error:', message.payload);
        websocket.setState('error', message.payload.message);
        break;
    }

    for (const type of [message.type, '*']) {
      for (const handler of this.handlers.get(type) ?? []) handler(message);
    }
  }
}

// "Singleton Pattern: Export singleton `wsService` instance"
export const wsService = new WebSocketService();
