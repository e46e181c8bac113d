package profile

import (
	"encoding/json"
	"fmt"
)

// Side is one end of a connection.
type Side int

const (
	Client Side = iota
	Server
)

func (s Side) String() string {
	if s == Server {
		return "server"
	}
	return "client"
}

// Kind is the shape of an envelope.
type Kind int

const (
	// Event is a server-to-client message (queue: every server message).
	Event Kind = iota
	// Request is a client-to-server message (queue: every client message).
	Request
	// Reply is a server's answer to one request (mattermost's seq_reply).
	Reply
)

func (k Kind) String() string {
	switch k {
	case Request:
		return "request"
	case Reply:
		return "reply"
	}
	return "event"
}

// Message is one envelope of any profile, decoded. Fields a profile's
// envelope does not carry stay zero.
type Message struct {
	Kind Kind
	// Type is the queue profile's "type", mattermost's "event" (events) or
	// "action" (requests).
	Type string
	// Seq is an event's sequence number or a request's id; HasSeq says the
	// envelope carried one.
	Seq    int64
	HasSeq bool
	// SeqReply is the request id a Reply answers.
	SeqReply int64
	// Status is a reply's "status" ("OK" or "FAIL").
	Status string
	// Data is the queue profile's "payload" or mattermost's "data".
	Data json.RawMessage
	// Error is a failed reply's "error".
	Error json.RawMessage
	// Broadcast is mattermost's event routing metadata, kept as sent.
	Broadcast json.RawMessage
}

func (m Message) String() string {
	switch {
	case m.Kind == Reply:
		return fmt.Sprintf("reply seq_reply=%d status=%s", m.SeqReply, m.Status)
	case m.HasSeq:
		return fmt.Sprintf("%s %s seq=%d", m.Kind, m.Type, m.Seq)
	}
	return fmt.Sprintf("%s %s", m.Kind, m.Type)
}

// Field decodes one top-level string field of Data, "" when absent.
func (m Message) Field(name string) string {
	var fields map[string]json.RawMessage
	if json.Unmarshal(m.Data, &fields) != nil {
		return ""
	}
	var s string
	if json.Unmarshal(fields[name], &s) != nil {
		return ""
	}
	return s
}

// MustData marshals v for a Message's Data and panics on failure; for
// literals in tests and scripts.
func MustData(v any) json.RawMessage {
	b, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("profile: cannot marshal data %#v: %v", v, err))
	}
	return b
}
