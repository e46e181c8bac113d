package conform

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"github.com/wschaos/wschaos/profile"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// corpus reads a fuzz corpus file of one []byte: a reproducer.
func corpus(t *testing.T, target, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "fuzz", target, name))
	if err != nil {
		t.Fatal(err)
	}
	head, lit, _ := strings.Cut(string(data), "\n")
	lit, ok := strings.CutPrefix(strings.TrimSpace(lit), "[]byte(")
	if head != "go test fuzz v1" || !ok {
		t.Fatalf("%s/%s: not a corpus file of one []byte", target, name)
	}
	s, err := strconv.Unquote(strings.TrimSuffix(lit, ")"))
	if err != nil {
		t.Fatalf("%s/%s: %v", target, name, err)
	}
	return []byte(s)
}

// outLine is any line ServeAdapter writes.
type outLine struct {
	Event   string `json:"event"`
	State   string `json:"state"`
	Message string `json:"message"`
	Reply   *int   `json:"reply"`
	OK      bool   `json:"ok"`
	Error   string `json:"error"`
}

// stateSubject is a client whose states the test reports through emit,
// and which records what it sent.
type stateSubject struct {
	emit func(Event)
	mu   sync.Mutex
	sent []string
}

func (s *stateSubject) Connect(context.Context, string) error { return nil }
func (s *stateSubject) Close(context.Context) error           { return nil }
func (s *stateSubject) Send(_ context.Context, typ string, _ json.RawMessage) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sent = append(s.sent, typ)
	return nil
}

// served is ServeAdapter running on pipes, line by line.
type served struct {
	t      *testing.T
	in     *io.PipeWriter
	out    chan outLine
	done   chan error
	subj   *stateSubject
	made   chan struct{}
	stderr bytes.Buffer // read once done
}

func serve(t *testing.T) *served {
	inR, inW := io.Pipe()
	outR, outW := io.Pipe()
	s := &served{t: t, in: inW, out: make(chan outLine, 100), done: make(chan error, 1),
		subj: &stateSubject{}, made: make(chan struct{})}
	go func() {
		s.done <- serveAdapter(inR, outW, &s.stderr, "test", func(env Env) (Subject, error) {
			s.subj.emit = env.Emit
			close(s.made)
			return s.subj, nil
		})
		outW.Close()
	}()
	go func() {
		defer close(s.out)
		sc := bufio.NewScanner(outR)
		for sc.Scan() {
			var l outLine
			if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
				t.Errorf("wrote a line that is not a JSON object: %q", sc.Text())
			}
			s.out <- l
		}
	}()
	t.Cleanup(func() { inW.Close() })
	if l := s.next(); l.Event != "ready" {
		t.Fatalf("first line %+v, want the ready event", l)
	}
	return s
}

func (s *served) send(line string) {
	s.t.Helper()
	if _, err := io.WriteString(s.in, line+"\n"); err != nil {
		s.t.Fatal(err)
	}
}

func (s *served) next() outLine {
	s.t.Helper()
	select {
	case l, ok := <-s.out:
		if !ok {
			s.t.Fatal("the output ended")
		}
		return l
	case <-time.After(10 * time.Second):
		s.t.Fatal("no line within 10s")
	}
	panic("unreachable")
}

// reply is the next line, which must be the reply to id.
func (s *served) reply(id int) outLine {
	s.t.Helper()
	l := s.next()
	if l.Reply == nil || *l.Reply != id {
		s.t.Fatalf("got %+v, want the reply to %d", l, id)
	}
	return l
}

func (s *served) refused(id int, want string) {
	s.t.Helper()
	if l := s.reply(id); l.OK || !strings.Contains(l.Error, want) {
		s.t.Errorf("reply to %d: %+v, want ok:false with an error about %q", id, l, want)
	}
}

func (s *served) accepted(id int) {
	s.t.Helper()
	if l := s.reply(id); !l.OK {
		s.t.Errorf("reply to %d: %+v, want ok:true", id, l)
	}
}

// end closes the input and returns the rest of the output.
func (s *served) end() []outLine {
	s.t.Helper()
	s.in.Close()
	var rest []outLine
	for l := range s.out {
		rest = append(rest, l)
	}
	if err := <-s.done; err != nil {
		s.t.Errorf("ServeAdapter: %v", err)
	}
	return rest
}

func (s *served) state(state string) {
	s.t.Helper()
	<-s.made
	s.subj.emit(Event{Kind: EventState, State: state})
	if l := s.next(); l.Event != "state" || l.State != state {
		s.t.Fatalf("got %+v, want the state event %q", l, state)
	}
}

// connectLine connects with the queue profile, as the harness sends it.
var connectLine = `{"id":1,"cmd":"connect","profile":` + queueJSON + `}`

var queueJSON = func() string {
	j, err := profile.JSON(profile.QueueProfile())
	if err != nil {
		panic(err)
	}
	return string(j)
}()

const whenLine = `{"id":%d,"cmd":"send","type":"t%[1]d","payload":null,"when":"connected"}`

// A send waiting for the connected state gets its one reply, ok:false and
// at once, when that state can no longer come.
func TestServeAdapterRefusesWaitingSends(t *testing.T) {
	t.Run("connected", func(t *testing.T) {
		s := serve(t)
		s.send(connectLine)
		s.accepted(1)
		s.send(fmt.Sprintf(whenLine, 2))
		// 2 is waiting once a later command has its reply.
		s.send(`{"id":3,"cmd":"send","type":"now","payload":null}`)
		s.accepted(3)
		s.state(StateConnected)
		s.accepted(2)
		s.send(`{"id":4,"cmd":"close"}`)
		s.accepted(4)
		if rest := s.end(); len(rest) != 0 {
			t.Errorf("after the close: %+v", rest)
		}
		if got := strings.Join(s.subj.sent, " "); got != "now t2" {
			t.Errorf("sent %q, want now t2", got)
		}
	})
	t.Run("closed", func(t *testing.T) {
		s := serve(t)
		s.send(connectLine)
		s.accepted(1)
		s.send(fmt.Sprintf(whenLine, 2))
		s.send(`{"id":3,"cmd":"close"}`)
		s.refused(2, "closed")
		s.accepted(3)
		s.send(fmt.Sprintf(whenLine, 4))
		s.refused(4, "closed")
		if rest := s.end(); len(rest) != 0 {
			t.Errorf("after the close: %+v", rest)
		}
		if len(s.subj.sent) != 0 {
			t.Errorf("sent %q", s.subj.sent)
		}
	})
	t.Run("gave up", func(t *testing.T) {
		s := serve(t)
		s.send(connectLine)
		s.accepted(1)
		s.send(fmt.Sprintf(whenLine, 2))
		s.send(fmt.Sprintf(whenLine, 3))
		// Both are waiting once a later command has its reply.
		s.send(`{"id":4,"cmd":"send","type":"now","payload":null}`)
		s.accepted(4)
		s.state(StateGaveUp)
		s.refused(2, "gave up")
		s.refused(3, "gave up")
		s.send(fmt.Sprintf(whenLine, 5))
		s.refused(5, "gave up")
		// A client that starts again may yet connect.
		s.state(StateReconnecting)
		s.send(fmt.Sprintf(whenLine, 6))
		s.send(`{"id":7,"cmd":"send","type":"now","payload":null}`)
		s.accepted(7)
		s.state(StateConnected)
		s.accepted(6)
		if rest := s.end(); len(rest) != 0 {
			t.Errorf("at the end: %+v", rest)
		}
		if got := strings.Join(s.subj.sent, " "); got != "now now t6" {
			t.Errorf("sent %q, want now now t6", got)
		}
	})
	t.Run("input ended", func(t *testing.T) {
		s := serve(t)
		s.send(connectLine)
		s.accepted(1)
		s.send(fmt.Sprintf(whenLine, 2))
		rest := s.end()
		if len(rest) != 1 || rest[0].Reply == nil || *rest[0].Reply != 2 || rest[0].OK || !strings.Contains(rest[0].Error, "input ended") {
			t.Errorf("at the end: %+v, want one refusal of 2 saying the input ended", rest)
		}
	})
	t.Run("reproducer", func(t *testing.T) {
		var out bytes.Buffer
		in := corpus(t, "FuzzServeAdapter", "send_when_connected")
		if err := serveAdapter(bytes.NewReader(in), &out, io.Discard, "test", func(Env) (Subject, error) { return nullSubject{}, nil }); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(out.String(), `{"error":"send when connected: the client was closed, so no connected state will come","ok":false,"reply":2}`) {
			t.Errorf("no refusal of 2 for the close:\n%s", &out)
		}
	})
}

// A line that is not a command with an id is logged, with the line on
// standard error, and serving goes on; a command with an id but a field
// of the wrong type is refused.
func TestServeAdapterReadsOnPastBadLines(t *testing.T) {
	long := `{"id":9,"cmd":"close","pad":"` + strings.Repeat("x", lineLimit) + `"}`
	for _, tc := range []struct {
		name string
		in   []byte
		want []string // the lines written after ready, in order
	}{
		{"blank_line", corpus(t, "FuzzServeAdapter", "blank_line"), []string{
			`{"ok":true,"reply":1}`,
			`{"ok":true,"reply":2}`,
		}},
		{"id_not_a_number", corpus(t, "FuzzServeAdapter", "id_not_a_number"), []string{
			`{"event":"log","message":"adapter: ignored input line 1 (\"id\" must be a whole number, not a string): {\"id\":\"1\",\"cmd\":\"close\"}"}`,
			`{"error":"close before connect","ok":false,"reply":2}`,
		}},
		{"not_an_object", append(corpus(t, "FuzzServeAdapter", "not_an_object"), `{"id":1,"cmd":"close"}`...), []string{
			`{"event":"log","message":"adapter: ignored input line 1 (not a JSON object): [1,\"connect\"]"}`,
			`{"error":"close before connect","ok":false,"reply":1}`,
		}},
		{"missing_id_and_null", corpus(t, "FuzzServeAdapter", "missing_id_and_null"), []string{
			`{"event":"log","message":"adapter: ignored input line 1 (no \"id\" to reply to): {\"cmd\":\"close\"}"}`,
			`{"event":"log","message":"adapter: ignored input line 2 (not a JSON object): null"}`,
			`{"error":"unknown command \"\"","ok":false,"reply":-7}`,
		}},
		{"not JSON, blank lines", []byte("garbage\n \r\n\n{\"id\":1.5}\n{\"id\":1,\"cmd\":\"close\"}\n"), []string{
			`{"event":"log","message":"adapter: ignored input line 1 (not a JSON object): garbage"}`,
			`{"event":"log","message":"adapter: ignored input line 4 (\"id\" must be a whole number, not 1.5): {\"id\":1.5}"}`,
			`{"error":"close before connect","ok":false,"reply":1}`,
		}},
		{"wrong field types", []byte(`{"id":1,"cmd":"connect","profile":[0.5]}` + "\n" +
			`{"id":2,"cmd":"connect","profile":` + queueJSON + `,"scale":"0.5"}` + "\n" +
			`{"id":3,"cmd":true}` + "\n" + `{"id":4,"cmd":"fly"}` + "\n"), []string{
			`{"error":"connect: profile: want a mapping of keys to values, got a list","ok":false,"reply":1}`,
			`{"error":"\"scale\" must be a number, not a string","ok":false,"reply":2}`,
			`{"error":"\"cmd\" must be a string, not true or false","ok":false,"reply":3}`,
			`{"error":"unknown command \"fly\"","ok":false,"reply":4}`,
		}},
		{"too long", []byte(long + "\n" + `{"id":1,"cmd":"close"}` + "\n"), []string{
			`{"event":"log","message":"adapter: ignored input line 1 (longer than 4 MiB): {\"id\":9,\"cmd\":\"close\",\"pad\":\"` + strings.Repeat("x", 200-len(`{"id":9,"cmd":"close","pad":"`)) + `…"}`,
			`{"error":"close before connect","ok":false,"reply":1}`,
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out, stderr bytes.Buffer
			if err := serveAdapter(bytes.NewReader(tc.in), &out, &stderr, "test", func(Env) (Subject, error) { return nullSubject{}, nil }); err != nil {
				t.Fatalf("ServeAdapter: %v", err)
			}
			lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
			if got := strings.Join(lines[1:], "\n"); got != strings.Join(tc.want, "\n") {
				t.Errorf("wrote\n%s\nwant\n%s", got, strings.Join(tc.want, "\n"))
			}
			// Each ignored line is on standard error, whole or its start.
			var ignored []string
			for i, l := range strings.Split(string(tc.in), "\n") {
				if strings.Contains(strings.Join(tc.want, "\n"), fmt.Sprintf("ignored input line %d ", i+1)) {
					l = strings.TrimSpace(l)
					if len(l) > stderrLineLimit {
						l = l[:stderrLineLimit] + "…"
					}
					ignored = append(ignored, l)
				}
			}
			errLines := strings.Split(strings.TrimSuffix(stderr.String(), "\n"), "\n")
			if stderr.Len() == 0 {
				errLines = nil
			}
			if len(errLines) != len(ignored) {
				t.Fatalf("standard error has %d lines, want %d:\n%s", len(errLines), len(ignored), truncate(stderr.Bytes()))
			}
			for i, l := range errLines {
				if !strings.HasPrefix(l, "adapter: ignored input line ") || !strings.HasSuffix(l, "): "+ignored[i]) {
					t.Errorf("standard error line %d: %s; want the message and the line %s", i+1, truncate([]byte(l)), truncate([]byte(ignored[i])))
				}
			}
		})
	}
}

// The harness says which field of an output line has the wrong type, and
// what it must be, rather than that the line is not a JSON object.
func TestAdapterOutputNamesTheWrongField(t *testing.T) {
	const ready = `{"event":"ready","protocol":2,"client":"x"}` + "\n"
	for _, tc := range []struct {
		name string
		out  []byte
		want string
	}{
		{"wrong_field_type", corpus(t, "FuzzAdapterOutput", "wrong_field_type"),
			`adapter: output line 2: "state" must be a string, not a number: {"event":"state","state":1}`},
		{"reply a string", []byte(ready + `{"reply":"1","ok":true}` + "\n"),
			`adapter: output line 2: "reply" must be a whole number, not a string: {"reply":"1","ok":true}`},
		{"ok a string", []byte(ready + `{"reply":1,"ok":"yes"}` + "\n"),
			`adapter: output line 2: "ok" must be true or false, not a string: {"reply":1,"ok":"yes"}`},
		{"reply not whole", []byte(ready + `{"reply":1.5,"ok":true}` + "\n"),
			`adapter: output line 2: "reply" must be a whole number, not 1.5: {"reply":1.5,"ok":true}`},
		{"null", []byte(ready + "null\n"), `adapter: output line 2 is not a JSON object: null`},
		{"array", []byte(ready + "[1]\n"), `adapter: output line 2 is not a JSON object (json: cannot unmarshal array into Go value of type conform.line): [1]`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := readOnly(tc.out)
			if err := p.Broken(); err == nil || err.Error() != tc.want {
				t.Errorf("got %v\nwant %s", err, tc.want)
			}
		})
	}
}

// readOnly runs the harness's reader on out, as if from an adapter that
// had been sent command 1, and returns once it has read it all.
func readOnly(out []byte) *process {
	p := &process{events: make(chan Event, 100), dispatched: make(chan struct{}),
		readDone: make(chan struct{}), pending: map[int]chan reply{1: make(chan reply, 1)},
		ready: make(chan readyLine, 1), stderr: &capped{limit: 1 << 10}}
	p.read(bytes.NewReader(out))
	return p
}

type discardCloser struct{ io.Writer }

func (discardCloser) Close() error { return nil }

// A reply that comes after the harness stopped waiting for it (a send on
// connected, refused when the client is closed) is no protocol error.
func TestLateReplyIsNotAProtocolError(t *testing.T) {
	outR, outW := io.Pipe()
	p := &process{events: make(chan Event, 100), dispatched: make(chan struct{}),
		readDone: make(chan struct{}), pending: map[int]chan reply{},
		ready: make(chan readyLine, 1), stderr: &capped{limit: 1 << 10}, stdin: discardCloser{io.Discard}}
	go p.read(outR)
	io.WriteString(outW, `{"event":"ready","protocol":2,"client":"x"}`+"\n")
	<-p.ready
	c, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	if err := p.SendWhen(c, StateConnected, "t", nil); err == nil {
		t.Fatal("a reply without a line")
	}
	io.WriteString(outW, `{"reply":1,"ok":false,"error":"closed"}`+"\n")
	io.WriteString(outW, `{"reply":1,"ok":false,"error":"closed"}`+"\n")
	outW.Close()
	<-p.readDone
	if err := p.Broken(); err == nil || !strings.Contains(err.Error(), "output line 3: a reply to command 1, which is not waiting") {
		t.Errorf("got %v, want the second reply and only it named as a protocol error", err)
	}
}
