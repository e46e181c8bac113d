// Package flaw names deliberate defects the reference client can be told to
// commit, each one a reconnection bug seen in a real client. They exist so
// the harness can prove, in its own tests, that every spec fails on a client
// that has the bug it names (a "buggy twin": the reference client plus
// exactly one flaw). Being internal, they cannot be set outside wschaos.
package flaw

import "time"

// Set is the flaws one client commits; the zero value commits none.
type Set struct {
	// NoResetOnOpen keeps the failure count across a successful open, so
	// the backoff only grows (the opposite of the profiles' contract).
	NoResetOnOpen bool
	// QueueLIFO flushes the offline queue newest first.
	QueueLIFO bool
	// SendsOvertakeQueue announces the open and lets new sends out before
	// the queue is flushed (socket.io-client #1458 shape).
	SendsOvertakeQueue bool
	// FlushKeepsQueue does not empty the queue after flushing it, so stale
	// messages are replayed into the next session (reconnecting-websocket
	// #110 shape).
	FlushKeepsQueue bool
	// NoSeqCheck accepts events whatever their seq: gaps go unnoticed.
	NoSeqCheck bool
	// KeepSeqOnNewID keeps the expected seq when a hello brings a new
	// connection id: every hello then mismatches, an endless 4001 loop
	// (mattermost #30388).
	KeepSeqOnNewID bool
	// NoResyncOnNewID takes a new connection id without telling the
	// application that events were missed.
	NoResyncOnNewID bool
	// NoPongCheck pings but never notices a missing answer (a typical app client).
	NoPongCheck bool
	// PongTimeout, when positive, wants each pong within this time of its
	// ping, shorter than the profile's interval: a late pong near the
	// boundary then causes a spurious reconnect.
	PongTimeout time.Duration
	// StaleHeartbeat carries an unanswered ping into the next connection
	// (phoenix-socket-dart #28, firezone #5534).
	StaleHeartbeat bool
	// OverlapOnReconnect opens the new socket on a manual reconnect and
	// leaves the old one open beside it until the client stops
	// (reconnecting-websocket #86 shape).
	OverlapOnReconnect bool
	// CloseWithoutFrame drops the TCP connection on Close with no close
	// frame, so the server sees 1006 instead of 1000.
	CloseWithoutFrame bool
	// RetryIgnoresClose leaves a pending retry armed after Close, and
	// when it fires dials once more (and drops what it opens).
	RetryIgnoresClose bool
	// CloseLeavesDial does not abort a handshake in progress on Close.
	CloseLeavesDial bool
	// ClosedStateNotAnnounced leaves the state at gave-up after Close: a
	// stale status badge.
	ClosedStateNotAnnounced bool
	// ResumeFromLastSeen resumes from the last seq received instead of the
	// next one expected: an off-by-one that makes the server replay an
	// event the client already has.
	ResumeFromLastSeen bool
	// NoConnectTimeout waits for a stalled handshake forever.
	NoConnectTimeout bool
	// IgnoreFatalCodes reconnects after a server close whose code the
	// profile calls fatal (graphql-ws's 4401 Unauthorized, 4400 Bad
	// request): an onclose that retries whatever the code, so a client
	// the server will refuse every time hammers it until retries run out.
	IgnoreFatalCodes bool
	// NoHandshakeWait counts as connected as soon as the socket opens,
	// without waiting for the handshake's reply: it flushes its queue and
	// sends before connection_ack, which a graphql-ws server answers by
	// closing with 4401.
	NoHandshakeWait bool
	// ResetOnOpenDespiteUptime resets the failure count as soon as a
	// socket opens though the profile wants ResetAfter of uptime first:
	// against a server that accepts and drops at once, the retries never
	// slow down (what reconnecting-websocket's minUptime prevents).
	ResetOnOpenDespiteUptime bool
	// CloseCodeInFrame puts an error close's code (ping timeout, seq gap)
	// in the close frame when the profile reports it only on the next
	// connect URL: a port of the mattermost client that calls
	// close(4000) where the original calls close() and sends
	// disconnect_err_code.
	CloseCodeInFrame bool
	// NoServerPongs never answers the server's pings (heartbeat mode
	// server): a server that drops silent clients (Engine.IO's
	// pingTimeout) keeps cutting a healthy link.
	NoServerPongs bool
	// QueueDropsSilentlyOnError drops a send the full queue cannot take
	// and returns nil, though the profile says the caller gets an error:
	// reconnecting-websocket's silent loss past maxEnqueuedMessages, in a
	// client that promised to report it.
	QueueDropsSilentlyOnError bool
	// RedialAtOnceAfterDeadLink dials again at once after closing a dead
	// link, with no backoff wait: a client that treats its own ping
	// timeout as "reconnect now", so a server that went silent under
	// load is hit by every client at the same instant.
	RedialAtOnceAfterDeadLink bool
	// DeadSocketLeftOpen, on a dead link, writes the close frame and
	// takes the socket for closed at once, without dropping it: the
	// socket stays open beside the next one until the client stops (a
	// close handshake that a dead link never answers, left to time out).
	DeadSocketLeftOpen bool
	// CloseReconnects takes the end of the socket Close closed for a lost
	// connection: it waits its first backoff delay and dials once more
	// (and drops what it opens), an onclose that does not know the close
	// was asked for.
	CloseReconnects bool
	// ReportLastCode reports the last close code since the last open on
	// the next connect URL, not the first: after a dead link (4000) and
	// a refused retry (1006) it says 1006.
	ReportLastCode bool
	// KeepCodeAfterOpen keeps the close code it reports across a
	// successful open, so the connect after the next close reports a
	// code that belonged to an earlier connection.
	KeepCodeAfterOpen bool
	// EveryServerCodeFatal gives up after any close the server sends,
	// whatever its code: a client that reads "the server closed" as
	// "never come back", so a server restart (1012) ends it for good.
	EveryServerCodeFatal bool
}
