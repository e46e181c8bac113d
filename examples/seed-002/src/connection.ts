// useConnectionStore of seed 002 (task T7.30, "@/stores/connection"). The
// document uses it but does not show it: these are the minimal store and the
// actions its service calls, in the shape of a zustand store (getState()
// gives the state with its actions; every action replaces the state and
// notifies the subscribers, even when a value does not change).

export type ConnectionStatus = 'idle' | 'connecting' | 'connected' | 'reconnecting' | 'disconnected';

export type ConnectionState = {
  status: ConnectionStatus;
  reconnectAttempts: number;
  lastEventId: string | null;
  connectionId: string | null;
  setConnectionState(status: ConnectionStatus): void;
  setStatus(status: ConnectionStatus): void;
  resetReconnect(): void;
  incrementReconnectAttempts(): void;
  setLastEventId(id: string): void;
  setConnectionId(id: string): void;
  reset(): void;
};

// The third argument names the action, so that a subscriber (the adapter) can
// tell a status set from another update; zustand passes only the first two.
type Listener = (state: ConnectionState, prev: ConnectionState, action: string) => void;

// gap: how resetReconnect() behaves is not given. By its name it resets the
// reconnect count, and that is all it does here; the document never sets the
// status to "connected" anywhere. openConnects: true makes it also set
// "connected", the other reading, to look past that at the rest.
export const storeOptions = { openConnects: false };

let listeners: Listener[] = [];
let state: ConnectionState;

function set(action: string, partial: Partial<ConnectionState>): void {
  const prev = state;
  state = { ...state, ...partial };
  for (const l of [...listeners]) l(state, prev, action);
}

const initial = {
  status: 'idle' as ConnectionStatus,
  reconnectAttempts: 0,
  lastEventId: null,
  connectionId: null,
};

state = {
  ...initial,
  // gap: the document calls both setConnectionState and setStatus; both set the status.
  setConnectionState: (status) =>
    set('setConnectionState', { status }),
  setStatus: (status) =>
    set('setStatus', { status }),
  resetReconnect: () =>
    set('resetReconnect', storeOptions.openConnects ? { reconnectAttempts: 0, status: 'connected' } : { reconnectAttempts: 0 }),
  incrementReconnectAttempts: () =>
    set('incrementReconnectAttempts', { reconnectAttempts: state.reconnectAttempts + 1 }),
  setLastEventId: (lastEventId) =>
    set('setLastEventId', { lastEventId }),
  setConnectionId: (connectionId) =>
    set('setConnectionId', { connectionId }),
  reset: () =>
    set('reset', { ...initial }),
};

export const useConnectionStore = {
  getState: (): ConnectionState => state,
  subscribe(fn: Listener): () => void {
    listeners.push(fn);
    return () => {
      listeners = listeners.filter((l) => l !== fn);
    };
  },
};
