package conform

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"maps"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// FuzzAdapterOutput feeds arbitrary adapter output to the harness's
// reader: it never panics, every event it passes on is one the protocol
// allows, and anything else is a protocol error that names its line.
func FuzzAdapterOutput(f *testing.F) {
	f.Add([]byte(`{"event":"ready","protocol":1,"client":"x"}` + "\n" + `{"event":"state","state":"connected"}` + "\n"))
	f.Add([]byte(`{"event":"ready","protocol":1}` + "\n" + `{"reply":1,"ok":false,"error":"queue full"}` + "\n"))
	f.Add([]byte(`{"event":"message","type":"x","payload":{"a":[1,2]}}` + "\n"))
	f.Add([]byte("not json\n\n{}\n{\"event\":\"ready\"}\n{\"event\":\"ready\"}\n"))
	f.Add([]byte(`{"event":"ready","protocol":1}` + "\n" + `{"event":"state","state":"sideways"}` + "\n"))
	f.Fuzz(func(t *testing.T, out []byte) {
		p := &process{events: make(chan Event), dispatched: make(chan struct{}),
			readDone: make(chan struct{}), pending: map[int]chan reply{}, ready: make(chan readyLine, 1),
			stderr: &capped{limit: 1 << 10}}
		reply1 := make(chan reply, 1)
		p.pending[1] = reply1
		go p.read(bytes.NewReader(out))
		for e := range p.events {
			if _, err := toEvent(line{Event: (*string)(&e.Kind), State: e.State}); err != nil {
				t.Fatalf("passed on an event the protocol forbids: %+v: %v", e, err)
			}
		}
		<-p.readDone
		err := p.Broken()
		if err != nil && !strings.Contains(err.Error(), "line") && !strings.Contains(err.Error(), "reading its output") {
			t.Errorf("a protocol error that names no line: %v", err)
		}
		// A line said not to be a JSON object is not one: a field of the
		// wrong type is named as such.
		if err != nil {
			if m := notAnObject.FindStringSubmatch(err.Error()); m != nil {
				n, _ := strconv.Atoi(m[1])
				lines := bytes.Split(out, []byte("\n"))
				if n < 1 || n > len(lines) {
					t.Fatalf("%v: there are %d lines", err, len(lines))
				}
				var obj map[string]json.RawMessage
				if json.Unmarshal(bytes.TrimSpace(lines[n-1]), &obj) == nil && obj != nil {
					t.Errorf("called a JSON object not one: %v", err)
				}
			}
		}
	})
}

var notAnObject = regexp.MustCompile(`^adapter: output line (\d+) is not a JSON object`)

// nullSubject accepts everything and reports nothing.
type nullSubject struct{}

func (nullSubject) Connect(context.Context, string) error               { return nil }
func (nullSubject) Send(context.Context, string, json.RawMessage) error { return nil }
func (nullSubject) Close(context.Context) error                         { return nil }

// fuzzSubject accepts everything, and reports the state a send's type
// names after "state:", so the input can connect it, or have it give up:
// the fuzz target checks the protocol's handling, not a client.
type fuzzSubject struct{ emit func(Event) }

func (fuzzSubject) Connect(context.Context, string) error { return nil }
func (fuzzSubject) Close(context.Context) error           { return nil }
func (s fuzzSubject) Send(_ context.Context, typ string, _ json.RawMessage) error {
	if state, ok := strings.CutPrefix(typ, "state:"); ok {
		s.emit(Event{Kind: EventState, State: state})
	}
	return nil
}

// FuzzServeAdapter feeds arbitrary commands to the Go side of the
// protocol: it never panics, everything it writes is one JSON object per
// line, every line with an id gets exactly one reply, and every other line
// that is not blank a log event and a line on standard error.
func FuzzServeAdapter(f *testing.F) {
	f.Add([]byte(`{"id":1,"cmd":"connect","url":"ws://127.0.0.1:1/ws","profile":{"name":"queue","description":"a typical app client; backoff 1, 2, 4, 8, 16 s then gives up; ping every 30 s; offline queue","envelope":{"codec":"json","type":"type","payload":"payload"},"connect":{"timeout":10000},"backoff":{"family":"exponential","base":1000,"factor":2,"retries":5,"reset_after":0},"heartbeat":{"mode":"client","interval":30000,"ping_type":"ping","pong_type":"pong","dead":"next-ping","close_code":4000},"close":{"code":1000,"report":"frame"},"queue":{"enabled":true,"limit":256,"full":"error"},"error_type":"error","send_type":"message.send","ack_type":"message.received"},"scale":0.5}` + "\n" +
		`{"id":2,"cmd":"send","type":"t","payload":{}}` + "\n" + `{"id":3,"cmd":"close"}` + "\n"))
	f.Add([]byte(`{"id":1,"cmd":"send"}` + "\n" + `{"id":2,"cmd":"fly"}` + "\n"))
	f.Add([]byte(`{"id":1,"cmd":"connect","profile":"nope"}` + "\n"))
	f.Add([]byte(`{"id":1,"cmd":"connect","profile":{"name":"mattermost","description":"the Mattermost webapp client (@mattermost/client); resume by connection id and seq; 3 s ×7 then 3 s·n² to 300 s; no queue","envelope":{"codec":"json","request_type":"action","event_type":"event","payload":"data","seq":"seq","reply_to":"seq_reply","status":"status","error":"error","meta":"broadcast"},"connect":{"timeout":10000},"backoff":{"family":"mattermost","min":3000,"max_fails":7,"max":300000,"jitter":2000,"retries":"unlimited","reset_after":0},"heartbeat":{"mode":"client","interval":30000,"on_open":true,"ping_type":"ping","dead":"next-ping","close_code":4000,"reset_failures":true},"close":{"code":"none","report":"query","query":"disconnect_err_code"},"resume":{"hello_type":"hello","id_field":"connection_id","id_param":"connection_id","seq_param":"sequence_number","buffer_size":128,"gap_close_code":4001,"reset_failures":true},"replies":true},"scale":-1}` + "\n"))
	f.Add([]byte("garbage\n"))
	f.Add([]byte(`{"id":1,"cmd":"connect","profile":{"name":"queue","description":"a typical app client; backoff 1, 2, 4, 8, 16 s then gives up; ping every 30 s; offline queue","envelope":{"codec":"json","type":"type","payload":"payload"},"connect":{"timeout":10000},"backoff":{"family":"exponential","base":1000,"factor":2,"retries":5,"reset_after":0},"heartbeat":{"mode":"client","interval":30000,"ping_type":"ping","pong_type":"pong","dead":"next-ping","close_code":4000},"close":{"code":1000,"report":"frame"},"queue":{"enabled":true,"limit":256,"full":"error"},"error_type":"error","send_type":"message.send","ack_type":"message.received"}}` + "\n" +
		`{"id":2,"cmd":"send","type":"t","when":"connected"}` + "\n" +
		`{"id":3,"cmd":"send","type":"state:gave-up"}` + "\n" +
		`{"id":4,"cmd":"send","type":"t","when":"connected"}` + "\n" +
		`{"id":5,"cmd":"send","type":"state:reconnecting"}` + "\n" +
		`{"id":6,"cmd":"send","type":"state:connected","when":"connected"}` + "\n" +
		`{"id":7,"cmd":"send","type":"state:connected"}` + "\n" +
		`{"id":8,"cmd":"send","type":"t","when":"connected"}` + "\n"))
	f.Fuzz(func(t *testing.T, in []byte) {
		var out, stderr bytes.Buffer
		err := serveAdapter(bytes.NewReader(in), &out, &stderr, "fuzz", func(env Env) (Subject, error) { return fuzzSubject{env.Emit}, nil })
		if err != nil {
			t.Fatalf("ServeAdapter: %v", err)
		}
		// What the input asks for: a reply to each id, as often as it
		// comes, and a log of each other line that is not blank.
		wantReplies, wantLogs := map[int]int{}, 0
		for _, l := range bytes.Split(in, []byte("\n")) {
			l = bytes.TrimSpace(l)
			if len(l) == 0 {
				continue
			}
			if id, ok := commandID(l); ok && len(l) <= lineLimit {
				wantReplies[id]++
			} else {
				wantLogs++
			}
		}
		replies, logs := map[int]int{}, 0
		sc := bufio.NewScanner(&out)
		sc.Buffer(nil, lineLimit)
		for n := 1; sc.Scan(); n++ {
			var l struct {
				Event   *string
				Message string
				Reply   *int
				OK      *bool
				Error   string
			}
			if err := json.Unmarshal(sc.Bytes(), &l); err != nil || sc.Bytes()[0] != '{' {
				t.Fatalf("wrote a line that is not a JSON object: %q", sc.Text())
			}
			switch {
			case n == 1:
				if l.Event == nil || *l.Event != "ready" {
					t.Fatalf("the first line is not the ready event: %s", sc.Text())
				}
			case l.Reply != nil:
				replies[*l.Reply]++
				if l.Event != nil || l.OK == nil || !*l.OK && l.Error == "" {
					t.Errorf("a reply without ok, or refused without a reason, or also an event: %s", sc.Text())
				}
			case l.Event == nil:
				t.Errorf("neither a reply nor an event: %s", sc.Text())
			case *l.Event == "log" && strings.HasPrefix(l.Message, "adapter: ignored input line "):
				logs++
			}
		}
		if !maps.Equal(replies, wantReplies) {
			t.Errorf("replies to ids %v; want one to each command, %v", replies, wantReplies)
		}
		if logs != wantLogs || strings.Count(stderr.String(), "\n") != wantLogs {
			t.Errorf("%d log events and %d lines on standard error for %d lines that are not commands",
				logs, strings.Count(stderr.String(), "\n"), wantLogs)
		}
	})
}

// commandID is a line's "id", when it has one the protocol can reply to.
func commandID(line []byte) (int, bool) {
	var fields map[string]json.RawMessage
	if json.Unmarshal(line, &fields) != nil || fields == nil {
		return 0, false
	}
	raw, ok := fields["id"]
	var id int
	if !ok || string(raw) == "null" || json.Unmarshal(raw, &id) != nil {
		return 0, false
	}
	return id, true
}
