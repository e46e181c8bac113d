package profile

import (
	"encoding/json"
	"fmt"

	"github.com/wschaos/wschaos/internal/filecodec"
)

func init() { RegisterCodec("text", func() Codec { return &Text{} }) }

// Text is no envelope at all: every frame is one message of type Type
// whose data is the frame's text as a JSON string (reconnecting-websocket
// sends whatever the application gives it).
type Text struct {
	Type string `yaml:"type"`
}

// Validate wants the type every frame is given.
func (t *Text) Validate() error {
	if t.Type == "" {
		return &filecodec.FieldError{Field: "type", Msg: `is required: the type every frame is given, e.g. "message"`}
	}
	return nil
}

// Describe says in one line what the envelope looks like.
func (t Text) Describe() string { return fmt.Sprintf("plain text frames (each a %q message)", t.Type) }

// Encode writes the data's text: a JSON string's contents, or any other
// JSON value as it is.
func (t Text) Encode(m Message) ([]byte, error) {
	var s string
	if json.Unmarshal(m.Data, &s) == nil {
		return []byte(s), nil
	}
	return append([]byte(nil), m.Data...), nil
}

func (t Text) Decode(frame []byte, from Side) (Message, error) {
	data, err := json.Marshal(string(frame))
	if err != nil {
		return Message{}, envelopeErr("%v", err)
	}
	k := Event
	if from == Client {
		k = Request
	}
	return Message{Kind: k, Type: t.Type, Data: data}, nil
}
