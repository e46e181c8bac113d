// apps/v2/src/services/websocket/socket.ts of seed 002 (task T8.01,
// "WebSocket Service"), exactly as its document writes it, with the two
// completions marked `// gap:` (the store's import path, and a WebSocket
// constructor for Node).
import { webSocket, WebSocketSubject } from "rxjs/webSocket";
import {
  Subject,
  Observable,
  timer,
  EMPTY,
  catchError,
  retry,
  share,
  tap,
  takeUntil,
} from "rxjs";
// gap: "@/stores/connection" is the app's path alias; the store is not shown (./connection.ts).
import { useConnectionStore } from "./connection.js";
// gap: rxjs's webSocket uses the global WebSocket, which Node 20 lacks; the
// document runs in a browser. The `ws` package's constructor is passed instead.
import { WebSocket as WS } from "ws";

//#region Types

export type IWebSocketConfig = {
  /** WebSocket server URL (without protocol) */
  url: string;
  /** Authentication token */
  token: string;
  /** Max reconnection attempts (default: 7) */
  reconnectAttempts?: number;
  /** Initial reconnection delay in ms (default: 1000) */
  reconnectDelay?: number;
  /** Max reconnection delay in ms (default: 30000) */
  reconnectDelayMax?: number;
  /** Jitter range in ms (default: 2000) */
  reconnectJitter?: number;
};

export type IWebSocketEvent<T = unknown> = {
  /** Event type name */
  event: string;
  /** Event payload */
  data: T;
  /** Sequence number for ordering */
  seq: number;
  /** Broadcast metadata */
  broadcast?: {
    channel_id?: string;
    team_id?: string;
    user_id?: string;
    omit_users?: Record<string, boolean>;
  };
};

//#endregion Types

//#region Constants

const DEFAULT_CONFIG: Required<Omit<IWebSocketConfig, "url" | "token">> = {
  reconnectAttempts: 7,
  reconnectDelay: 3000, // Vendor: minWebSocketRetryTime = 3000ms
  reconnectDelayMax: 300000, // Vendor: maxWebSocketRetryTime = 300000ms (5 min)
  reconnectJitter: 2000, // Vendor: reconnectJitterRange = 2000ms
};

//#endregion Constants

//#region WebSocket Service

class WebSocketService {
  private socket$: WebSocketSubject<IWebSocketEvent> | null = null;
  private destroy$ = new Subject<void>();
  private config: IWebSocketConfig & typeof DEFAULT_CONFIG = {
    url: "",
    token: "",
    ...DEFAULT_CONFIG,
  };

  /** Main event stream - shared across all subscribers */
  public events$: Observable<IWebSocketEvent> = EMPTY;

  /**
   * Connect to WebSocket server.
   * @param config Connection configuration
   * @returns Observable of WebSocket events
   */
  connect(config: IWebSocketConfig): Observable<IWebSocketEvent> {
    this.config = { ...DEFAULT_CONFIG, ...config };
    const store = useConnectionStore.getState();

    // Reset destroy subject for new connection
    this.destroy$ = new Subject<void>();

    store.setConnectionState("connecting");

    this.socket$ = webSocket<IWebSocketEvent>({
      url: `${this.config.url}?token=${this.config.token}`,
      // gap: see the import of WS above.
      WebSocketCtor: WS as unknown as typeof WebSocket,
      openObserver: {
        next: () => {
          store.resetReconnect();
          console.log("[WS] Connected");
        },
      },
      closeObserver: {
        next: (event) => {
          store.setConnectionState("disconnected");
          console.log("[WS] Disconnected:", event.code, event.reason);
        },
      },
      deserializer: (e) => JSON.parse(e.data),
      serializer: (value) => JSON.stringify(value),
    });

    this.events$ = this.socket$.pipe(
      tap((msg) => {
        // Track sequence for missed event detection
        if (msg.seq) {
          store.setLastEventId(String(msg.seq));
        }

        // Handle connection ID from 'hello' event
        if (msg.event === "hello" && msg.data) {
          const data = msg.data as { connection_id?: string };
          if (data.connection_id) {
            store.setConnectionId(data.connection_id);
          }
        }
      }),
      retry({
        count: this.config.reconnectAttempts,
        delay: (error, retryCount) => {
          store.setConnectionState("reconnecting");
          store.incrementReconnectAttempts();

          // Vendor formula: constant delay until maxFails, then n² growth
          // See: vendor/desktop/webapp/platform/client/src/websocket.ts:244-249
          let retryTime = this.config.reconnectDelay; // 3000ms base

          if (retryCount > this.config.reconnectAttempts) {
            // After max fails: n² backoff
            retryTime = retryTime * retryCount * retryCount;
            if (retryTime > this.config.reconnectDelayMax) {
              retryTime = this.config.reconnectDelayMax; // Cap at 5 min
            }
          }

          // Jitter to avoid thundering herd
          const jitter = Math.random() * this.config.reconnectJitter;
          const totalDelay = retryTime + jitter;

          console.log(
            `[WS] Retry ${retryCount}/${this.config.reconnectAttempts} in ${Math.round(totalDelay)}ms`,
          );
          return timer(totalDelay);
        },
      }),
      catchError((error) => {
        store.setConnectionState("disconnected");
        console.error("[WS] Connection failed after all retries:", error);
        return EMPTY;
      }),
      takeUntil(this.destroy$),
      share(), // Share single connection across all subscribers
    );

    // Start the connection by subscribing
    this.events$.subscribe();

    return this.events$;
  }

  /**
   * Send a message through the WebSocket.
   * @param event Event type name
   * @param data Event payload
   */
  send<T>(event: string, data: T): void {
    if (!this.socket$ || !this.isConnected()) {
      console.warn("[WS] Cannot send - not connected");
      return;
    }
    this.socket$.next({ event, data, seq: 0 } as IWebSocketEvent<T>);
  }

  /**
   * Check if currently connected.
   */
  isConnected(): boolean {
    return useConnectionStore.getState().status === "connected";
  }

  /**
   * Disconnect from WebSocket server.
   */
  disconnect(): void {
    this.destroy$.next();
    this.destroy$.complete();
    this.socket$?.complete();
    this.socket$ = null;
    useConnectionStore.getState().setStatus("disconnected");
    console.log("[WS] Disconnected by client");
  }

  /**
   * Reconnect to WebSocket server (manual trigger).
   */
  reconnect(): void {
    if (this.config.url && this.config.token) {
      this.disconnect();
      this.connect(this.config);
    }
  }
}

/** Singleton WebSocket service instance */
export const websocketService = new WebSocketService();

//#endregion WebSocket Service
