// The message types of seed 000's document. It names them
// ($lib/types/websocket.ts: ClientMessage, ServerMessage, WSMessage,
// createPingMessage, createSendMessage) but does not show them.

// gap: the document does not show its message types; this is the
// {"type","payload"} shape its code reads (message.type, message.payload.*).
export interface WSMessage<P = any> {
  type: string;
  payload?: P;
}

// gap: not shown; a client message is any {"type","payload"}.
export type ClientMessage = WSMessage;

// gap: not shown; a server message is any {"type","payload"}.
export type ServerMessage = WSMessage;

// gap: createPingMessage() is called but not shown; the ping the queue
// profile expects is {"type":"ping"}.
export function createPingMessage(): ClientMessage {
  return { type: 'ping', payload: {} };
}

// gap: createSendMessage(sessionId, message) is called but not shown.
export function createSendMessage(sessionId: string, message: unknown): ClientMessage {
  return { type: 'message.send', payload: { sessionId, message } };
}
