package profile

import (
	"encoding/json"
	"errors"
	"fmt"
)

// Codec turns Messages into text frames and back, for one profile's envelope.
type Codec interface {
	Encode(m Message) ([]byte, error)
	// Decode parses a frame that from sent. It must not keep frame, nor
	// a slice of it, once it returns: the chaos proxy reuses the buffer
	// (encoding/json copies what it keeps, json.RawMessage included).
	Decode(frame []byte, from Side) (Message, error)
}

// ErrEnvelope is wrapped by every Decode error.
var ErrEnvelope = errors.New("bad envelope")

func envelopeErr(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrEnvelope, fmt.Sprintf(format, args...))
}

// TypedJSON is the queue profile's envelope: {"type": ..., "payload": ...}
// in both directions.
type TypedJSON struct{}

type typedWire struct {
	Type    *string         `json:"type"`
	Payload json.RawMessage `json:"payload,omitempty"`
}

func (TypedJSON) Encode(m Message) ([]byte, error) {
	if m.Type == "" {
		return nil, errors.New("cannot encode a message without a type")
	}
	return json.Marshal(typedWire{Type: &m.Type, Payload: m.Data})
}

func (TypedJSON) Decode(frame []byte, from Side) (Message, error) {
	var w typedWire
	if err := json.Unmarshal(frame, &w); err != nil {
		return Message{}, envelopeErr("not a JSON object: %v", err)
	}
	if w.Type == nil || *w.Type == "" {
		return Message{}, envelopeErr(`no "type" field`)
	}
	k := Event
	if from == Client {
		k = Request
	}
	return Message{Kind: k, Type: *w.Type, Data: w.Payload}, nil
}

// MattermostJSON is the Mattermost envelope: server events
// {"event","data","seq","broadcast"}, client requests {"action","seq","data"},
// replies {"status","seq_reply","data"|"error"}.
type MattermostJSON struct{}

type mmWire struct {
	Event     *string         `json:"event,omitempty"`
	Action    *string         `json:"action,omitempty"`
	Status    string          `json:"status,omitempty"`
	Seq       *int64          `json:"seq,omitempty"`
	SeqReply  *int64          `json:"seq_reply,omitempty"`
	Data      json.RawMessage `json:"data,omitempty"`
	Error     json.RawMessage `json:"error,omitempty"`
	Broadcast json.RawMessage `json:"broadcast,omitempty"`
}

func (MattermostJSON) Encode(m Message) ([]byte, error) {
	var w mmWire
	if m.HasSeq {
		w.Seq = &m.Seq // seq 0 is a real seq (the hello's): a pointer keeps it
	}
	switch m.Kind {
	case Event:
		if m.Type == "" {
			return nil, errors.New("cannot encode an event without a type")
		}
		w.Event, w.Broadcast = &m.Type, m.Broadcast
	case Request:
		if m.Type == "" {
			return nil, errors.New("cannot encode a request without an action")
		}
		w.Action = &m.Type
	case Reply:
		w.Seq = nil // a reply answers seq_reply; it has no seq of its own
		w.Status, w.SeqReply, w.Error = m.Status, &m.SeqReply, m.Error
	}
	w.Data = m.Data
	return json.Marshal(w)
}

func (MattermostJSON) Decode(frame []byte, from Side) (Message, error) {
	var w mmWire
	if err := json.Unmarshal(frame, &w); err != nil {
		return Message{}, envelopeErr("not a JSON object: %v", err)
	}
	m := Message{Data: w.Data, Error: w.Error, Broadcast: w.Broadcast, Status: w.Status}
	if w.Seq != nil {
		m.Seq, m.HasSeq = *w.Seq, true
	}
	switch {
	case from == Client:
		if w.Action == nil || *w.Action == "" {
			return Message{}, envelopeErr(`request has no "action"`)
		}
		m.Kind, m.Type = Request, *w.Action
	case w.SeqReply != nil:
		m.Kind, m.SeqReply = Reply, *w.SeqReply
	case w.Event != nil && *w.Event != "":
		m.Kind, m.Type = Event, *w.Event
	default:
		return Message{}, envelopeErr(`server message has neither "event" nor "seq_reply"`)
	}
	return m, nil
}
