// Package profile describes protocol profiles as data: the whole contract
// between a reconnecting client and its server (envelope, handshake,
// backoff, heartbeat, close, queue, resume). The reference client, the fake
// server, the faults and the checks all play a Profile, so one value states
// what each side must do.
//
// A profile is a file (YAML, or JSON): see docs/profiles.md and the JSON
// Schema in profile.schema.json. The shipped profiles are embedded files of
// that same format, read by the same code (Load, ByName); there is no
// Go-only profile. ByName returns a fresh copy each call, so a test may
// change its copy without touching anyone else's.
package profile

import (
	"encoding/json"
	"time"

	"github.com/wschaos/wschaos/backoff"
)

// Profile is one protocol contract. Each field's `yaml` key is its name in
// a profile file.
type Profile struct {
	Name string `yaml:"name"`
	// Description is one line for `wschaos profile list`.
	Description string `yaml:"description,omitempty"`
	// Codec is the envelope: how a Message becomes a frame and back.
	// A file names a registered codec and its parameters (RegisterCodec).
	Codec Codec `yaml:"envelope"`
	// Connect is what happens between dialing and being connected.
	Connect Connect `yaml:"connect,omitempty"`
	// Backoff is the wait before each reconnect. A file names a family
	// registered in package backoff, its parameters, "retries" (wrapping it
	// in backoff.Limit) and "reset_after" (ResetAfter).
	Backoff backoff.Policy `yaml:"backoff"`
	// ResetAfter is how long a connection must stay up before the failure
	// count resets to 0; 0 resets it as soon as the client is connected
	// (reconnecting-websocket waits 5 s: minUptime).
	ResetAfter time.Duration `yaml:"-"`
	// Heartbeat says how the link is proven alive.
	Heartbeat Heartbeat `yaml:"heartbeat,omitempty"`
	// Close says which codes the client sends and never reconnects after.
	Close Close `yaml:"close,omitempty"`
	// Queue says what happens to sends while the client is not connected.
	Queue Queue `yaml:"queue,omitempty"`
	// Resume, when not nil, is the hello / connection-id / sequence protocol.
	Resume *Resume `yaml:"resume,omitempty"`
	// Replies: the server answers every request with a Reply carrying its
	// seq (mattermost). Without it the server answers only pings, as the
	// heartbeat says.
	Replies bool `yaml:"replies,omitempty"`
	// ErrorType is the server event that puts the client in the error
	// state ("" for none).
	ErrorType string `yaml:"error_type,omitempty"`
	// SendType and AckType: the server acknowledges each request of
	// SendType with an event of AckType whose data carries the request's
	// "id" as "messageId", so delivery can be counted exactly. SendType is
	// also the type the checks send application messages as.
	SendType string `yaml:"send_type,omitempty"`
	AckType  string `yaml:"ack_type,omitempty"`
}

// Connect is the start of a connection.
type Connect struct {
	// Timeout bounds one dial and handshake (and the handshake message's
	// reply): past it the attempt is a failure. 0 means none.
	Timeout time.Duration `yaml:"timeout,omitempty"`
	// Subprotocol is offered in Sec-WebSocket-Protocol, and the server
	// refuses a handshake without it (graphql-ws: graphql-transport-ws).
	Subprotocol string `yaml:"subprotocol,omitempty"`
	// Handshake, when set, is a message exchange after the socket opens:
	// the client counts as connected only once the reply comes.
	Handshake *Handshake `yaml:"handshake,omitempty"`
}

// Handshake is the first exchange on an open socket (graphql-ws's
// connection_init / connection_ack, SignalR's protocol handshake).
type Handshake struct {
	// Type and Data: the client's first message, in the envelope.
	Type string          `yaml:"type"`
	Data json.RawMessage `yaml:"data,omitempty"`
	// ReplyType is the server message that makes the client connected.
	ReplyType string `yaml:"reply_type"`
}

// HeartbeatMode is who pings, and how.
type HeartbeatMode string

const (
	// HeartbeatNone: nothing proves the link alive.
	HeartbeatNone HeartbeatMode = "none"
	// HeartbeatClient: the client sends an application ping message and
	// the server answers it.
	HeartbeatClient HeartbeatMode = "client"
	// HeartbeatServer: the server sends an application ping message and
	// the client must answer it (graphql-ws).
	HeartbeatServer HeartbeatMode = "server"
	// HeartbeatFrames: the client sends WebSocket ping control frames.
	HeartbeatFrames HeartbeatMode = "frames"
)

// DeadRule is when the client declares the link dead.
type DeadRule string

const (
	// DeadNextPing: a ping still unanswered when the next one is due
	// (mattermost, queue): noticed 1 to 2 intervals after the link died.
	DeadNextPing DeadRule = "next-ping"
	// DeadTimeout: no answer within Timeout of the ping; the next ping
	// goes one Interval after the answer (phoenix).
	DeadTimeout DeadRule = "timeout"
	// DeadSilence: no frame at all from the server for Timeout (SignalR).
	DeadSilence DeadRule = "silence"
)

// Heartbeat is the liveness contract.
type Heartbeat struct {
	Mode HeartbeatMode `yaml:"mode"`
	// Interval between pings.
	Interval time.Duration `yaml:"interval,omitempty"`
	// OnOpen sends the first ping as soon as the client is connected;
	// otherwise one Interval after.
	OnOpen bool `yaml:"on_open,omitempty"`
	// PingType is the ping message; PongType the answer. Without PongType
	// the answer is a Reply to the ping's seq (mattermost's seq_reply,
	// phoenix's phx_reply with the ping's ref).
	PingType string `yaml:"ping_type,omitempty"`
	PongType string `yaml:"pong_type,omitempty"`
	// Dead is the rule that declares the link dead, and Timeout its time
	// for the timeout and silence rules.
	Dead    DeadRule      `yaml:"dead,omitempty"`
	Timeout time.Duration `yaml:"timeout,omitempty"`
	// CloseCode is the code of the close on a dead link (reported where
	// Close.Report says).
	CloseCode StatusCode `yaml:"close_code,omitempty"`
	// ResetFailures sets the failure count to 0 before that close, so the
	// retry after a dead link is the shortest.
	ResetFailures bool `yaml:"reset_failures,omitempty"`
}

// Enabled reports whether anything pings.
func (h Heartbeat) Enabled() bool { return h.Mode != "" && h.Mode != HeartbeatNone }

// Report is where the code of a close the client makes on an error (dead
// link, sequence mismatch) reaches the server.
type Report string

const (
	// ReportFrame: in the close frame.
	ReportFrame Report = "frame"
	// ReportQuery: the close frame has no code; the code goes on the next
	// connect URL, in the query parameter Close.Query (mattermost).
	ReportQuery Report = "query"
	// ReportBoth: in the frame and in the next connect's query.
	ReportBoth Report = "both"
)

// Close is the close contract.
type Close struct {
	// Code is the intentional close's code: 1000, or StatusNoStatus for a
	// close frame without a code (a browser's close() with no argument).
	Code StatusCode `yaml:"code"`
	// Report is where an error close's code reaches the server.
	Report Report `yaml:"report,omitempty"`
	// Query is the connect URL's parameter for the code of the first close
	// since the last successful open, when Report says query or both.
	Query string `yaml:"query,omitempty"`
	// Fatal are the close codes from the server after which the client
	// must never reconnect (graphql-ws's 4400, 4401, …).
	Fatal []CodeRange `yaml:"fatal,omitempty"`
}

// InFrame reports whether an error close carries its code in the frame.
func (c Close) InFrame() bool { return c.Report != ReportQuery }

// InQuery reports whether the next connect carries the last close's code.
func (c Close) InQuery() bool { return c.Report == ReportQuery || c.Report == ReportBoth }

// IsFatal reports whether the client must not reconnect after code.
func (c Close) IsFatal(code StatusCode) bool {
	for _, r := range c.Fatal {
		if r.Contains(code) {
			return true
		}
	}
	return false
}

// QueueFull is what a bounded queue does with a send when it is full.
type QueueFull string

const (
	// QueueError refuses the send with an error to the caller.
	QueueError QueueFull = "error"
	// QueueDropNewest drops the send without a word (reconnecting-websocket
	// past maxEnqueuedMessages).
	QueueDropNewest QueueFull = "drop-newest"
	// QueueDropOldest drops the oldest queued send to make room.
	QueueDropOldest QueueFull = "drop-oldest"
)

// Queue is the offline-send contract.
type Queue struct {
	// Enabled: sends while not connected are queued and flushed FIFO on the
	// next open, before anything sent after it. Disabled: they fail.
	Enabled bool `yaml:"enabled"`
	// Limit bounds the queue (0: unbounded); Full says what a send beyond
	// it does.
	Limit int       `yaml:"limit,omitempty"`
	Full  QueueFull `yaml:"full,omitempty"`
}

// Resume is the hello / connection-id / sequence contract (mattermost).
type Resume struct {
	// HelloType is the first event of a fresh session, at seq 0, whose data
	// carries the connection id in IDField.
	HelloType string `yaml:"hello_type"`
	IDField   string `yaml:"id_field"`
	// IDParam and SeqParam name the connect URL's query parameters: the
	// connection id and the next event seq the client expects.
	IDParam  string `yaml:"id_param"`
	SeqParam string `yaml:"seq_param"`
	// BufferSize is how many sent events the server keeps for replay.
	BufferSize int `yaml:"buffer_size"`
	// GapCloseCode is the code of the close when an event's seq is not the
	// expected one (reported where Close.Report says).
	GapCloseCode StatusCode `yaml:"gap_close_code"`
	// ResetFailures sets the failure count to 0 before that close.
	ResetFailures bool `yaml:"reset_failures,omitempty"`
}

// Ping is the heartbeat ping with id seq.
func (p *Profile) Ping(seq int64) Message {
	k := Request
	if p.Heartbeat.Mode == HeartbeatServer {
		k = Event
	}
	return Message{Kind: k, Type: p.Heartbeat.PingType, Seq: seq, HasSeq: true}
}

// IsPong reports whether m answers the ping with id seq.
func (p *Profile) IsPong(m Message, seq int64) bool {
	if p.Heartbeat.PongType == "" {
		return m.Kind == Reply && m.SeqReply == seq
	}
	return m.Type == p.Heartbeat.PongType && (m.Kind == Event) == (p.Heartbeat.Mode != HeartbeatServer)
}

// Pong is the answer to a ping.
func (p *Profile) Pong(ping Message) Message {
	if p.Heartbeat.PongType == "" {
		return Message{Kind: Reply, Status: "OK", SeqReply: ping.Seq, Data: MustData(map[string]string{"text": "pong"})}
	}
	k := Event
	if p.Heartbeat.Mode == HeartbeatServer {
		k = Request
	}
	return Message{Kind: k, Type: p.Heartbeat.PongType}
}

// WireFormat says in one line what the profile's messages look like, for
// serve's banner: `{"event","data","seq"} events, {"action","seq"} requests`.
func (p *Profile) WireFormat() string {
	if d, ok := p.Codec.(interface{ Describe() string }); ok {
		return d.Describe()
	}
	return CodecName(p.Codec)
}
