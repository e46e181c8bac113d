package conform

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
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
		if err := p.Broken(); err != nil && !strings.Contains(err.Error(), "line") && !strings.Contains(err.Error(), "reading its output") {
			t.Errorf("a protocol error that names no line: %v", err)
		}
	})
}

// nullSubject accepts everything and reports nothing: the fuzz target
// checks the protocol's handling, not a client.
type nullSubject struct{}

func (nullSubject) Connect(context.Context, string) error               { return nil }
func (nullSubject) Send(context.Context, string, json.RawMessage) error { return nil }
func (nullSubject) Close(context.Context) error                         { return nil }

// FuzzServeAdapter feeds arbitrary commands to the Go side of the
// protocol: it never panics, and everything it writes is one JSON object
// per line.
func FuzzServeAdapter(f *testing.F) {
	f.Add([]byte(`{"id":1,"cmd":"connect","url":"ws://127.0.0.1:1/ws","profile":"queue","timing":{"scale":0.5}}` + "\n" +
		`{"id":2,"cmd":"send","type":"t","payload":{}}` + "\n" + `{"id":3,"cmd":"close"}` + "\n"))
	f.Add([]byte(`{"id":1,"cmd":"send"}` + "\n" + `{"id":2,"cmd":"fly"}` + "\n"))
	f.Add([]byte(`{"id":1,"cmd":"connect","profile":"nope"}` + "\n"))
	f.Add([]byte(`{"id":1,"cmd":"connect","profile":"mattermost","timing":{"scale":-1}}` + "\n"))
	f.Add([]byte("garbage\n"))
	f.Fuzz(func(t *testing.T, in []byte) {
		var out bytes.Buffer
		ServeAdapter(bytes.NewReader(in), &out, "fuzz", func(Env) (Subject, error) { return nullSubject{}, nil })
		sc := bufio.NewScanner(&out)
		for sc.Scan() {
			var v map[string]any
			if err := json.Unmarshal(sc.Bytes(), &v); err != nil {
				t.Fatalf("wrote a line that is not a JSON object: %q", sc.Text())
			}
		}
	})
}
