// Package proxy is a frame-aware WebSocket chaos proxy: it sits between a
// reconnecting client and its real server and injects the chaos faults of
// package chaos into the live link, so a real client (any language) and a
// real server can be tested together. It is shaped like
// net/http/httptest: configure a Proxy between NewUnstartedServer and Start,
// point the client at URL, Close it.
//
// The proxy terminates both sides with gorilla/websocket. For each attempt
// it runs the handshake faults, dials the upstream with the request's path,
// query, subprotocols and end-to-end headers, and only then accepts the
// client's upgrade with the subprotocol the upstream chose (an upstream
// that refuses is relayed with its status):
//
//	client ──upgrade──▶ [HandshakeFault] ──▶ dial upstream ──▶ accept client
//	                                                             │
//	client frames ──▶ [FrameFault, Dir=Client] ──────────────────┼──▶ upstream
//	client       ◀── [FrameFault, Dir=Server] ◀──────────────────┴─── upstream
//	                 [ConnFault]: cuts made on the client's side, the
//	                 upstream gets close 1001 (or the same FIN / RST)
//
// Each connection has two readers, each relaying what its socket brings
// through the faults, and one clock timer, armed only while a frame or cut
// is waiting, for delayed work: on a virtual clock, delays are exact and a
// test can count timers. Readers, timer and commands take turns under the
// connection's lock, so faults see one frame at a time, in order. The
// frames a turn writes leave once the turn's entries are in the
// transcript, and a burst that came in one read leaves in one write.
//
// Close frames are relayed with their code and reason, both ways, and the
// close handshake completes end to end; a side that vanishes (FIN, RST,
// a failed write) makes the proxy drop the other side without a close
// frame, so each peer sees what it would see without the proxy.
//
// Faults can change while the proxy runs (Control, or the HTTP API of
// ControlHandler): handshake faults are read at each attempt, connection
// faults when a connection opens, frame faults at each frame. So a new
// fault applies to the next frame of every open connection, and to the
// connection faults of new connections only; a removed fault stops acting
// at once, except cuts a connection fault already scheduled, which stay.
//
// Beside the faults, a proxy can be acted on once: Cut ends the
// connections open now (POST /cut) and installs nothing, and Disable
// resets every connection, open or new, until Enable (POST /disable,
// /enable). A Set runs many named proxies behind one control API, as
// Toxiproxy's daemon does, populated from a config file (ReadConfig) or
// POST /proxies; api.go holds the bodies it and its clients share.
package proxy
