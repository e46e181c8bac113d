package profile

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/wschaos/wschaos/internal/filecodec"
)

func init() { RegisterCodec("json", func() Codec { return &JSONObject{} }) }

// JSONObject is an envelope of JSON objects whose keys a profile names:
// the queue profile's {"type","payload"}, mattermost's events
// {"event","data","seq","broadcast"}, requests {"action","seq","data"} and
// replies {"status","seq_reply","data"|"error"}, graphql-ws's
// {"id","type","payload"}, SignalR's records ending in \x1e.
//
// A message from the server is a Reply when it has ReplyTo, else an Event
// and must have its type; a message from the client is a Request and must
// have its type. Keys left empty are not part of the envelope.
type JSONObject struct {
	// Type is the key of a message's type; RequestType and EventType
	// override it for one direction (mattermost: "action", "event").
	Type        string `yaml:"type,omitempty"`
	RequestType string `yaml:"request_type,omitempty"`
	EventType   string `yaml:"event_type,omitempty"`
	// TypeNumber writes the type as a JSON number (SignalR's "type":6).
	TypeNumber bool `yaml:"type_number,omitempty"`
	// Payload is the key of the message's data.
	Payload string `yaml:"payload,omitempty"`
	// Seq is the key of an event's sequence number or a request's id;
	// SeqText writes it as a string (graphql-ws's "id":"1").
	Seq     string `yaml:"seq,omitempty"`
	SeqText bool   `yaml:"seq_text,omitempty"`
	// ReplyTo, Status and Error are a reply's keys: the id of the request
	// it answers, its status, its error.
	ReplyTo string `yaml:"reply_to,omitempty"`
	Status  string `yaml:"status,omitempty"`
	Error   string `yaml:"error,omitempty"`
	// Meta is the key of an event's routing metadata, kept as sent
	// (mattermost's "broadcast").
	Meta string `yaml:"meta,omitempty"`
	// Separator ends every record (SignalR's "\x1e"); one record a frame.
	Separator string `yaml:"separator,omitempty"`
	// Inline: a message's data is the record's own other keys, beside its
	// type, not one key's value (SignalR's {"type":1,"target":…,
	// "arguments":…}). Data must then be an object; decoded, its keys come
	// sorted. Excludes Payload.
	Inline bool `yaml:"inline,omitempty"`
	// Untyped is the type of a record without the type key, and a message
	// of this type is written without one: SignalR's handshake request
	// {"protocol":"json","version":1} and its reply {}, which have no type
	// (HandshakeProtocol.js L45 refuses a reply that has one).
	Untyped string `yaml:"untyped,omitempty"`
}

// TypedJSON is the queue profile's envelope: {"type": ..., "payload": ...}
// in both directions.
var TypedJSON = JSONObject{Type: "type", Payload: "payload"}

// MattermostJSON is the Mattermost envelope.
var MattermostJSON = JSONObject{RequestType: "action", EventType: "event", Payload: "data", Seq: "seq",
	ReplyTo: "seq_reply", Status: "status", Error: "error", Meta: "broadcast"}

func (j JSONObject) typeKey(k Kind) string {
	switch {
	case k == Request && j.RequestType != "":
		return j.RequestType
	case k == Event && j.EventType != "":
		return j.EventType
	}
	return j.Type
}

// Validate checks that every message can be told apart and typed.
func (j *JSONObject) Validate() error {
	switch {
	case j.Type == "" && (j.RequestType == "" || j.EventType == ""):
		return &filecodec.FieldError{Field: "type", Msg: "is required (or both request_type and event_type): the key of a message's type"}
	case j.ReplyTo == "" && (j.Status != "" || j.Error != ""):
		return &filecodec.FieldError{Field: "reply_to", Msg: "is required when a reply has status or error keys"}
	case j.Inline && j.Payload != "":
		return &filecodec.FieldError{Field: "inline", Msg: "and payload exclude each other: the data is either the record's other keys or one key's value"}
	}
	return nil
}

// Describe says in one line what the envelope looks like.
func (j JSONObject) Describe() string {
	obj := func(keys ...string) string {
		var ks []string
		for _, k := range keys {
			if k != "" {
				ks = append(ks, strconv.Quote(k))
			}
		}
		return "{" + strings.Join(ks, ",") + "}"
	}
	ev, rq := j.typeKey(Event), j.typeKey(Request)
	s := ""
	if ev == rq {
		s = obj(ev, j.Payload, j.Seq) + " messages"
	} else {
		s = obj(ev, j.Payload, j.Seq) + " events, " + obj(rq, j.Seq, j.Payload) + " requests"
	}
	if j.ReplyTo != "" {
		s += ", " + obj(j.Status, j.ReplyTo) + " replies"
	}
	if j.Inline {
		s += ", the data inline"
	}
	if j.Untyped != "" {
		s += fmt.Sprintf(", a record without a type being %q", j.Untyped)
	}
	if j.Separator != "" {
		s += fmt.Sprintf(", each ending in %q", j.Separator)
	}
	return s
}

func (j JSONObject) Encode(m Message) ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	put := func(key string, v any) error {
		if key == "" {
			return nil
		}
		raw, err := json.Marshal(v)
		if err != nil {
			return err
		}
		if b.Len() > 1 {
			b.WriteByte(',')
		}
		k, _ := json.Marshal(key)
		b.Write(k)
		b.WriteByte(':')
		b.Write(raw)
		return nil
	}
	var err error
	switch m.Kind {
	case Event, Request:
		if m.Type == "" {
			return nil, fmt.Errorf("cannot encode a %s without a type", m.Kind)
		}
		if m.Type != j.Untyped {
			err = put(j.typeKey(m.Kind), j.typeValue(m.Type))
		}
	case Reply:
		if j.ReplyTo == "" {
			return nil, errors.New("cannot encode a reply: the envelope has no reply_to key")
		}
		if m.Status != "" {
			err = put(j.Status, m.Status)
		}
	}
	if err == nil && m.HasSeq && m.Kind != Reply {
		err = put(j.Seq, seqValue(m.Seq, j.SeqText))
	}
	if err == nil && m.Kind == Reply {
		err = put(j.ReplyTo, seqValue(m.SeqReply, j.SeqText))
	}
	if err == nil && len(m.Data) > 0 && j.Inline {
		err = j.putInline(&b, m.Data)
	} else if err == nil && len(m.Data) > 0 {
		err = put(j.Payload, m.Data)
	}
	if err == nil && m.Kind == Reply && len(m.Error) > 0 {
		err = put(j.Error, m.Error)
	}
	if err == nil && m.Kind == Event && len(m.Broadcast) > 0 {
		err = put(j.Meta, m.Broadcast)
	}
	if err != nil {
		return nil, err
	}
	b.WriteByte('}')
	b.WriteString(j.Separator)
	return b.Bytes(), nil
}

// putInline writes the members of data, an object, into the record b
// holds, in data's order. A member named as one of the envelope's keys is
// refused: the reader could not tell it from the envelope's.
func (j JSONObject) putInline(b *bytes.Buffer, data json.RawMessage) error {
	var members map[string]json.RawMessage
	if err := json.Unmarshal(data, &members); err != nil || members == nil {
		return fmt.Errorf("cannot write the data inline: not a JSON object: %.40s", data)
	}
	for k := range members {
		if j.isKey(k) {
			return fmt.Errorf("cannot write the data inline: its key %q is the envelope's", k)
		}
	}
	var c bytes.Buffer
	if err := json.Compact(&c, data); err != nil {
		return err
	}
	body := bytes.TrimSpace(c.Bytes())
	body = body[1 : len(body)-1]
	if len(body) == 0 {
		return nil
	}
	if b.Len() > 1 {
		b.WriteByte(',')
	}
	b.Write(body)
	return nil
}

// isKey reports whether k is one of the envelope's own keys.
func (j JSONObject) isKey(k string) bool {
	for _, key := range []string{j.Type, j.RequestType, j.EventType, j.Payload, j.Seq, j.ReplyTo, j.Status, j.Error, j.Meta} {
		if key != "" && key == k {
			return true
		}
	}
	return false
}

func (j JSONObject) typeValue(t string) any {
	if j.TypeNumber {
		if n, err := strconv.ParseInt(t, 10, 64); err == nil {
			return n
		}
	}
	return t
}

func (j JSONObject) Decode(frame []byte, from Side) (Message, error) {
	if j.Separator != "" {
		rec, ok := bytes.CutSuffix(frame, []byte(j.Separator))
		if !ok {
			return Message{}, envelopeErr("record does not end in %q", j.Separator)
		}
		if bytes.Contains(rec, []byte(j.Separator)) {
			return Message{}, envelopeErr("more than one record in a frame")
		}
		frame = rec
	}
	var w map[string]json.RawMessage
	if err := json.Unmarshal(frame, &w); err != nil {
		return Message{}, envelopeErr("not a JSON object: %v", err)
	}
	get := func(key string) json.RawMessage {
		if key == "" {
			return nil
		}
		if v, ok := w[key]; ok && string(v) != "null" {
			return v
		}
		return nil
	}
	m := Message{Data: w[j.Payload], Broadcast: get(j.Meta), Error: get(j.Error)}
	if j.Payload == "" {
		m.Data = nil
	}
	if j.Inline {
		rest := map[string]json.RawMessage{}
		for k, v := range w {
			if !j.isKey(k) {
				rest[k] = v
			}
		}
		if len(rest) > 0 {
			m.Data, _ = json.Marshal(rest) // sorted keys; RawMessage values are kept
		}
	}
	if raw := get(j.Status); raw != nil {
		if err := json.Unmarshal(raw, &m.Status); err != nil {
			return Message{}, envelopeErr("%q is not a string", j.Status)
		}
	}
	if raw := get(j.Seq); raw != nil {
		n, err := j.readSeq(raw)
		if err != nil {
			return Message{}, envelopeErr("%q: %v", j.Seq, err)
		}
		m.Seq, m.HasSeq = n, true
	}
	if from == Server {
		if raw := get(j.ReplyTo); raw != nil {
			n, err := j.readSeq(raw)
			if err != nil {
				return Message{}, envelopeErr("%q: %v", j.ReplyTo, err)
			}
			m.Kind, m.SeqReply = Reply, n
			m.Seq, m.HasSeq = 0, false
			return m, nil
		}
	}
	m.Kind = Event
	if from == Client {
		m.Kind = Request
	}
	key := j.typeKey(m.Kind)
	rawType := get(key)
	if rawType == nil && j.Untyped != "" {
		m.Type = j.Untyped
		if m.Kind != Event {
			m.Broadcast = nil
		}
		return m, nil
	}
	t, err := j.readType(rawType)
	if err != nil {
		if from == Server && j.ReplyTo != "" {
			return Message{}, envelopeErr("server message has neither %q nor %q", key, j.ReplyTo)
		}
		return Message{}, envelopeErr("%s has no %q: %v", m.Kind, key, err)
	}
	m.Type = t
	if m.Kind != Event {
		m.Broadcast = nil
	}
	return m, nil
}

func (j JSONObject) readType(raw json.RawMessage) (string, error) {
	if raw == nil {
		return "", errors.New("missing")
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		if s == "" {
			return "", errors.New("empty")
		}
		return s, nil
	}
	var n int64
	if j.TypeNumber && json.Unmarshal(raw, &n) == nil {
		return strconv.FormatInt(n, 10), nil
	}
	return "", fmt.Errorf("not a string: %s", raw)
}

func (j JSONObject) readSeq(raw json.RawMessage) (int64, error) { return readSeq(raw, j.SeqText) }
