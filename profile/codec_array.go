package profile

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/wschaos/wschaos/internal/filecodec"
)

func init() { RegisterCodec("json-array", func() Codec { return &JSONArray{} }) }

// JSONArray is an envelope of JSON arrays whose positions a profile names,
// as Phoenix's v2 serializer writes [join_ref, ref, topic, event, payload].
//
// Fields gives each position a role: "type", "seq", "payload", "topic",
// or "-" for a position written as null and ignored when read. A server
// message whose type is ReplyType is a Reply to the request whose seq it
// carries, with its payload's "status" and "response" (phx_reply).
type JSONArray struct {
	Fields []string `yaml:"fields"`
	// SeqText writes the seq as a string (Phoenix's refs are strings).
	SeqText bool `yaml:"seq_text,omitempty"`
	// Topic is written at the topic position ("phoenix").
	Topic     string `yaml:"topic,omitempty"`
	ReplyType string `yaml:"reply_type,omitempty"`
}

// PhoenixArray is Phoenix's v2 text serializer.
var PhoenixArray = JSONArray{Fields: []string{"-", "seq", "topic", "type", "payload"}, SeqText: true,
	Topic: "phoenix", ReplyType: "phx_reply"}

var arrayRoles = []string{"type", "seq", "payload", "topic", "-"}

// Validate wants each role at most once, and a type.
func (a *JSONArray) Validate() error {
	seen := map[string]bool{}
	for i, f := range a.Fields {
		if !slices.Contains(arrayRoles, f) {
			return &filecodec.FieldError{Field: "fields", Msg: fmt.Sprintf("position %d: %q is not one of %s", i, f, strings.Join(arrayRoles, ", "))}
		}
		if f != "-" && seen[f] {
			return &filecodec.FieldError{Field: "fields", Msg: fmt.Sprintf("%q appears twice", f)}
		}
		seen[f] = true
	}
	switch {
	case !seen["type"]:
		return &filecodec.FieldError{Field: "fields", Msg: `needs a "type" position`}
	case a.ReplyType != "" && !seen["seq"]:
		return &filecodec.FieldError{Field: "reply_type", Msg: `replies need a "seq" position to carry the request's id`}
	}
	return nil
}

// Describe says in one line what the envelope looks like.
func (a JSONArray) Describe() string {
	names := make([]string, len(a.Fields))
	for i, f := range a.Fields {
		names[i] = f
		if f == "-" {
			names[i] = "null"
		}
	}
	s := "[" + strings.Join(names, ", ") + "] arrays"
	if a.ReplyType != "" {
		s += fmt.Sprintf(", %q replies", a.ReplyType)
	}
	return s
}

func (a JSONArray) Encode(m Message) ([]byte, error) {
	typ, data, seq := m.Type, m.Data, m.Seq
	hasSeq := m.HasSeq
	if m.Kind == Reply {
		if a.ReplyType == "" {
			return nil, errors.New("cannot encode a reply: the envelope has no reply_type")
		}
		typ, seq, hasSeq = a.ReplyType, m.SeqReply, true
		resp := m.Data
		if len(resp) == 0 {
			resp = json.RawMessage("{}")
		}
		status := strings.ToLower(m.Status)
		if status == "" {
			status = "ok"
		}
		var err error
		if data, err = json.Marshal(map[string]any{"status": status, "response": resp}); err != nil {
			return nil, err
		}
	}
	if typ == "" {
		return nil, fmt.Errorf("cannot encode a %s without a type", m.Kind)
	}
	out := make([]any, len(a.Fields))
	for i, f := range a.Fields {
		switch f {
		case "type":
			out[i] = typ
		case "seq":
			if hasSeq {
				out[i] = seqValue(seq, a.SeqText)
			}
		case "payload":
			if len(data) > 0 {
				out[i] = data
			} else {
				out[i] = json.RawMessage("{}")
			}
		case "topic":
			out[i] = a.Topic
		}
	}
	return json.Marshal(out)
}

func (a JSONArray) Decode(frame []byte, from Side) (Message, error) {
	var w []json.RawMessage
	if err := json.Unmarshal(frame, &w); err != nil || w == nil {
		if err == nil {
			err = errors.New("null")
		}
		return Message{}, envelopeErr("not a JSON array: %v", err)
	}
	if len(w) != len(a.Fields) {
		return Message{}, envelopeErr("%d elements, want %d", len(w), len(a.Fields))
	}
	var m Message
	for i, f := range a.Fields {
		raw := w[i]
		switch f {
		case "type":
			if json.Unmarshal(raw, &m.Type) != nil || m.Type == "" {
				return Message{}, envelopeErr("element %d (the type) is not a non-empty string: %s", i, raw)
			}
		case "seq":
			if string(raw) == "null" {
				continue
			}
			n, err := readSeq(raw, a.SeqText)
			if err != nil {
				return Message{}, envelopeErr("element %d (the seq): %v", i, err)
			}
			m.Seq, m.HasSeq = n, true
		case "payload":
			m.Data = raw
		}
	}
	m.Kind = Event
	if from == Client {
		m.Kind = Request
	}
	if from == Server && a.ReplyType != "" && m.Type == a.ReplyType {
		if !m.HasSeq {
			return Message{}, envelopeErr("a %s without a seq", a.ReplyType)
		}
		var body struct {
			Status   string          `json:"status"`
			Response json.RawMessage `json:"response"`
		}
		json.Unmarshal(m.Data, &body)
		m = Message{Kind: Reply, Type: m.Type, SeqReply: m.Seq, Status: body.Status, Data: body.Response}
	}
	return m, nil
}

func seqValue(n int64, text bool) any {
	if text {
		return strconv.FormatInt(n, 10)
	}
	return n
}

// readSeq reads a whole number, written as a string when text is set.
func readSeq(raw json.RawMessage, text bool) (int64, error) {
	var n int64
	if !text {
		if err := json.Unmarshal(raw, &n); err != nil {
			return 0, fmt.Errorf("not a whole number: %s", raw)
		}
		return n, nil
	}
	var s string
	if json.Unmarshal(raw, &s) != nil {
		return 0, fmt.Errorf("not a string: %s", raw)
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("not a whole number: %q", s)
	}
	return n, nil
}
