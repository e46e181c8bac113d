// Package profile describes protocol profiles as data: the whole contract
// between a reconnecting client and its server (envelope, backoff, heartbeat,
// queueing, resume). The reference client and the fake server both play a
// Profile, so one value states what each side must do.
//
// The shipped profiles are built by functions, not shared variables, so a
// test may change its copy without touching anyone else's.
package profile

import (
	"time"

	"github.com/wschaos/wschaos/backoff"
)

// StatusCode is a WebSocket close code.
type StatusCode int

const (
	StatusNormalClosure   StatusCode = 1000
	StatusGoingAway       StatusCode = 1001
	StatusNoStatus        StatusCode = 1005 // no code in the close frame
	StatusAbnormalClosure StatusCode = 1006 // no close frame at all
	StatusPolicyViolation StatusCode = 1008
	StatusMessageTooBig   StatusCode = 1009
	StatusInternalError   StatusCode = 1011
	// StatusPingTimeout is mattermost's close when a ping got no reply.
	StatusPingTimeout StatusCode = 4000
	// StatusSeqMismatch is mattermost's close when an event's seq is not the
	// expected one.
	StatusSeqMismatch StatusCode = 4001
)

// Profile is one protocol contract.
type Profile struct {
	Name    string
	Codec   Codec
	Backoff backoff.Policy
	// Heartbeat says how the client proves the link is alive.
	Heartbeat Heartbeat
	// Queue says what happens to sends while the client is not connected.
	Queue Queue
	// Resume, when not nil, is the hello / connection-id / sequence protocol.
	Resume *Resume
	// Replies: the server answers every request with a Reply carrying its
	// seq (mattermost). Without it the server answers only pings, with an
	// event of Heartbeat.PongType.
	Replies bool
	// ErrorType is the server event that puts the client in the error
	// state ("" for none).
	ErrorType string
	// SendType and AckType: the server acknowledges each request of
	// SendType with an event of AckType whose data carries the request's
	// "id" as "messageId", so delivery can be counted exactly.
	SendType, AckType string
}

// Heartbeat is the liveness contract.
type Heartbeat struct {
	// Interval between pings. A ping still unanswered when the next one is
	// due means the link is dead: a dead link is noticed within 2·Interval.
	Interval time.Duration
	// OnOpen sends the first ping as soon as the socket opens.
	OnOpen bool
	// PingType is the request that pings; PongType the event that answers
	// it when the profile has no Replies.
	PingType, PongType string
	// CloseCode is sent when a ping went unanswered.
	CloseCode StatusCode
	// ResetFailures sets the failure count to 0 before that close, so the
	// retry after a dead link is the shortest.
	ResetFailures bool
	// Frames uses WebSocket ping/pong control frames instead of messages.
	Frames bool
}

// Queue is the offline-send contract.
type Queue struct {
	// Enabled: sends while not connected are queued and flushed FIFO on the
	// next open, before anything sent after it. Disabled: they fail.
	Enabled bool
	// Limit bounds the queue; a send beyond it fails.
	Limit int
}

// Resume is the hello / connection-id / sequence contract (mattermost).
type Resume struct {
	// HelloType is the first event of a fresh session, at seq 0, whose data
	// carries "connection_id".
	HelloType string
	// BufferSize is how many sent events the server keeps for replay.
	BufferSize int
	// GapCloseCode is sent when an event's seq is not the expected one.
	GapCloseCode StatusCode
	// ResetFailures sets the failure count to 0 before that close.
	ResetFailures bool
}

// QueueProfile returns profile "queue", a typical app client: JSON {"type","payload"},
// backoff 1, 2, 4, 8, 16 s then give up, ping every 30 s, offline queue.
func QueueProfile() *Profile {
	return &Profile{
		Name:    "queue",
		Codec:   TypedJSON{},
		Backoff: backoff.Limit{Policy: backoff.Exponential{Base: time.Second, Factor: 2}, Attempts: 5},
		Heartbeat: Heartbeat{
			Interval:  30 * time.Second,
			PingType:  "ping",
			PongType:  "pong",
			CloseCode: StatusPingTimeout,
		},
		Queue:     Queue{Enabled: true, Limit: 256},
		ErrorType: "error",
		SendType:  "message.send",
		AckType:   "message.received",
	}
}

// Mattermost returns profile "mattermost", the Mattermost webapp client:
// connection ids and sequence numbers with resume, ping on open and every
// 30 s, flat 3 s backoff ×7 then 3 s·n² capped at 300 s plus [0, 2 s) jitter,
// never giving up; sends while not open fail.
func MattermostProfile() *Profile {
	return &Profile{
		Name:    "mattermost",
		Codec:   MattermostJSON{},
		Backoff: backoff.MattermostDefaults,
		Heartbeat: Heartbeat{
			Interval:      30 * time.Second,
			OnOpen:        true,
			PingType:      "ping",
			CloseCode:     StatusPingTimeout,
			ResetFailures: true,
		},
		Resume: &Resume{
			HelloType:     "hello",
			BufferSize:    128,
			GapCloseCode:  StatusSeqMismatch,
			ResetFailures: true,
		},
		Replies: true,
	}
}

// ByName returns a fresh copy of a shipped profile, or nil.
func ByName(name string) *Profile {
	switch name {
	case "queue":
		return QueueProfile()
	case "mattermost":
		return MattermostProfile()
	}
	return nil
}

// Names lists the shipped profiles.
func Names() []string { return []string{"queue", "mattermost"} }

// Ping is the heartbeat request with id seq.
func (p *Profile) Ping(seq int64) Message {
	return Message{Kind: Request, Type: p.Heartbeat.PingType, Seq: seq, HasSeq: true}
}

// IsPong reports whether m answers the ping with id seq.
func (p *Profile) IsPong(m Message, seq int64) bool {
	if p.Replies {
		return m.Kind == Reply && m.SeqReply == seq
	}
	return m.Kind == Event && m.Type == p.Heartbeat.PongType
}

// Pong is the server's answer to a ping request.
func (p *Profile) Pong(ping Message) Message {
	if p.Replies {
		return Message{Kind: Reply, Status: "OK", SeqReply: ping.Seq, Data: MustData(map[string]string{"text": "pong"})}
	}
	return Message{Kind: Event, Type: p.Heartbeat.PongType}
}
