package profile_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/wschaos/wschaos/profile"
)

func raw(s string) json.RawMessage { return json.RawMessage(s) }

// diffMessage names the first field where got and want differ, "" if none.
// Raw JSON fields compare byte for byte (nil equals empty).
func diffMessage(got, want profile.Message) string {
	switch {
	case got.Kind != want.Kind:
		return "Kind: " + got.Kind.String() + " != " + want.Kind.String()
	case got.Type != want.Type:
		return "Type: " + got.Type + " != " + want.Type
	case got.Seq != want.Seq || got.HasSeq != want.HasSeq:
		return "Seq/HasSeq differ"
	case got.SeqReply != want.SeqReply:
		return "SeqReply differs"
	case got.Status != want.Status:
		return "Status: " + got.Status + " != " + want.Status
	case !bytes.Equal(got.Data, want.Data):
		return "Data: " + string(got.Data) + " != " + string(want.Data)
	case !bytes.Equal(got.Error, want.Error):
		return "Error: " + string(got.Error) + " != " + string(want.Error)
	case !bytes.Equal(got.Broadcast, want.Broadcast):
		return "Broadcast: " + string(got.Broadcast) + " != " + string(want.Broadcast)
	}
	return ""
}

// codecCase is one message, the exact frame it encodes to, and the side
// that sends it.
type codecCase struct {
	name  string
	m     profile.Message
	from  profile.Side
	frame string
}

var typedJSONCases = []codecCase{
	{"ping", profile.Message{Kind: profile.Request, Type: "ping"}, profile.Client,
		`{"type":"ping"}`},
	{"send", profile.Message{Kind: profile.Request, Type: "message.send", Data: raw(`{"id":"m1","text":"hi"}`)}, profile.Client,
		`{"type":"message.send","payload":{"id":"m1","text":"hi"}}`},
	{"pong", profile.Message{Kind: profile.Event, Type: "pong"}, profile.Server,
		`{"type":"pong"}`},
	{"session created", profile.Message{Kind: profile.Event, Type: "session.created", Data: raw(`{"sessionId":"s1"}`)}, profile.Server,
		`{"type":"session.created","payload":{"sessionId":"s1"}}`},
	{"ack", profile.Message{Kind: profile.Event, Type: "message.received", Data: raw(`{"messageId":"m1"}`)}, profile.Server,
		`{"type":"message.received","payload":{"messageId":"m1"}}`},
	{"error with a string payload", profile.Message{Kind: profile.Event, Type: "error", Data: raw(`"session expired"`)}, profile.Server,
		`{"type":"error","payload":"session expired"}`},
	{"null payload", profile.Message{Kind: profile.Event, Type: "panel.deleted", Data: raw(`null`)}, profile.Server,
		`{"type":"panel.deleted","payload":null}`},
}

var mattermostCases = []codecCase{
	{"ping", profile.Message{Kind: profile.Request, Type: "ping", Seq: 1, HasSeq: true}, profile.Client,
		`{"action":"ping","seq":1}`},
	{"request seq 0 with data", profile.Message{Kind: profile.Request, Type: "user_typing", Seq: 0, HasSeq: true, Data: raw(`{"channel_id":"c1"}`)}, profile.Client,
		`{"action":"user_typing","seq":0,"data":{"channel_id":"c1"}}`},
	{"request without seq", profile.Message{Kind: profile.Request, Type: "get_statuses"}, profile.Client,
		`{"action":"get_statuses"}`},
	{"hello at seq 0", profile.Message{Kind: profile.Event, Type: "hello", Seq: 0, HasSeq: true, Data: raw(`{"connection_id":"abc","server_version":"9.11.0"}`)}, profile.Server,
		`{"event":"hello","seq":0,"data":{"connection_id":"abc","server_version":"9.11.0"}}`},
	{"event with broadcast", profile.Message{Kind: profile.Event, Type: "posted", Seq: 3, HasSeq: true, Data: raw(`{"post":"{}"}`), Broadcast: raw(`{"channel_id":"c1","omit_users":null}`)}, profile.Server,
		`{"event":"posted","seq":3,"data":{"post":"{}"},"broadcast":{"channel_id":"c1","omit_users":null}}`},
	{"event without seq", profile.Message{Kind: profile.Event, Type: "typing"}, profile.Server,
		`{"event":"typing"}`},
	{"pong reply", profile.Message{Kind: profile.Reply, Status: "OK", SeqReply: 1, Data: raw(`{"text":"pong"}`)}, profile.Server,
		`{"status":"OK","seq_reply":1,"data":{"text":"pong"}}`},
	{"reply to seq 0", profile.Message{Kind: profile.Reply, Status: "OK", SeqReply: 0}, profile.Server,
		`{"status":"OK","seq_reply":0}`},
	{"failed reply", profile.Message{Kind: profile.Reply, Status: "FAIL", SeqReply: 2, Error: raw(`{"id":"api.web_socket_router.bad_action.app_error"}`)}, profile.Server,
		`{"status":"FAIL","seq_reply":2,"error":{"id":"api.web_socket_router.bad_action.app_error"}}`},
}

// signalRJSON is the SignalR JSON hub protocol's envelope, as the shipped
// signalr profile states it.
var signalRJSON = &profile.JSONObject{Type: "type", TypeNumber: true, Inline: true, Untyped: "handshake", Separator: "\x1e"}

var signalRCases = []codecCase{
	{"handshake request", profile.Message{Kind: profile.Request, Type: "handshake", Data: raw(`{"protocol":"json","version":1}`)}, profile.Client,
		`{"protocol":"json","version":1}` + "\x1e"},
	{"handshake reply", profile.Message{Kind: profile.Event, Type: "handshake"}, profile.Server,
		`{}` + "\x1e"},
	{"ping", profile.Message{Kind: profile.Request, Type: "6"}, profile.Client,
		`{"type":6}` + "\x1e"},
	{"server ping", profile.Message{Kind: profile.Event, Type: "6"}, profile.Server,
		`{"type":6}` + "\x1e"},
	{"invocation", profile.Message{Kind: profile.Request, Type: "1", Data: raw(`{"arguments":[{"text":"m1"}],"target":"send"}`)}, profile.Client,
		`{"type":1,"arguments":[{"text":"m1"}],"target":"send"}` + "\x1e"},
	{"close allowing reconnect", profile.Message{Kind: profile.Event, Type: "7", Data: raw(`{"allowReconnect":true}`)}, profile.Server,
		`{"type":7,"allowReconnect":true}` + "\x1e"},
}

func TestCodecWireShapes(t *testing.T) {
	codecs := []struct {
		name  string
		c     profile.Codec
		cases []codecCase
	}{
		{"typed", profile.TypedJSON, typedJSONCases},
		{"mattermost", profile.MattermostJSON, mattermostCases},
		{"signalr", signalRJSON, signalRCases},
	}
	for _, cc := range codecs {
		for _, tt := range cc.cases {
			t.Run(cc.name+"/"+tt.name, func(t *testing.T) {
				frame, err := cc.c.Encode(tt.m)
				if err != nil {
					t.Fatalf("Encode(%v): %v", tt.m, err)
				}
				if string(frame) != tt.frame {
					t.Errorf("Encode(%v)\n got %s\nwant %s", tt.m, frame, tt.frame)
				}
				got, err := cc.c.Decode([]byte(tt.frame), tt.from)
				if err != nil {
					t.Fatalf("Decode(%s): %v", tt.frame, err)
				}
				if d := diffMessage(got, tt.m); d != "" {
					t.Errorf("Decode(%s) = %+v, want %+v: %s", tt.frame, got, tt.m, d)
				}
			})
		}
	}
}

// TestDecodeKeepsSeqZero: seq 0 is the hello's seq; "present and 0" must not
// collapse into "absent".
func TestDecodeKeepsSeqZero(t *testing.T) {
	tests := []struct {
		frame  string
		from   profile.Side
		hasSeq bool
	}{
		{`{"event":"hello","data":{"connection_id":"abc"},"seq":0}`, profile.Server, true},
		{`{"event":"hello","data":{"connection_id":"abc"}}`, profile.Server, false},
		{`{"event":"hello","seq":null}`, profile.Server, false},
		{`{"action":"ping","seq":0}`, profile.Client, true},
		{`{"action":"ping"}`, profile.Client, false},
	}
	for _, tt := range tests {
		m, err := profile.MattermostJSON.Decode([]byte(tt.frame), tt.from)
		if err != nil {
			t.Fatalf("Decode(%s): %v", tt.frame, err)
		}
		if m.HasSeq != tt.hasSeq || m.Seq != 0 {
			t.Errorf("Decode(%s): Seq, HasSeq = %d, %v; want 0, %v", tt.frame, m.Seq, m.HasSeq, tt.hasSeq)
		}
		frame, err := profile.MattermostJSON.Encode(m)
		if err != nil {
			t.Fatalf("Encode(%v): %v", m, err)
		}
		if got := bytes.Contains(frame, []byte(`"seq":0`)); got != tt.hasSeq {
			t.Errorf("Encode(Decode(%s)) = %s; carries seq 0: %v, want %v", tt.frame, frame, got, tt.hasSeq)
		}
	}
}

// TestDecodeServerFrames checks what a frame from the server decodes to:
// replies are told apart from events by seq_reply.
func TestDecodeServerFrames(t *testing.T) {
	tests := []struct {
		frame string
		want  profile.Message
	}{
		{`{"status":"OK","seq_reply":4}`, profile.Message{Kind: profile.Reply, Status: "OK", SeqReply: 4}},
		{`{"seq_reply":0,"status":"FAIL","error":{"id":"x"}}`, profile.Message{Kind: profile.Reply, Status: "FAIL", Error: raw(`{"id":"x"}`)}},
		{`{"event":"status_change","data":{"status":"away"},"broadcast":{"user_id":"u"},"seq":12}`,
			profile.Message{Kind: profile.Event, Type: "status_change", Seq: 12, HasSeq: true, Data: raw(`{"status":"away"}`), Broadcast: raw(`{"user_id":"u"}`)}},
	}
	for _, tt := range tests {
		got, err := profile.MattermostJSON.Decode([]byte(tt.frame), profile.Server)
		if err != nil {
			t.Fatalf("Decode(%s): %v", tt.frame, err)
		}
		if d := diffMessage(got, tt.want); d != "" {
			t.Errorf("Decode(%s) = %+v: %s", tt.frame, got, d)
		}
	}
}

func TestDecodeErrors(t *testing.T) {
	tests := []struct {
		name  string
		c     profile.Codec
		frame string
		from  profile.Side
		says  string // a part of the error message saying what is wrong
	}{
		{"typed not JSON", profile.TypedJSON, `ping`, profile.Client, "JSON"},
		{"typed truncated", profile.TypedJSON, `{"type":"pi`, profile.Server, "JSON"},
		{"typed array", profile.TypedJSON, `[{"type":"ping"}]`, profile.Client, "JSON"},
		{"typed no type", profile.TypedJSON, `{"payload":{"id":"m1"}}`, profile.Client, `"type"`},
		{"typed empty type", profile.TypedJSON, `{"type":"","payload":{}}`, profile.Server, `"type"`},
		{"typed null", profile.TypedJSON, `null`, profile.Server, `"type"`},
		{"typed type not a string", profile.TypedJSON, `{"type":5}`, profile.Server, "type"},
		{"mattermost not JSON", profile.MattermostJSON, `hello`, profile.Server, "JSON"},
		{"mattermost empty frame", profile.MattermostJSON, ``, profile.Server, "JSON"},
		{"mattermost neither", profile.MattermostJSON, `{"data":{"connection_id":"abc"},"seq":0}`, profile.Server, `neither "event" nor "seq_reply"`},
		{"mattermost empty event", profile.MattermostJSON, `{"event":"","seq":1}`, profile.Server, `neither "event" nor "seq_reply"`},
		{"mattermost request without action", profile.MattermostJSON, `{"event":"ping","seq":1}`, profile.Client, `"action"`},
		{"mattermost empty action", profile.MattermostJSON, `{"action":"","seq":1}`, profile.Client, `"action"`},
		{"mattermost seq not a number", profile.MattermostJSON, `{"event":"posted","seq":"1"}`, profile.Server, "seq"},
		{"signalr record without its separator", signalRJSON, `{"type":6}`, profile.Server, `does not end in "\x1e"`},
		{"signalr two records in a frame", signalRJSON, "{\"type\":6}\x1e{\"type\":6}\x1e", profile.Client, "more than one record"},
		{"signalr type neither number nor string", signalRJSON, "{\"type\":true}\x1e", profile.Client, `"type"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := tt.c.Decode([]byte(tt.frame), tt.from)
			if err == nil {
				t.Fatalf("Decode(%q) = %+v, want an error", tt.frame, m)
			}
			if !errors.Is(err, profile.ErrEnvelope) {
				t.Errorf("Decode(%q) error %q does not wrap ErrEnvelope", tt.frame, err)
			}
			if !strings.Contains(err.Error(), tt.says) {
				t.Errorf("Decode(%q) error %q does not say %q", tt.frame, err, tt.says)
			}
		})
	}
}

func TestEncodeErrors(t *testing.T) {
	tests := []struct {
		name string
		c    profile.Codec
		m    profile.Message
	}{
		{"typed without type", profile.TypedJSON, profile.Message{Kind: profile.Request, Data: raw(`{}`)}},
		{"mattermost event without type", profile.MattermostJSON, profile.Message{Kind: profile.Event, Seq: 1, HasSeq: true}},
		{"mattermost request without action", profile.MattermostJSON, profile.Message{Kind: profile.Request, Seq: 1, HasSeq: true}},
		{"typed invalid data", profile.TypedJSON, profile.Message{Kind: profile.Request, Type: "x", Data: raw(`{`)}},
		{"mattermost invalid data", profile.MattermostJSON, profile.Message{Kind: profile.Event, Type: "x", Data: raw(`{`)}},
		{"inline data not an object", signalRJSON, profile.Message{Kind: profile.Request, Type: "1", Data: raw(`[1]`)}},
		{"inline data with the type key", signalRJSON, profile.Message{Kind: profile.Request, Type: "1", Data: raw(`{"type":2}`)}},
	}
	for _, tt := range tests {
		if frame, err := tt.c.Encode(tt.m); err == nil {
			t.Errorf("%s: Encode = %s, want an error", tt.name, frame)
		}
	}
}

func TestMessageField(t *testing.T) {
	m := profile.Message{Data: raw(`{"connection_id":"abc","n":3}`)}
	tests := []struct{ name, want string }{
		{"connection_id", "abc"},
		{"n", ""},       // not a string
		{"missing", ""}, // absent
	}
	for _, tt := range tests {
		if got := m.Field(tt.name); got != tt.want {
			t.Errorf("Field(%q) = %q, want %q", tt.name, got, tt.want)
		}
	}
	if got := (profile.Message{Data: raw(`"text"`)}).Field("x"); got != "" {
		t.Errorf("Field on non-object data = %q, want empty", got)
	}
}

func TestMessageString(t *testing.T) {
	tests := []struct {
		m    profile.Message
		want string
	}{
		{profile.Message{Kind: profile.Event, Type: "hello", HasSeq: true}, "event hello seq=0"},
		{profile.Message{Kind: profile.Request, Type: "message.send"}, "request message.send"},
		{profile.Message{Kind: profile.Reply, Status: "OK", SeqReply: 3}, "reply seq_reply=3 status=OK"},
	}
	for _, tt := range tests {
		if got := tt.m.String(); got != tt.want {
			t.Errorf("String() = %q, want %q", got, tt.want)
		}
	}
}
