package conform

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"reflect"
	"sync"

	"github.com/jonboulle/clockwork"
	"github.com/wschaos/wschaos/profile"
)

// ServeAdapter plays the adapter's side of the protocol (docs/adapter.md)
// for a Go client made by f, on r and w, until r ends: a Go client can be
// checked by wschaos conform like any other, and this is the protocol in
// Go for anyone writing an adapter. name is the client's name in reports.
//
// Every command gets exactly one reply. A line it cannot read as a
// command with an id is reported in a log event, and with the line (its
// first 16 KiB) on standard error, and serving goes on with the next
// line; a blank line is skipped. The error is for r or w failing, not for
// what the lines say.
func ServeAdapter(r io.Reader, w io.Writer, name string, f Factory) error {
	return serveAdapter(r, w, os.Stderr, name, f)
}

// stderrLineLimit bounds the copy of an ignored line on standard error,
// well within what the harness keeps of it (stderrLimit).
const stderrLineLimit = 16 << 10

// serveAdapter is ServeAdapter, with the lines it ignores written to
// stderr.
func serveAdapter(r io.Reader, w, stderr io.Writer, name string, f Factory) error {
	s := &adapterServer{w: w, f: f}
	// Reconnect is offered, and refused as unsupported when the subject
	// has none: which it is shows only once connect has made it.
	if err := s.write(map[string]any{"event": "ready", "protocol": ProtocolVersion, "client": name, "commands": []string{"reconnect"}}); err != nil {
		return err
	}
	br := bufio.NewReaderSize(r, 64<<10)
	var wg sync.WaitGroup
	defer wg.Wait()
	var readErr error
	for n := 1; ; n++ {
		raw, long, err := readLine(br, lineLimit)
		if err == io.EOF {
			break
		}
		if err != nil {
			readErr = fmt.Errorf("failed to read input line %d: %w", n, err)
			break
		}
		raw = bytes.TrimSpace(raw)
		if len(raw) == 0 && !long {
			continue
		}
		c, hasID, err := parseCommand(raw, long)
		// Commands run one at a time, in order, but off the reading
		// goroutine: a send may wait while the reply to an earlier
		// event's reaction is still to come.
		wg.Wait()
		if !hasID {
			// Nobody to reply to: tell the report.
			msg := fmt.Sprintf("adapter: ignored input line %d (%v)", n, err)
			s.write(Event{Kind: EventLog, Message: msg + ": " + truncate(raw)})
			if len(raw) > stderrLineLimit {
				raw = append(raw[:stderrLineLimit:stderrLineLimit], "…"...)
			}
			fmt.Fprintf(stderr, "%s: %s\n", msg, raw)
			continue
		}
		if err != nil {
			s.reply(c.ID, err)
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := s.do(c); err != deferred {
				s.reply(c.ID, err)
			}
		}()
	}
	wg.Wait()
	if readErr != nil {
		s.write(Event{Kind: EventLog, Message: "adapter: " + readErr.Error()})
		fmt.Fprintf(stderr, "adapter: %v\n", readErr)
		s.stop("the adapter's input could not be read")
	} else {
		s.stop("the adapter's input ended")
	}
	if s.subj != nil && !s.closed {
		s.subj.Close(context.Background())
	}
	return readErr
}

// readLine reads the next line, without its end. A line longer than limit
// is read to its end, and only its first limit bytes are returned, with
// long set. io.EOF is only for no line at all.
func readLine(br *bufio.Reader, limit int) (line []byte, long bool, err error) {
	for {
		frag, err := br.ReadSlice('\n')
		if !long {
			line = append(line, frag...)
			if len(bytes.TrimSuffix(line, []byte("\n"))) > limit {
				line, long = line[:limit], true
			}
		}
		switch err {
		case bufio.ErrBufferFull:
			continue
		case nil:
			return bytes.TrimSuffix(line, []byte("\n")), long, nil
		case io.EOF:
			if len(line) == 0 {
				return nil, false, io.EOF
			}
			return line, long, nil
		default:
			return nil, false, err
		}
	}
}

// parseCommand reads one line as a command. Without hasID there is no id
// to reply to, and err says why; with it, err is a reply to c.ID saying
// why the command cannot be carried out.
func parseCommand(raw []byte, long bool) (c command, hasID bool, err error) {
	if long {
		return c, false, fmt.Errorf("longer than %d MiB", lineLimit>>20)
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(raw, &fields); err != nil || fields == nil {
		return c, false, errors.New("not a JSON object")
	}
	rawID, ok := fields["id"]
	if !ok || string(rawID) == "null" {
		return c, false, errors.New(`no "id" to reply to`)
	}
	if err := json.Unmarshal(rawID, &c.ID); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			err = fieldTypeErr("id", reflect.TypeOf(c.ID), te)
		}
		return c, false, err
	}
	if err := json.Unmarshal(raw, &c); err != nil {
		err, _ = wrongType(err, &c)
		return c, true, err
	}
	return c, true, nil
}

type command struct {
	// ID is the "id" field's, spelt exactly so (the decoder also matches
	// keys in another case), read on its own: a wrong one has no reply.
	ID      int             `json:"-"`
	Cmd     string          `json:"cmd"`
	URL     string          `json:"url"`
	Profile json.RawMessage `json:"profile"`
	Scale   float64         `json:"scale"`
	Type    string          `json:"type"`
	Payload json.RawMessage `json:"payload"`
	When    string          `json:"when"`
}

// deferred marks a command whose reply comes later, from an event.
var deferred = errors.New("deferred")

type adapterServer struct {
	w      io.Writer
	mu     sync.Mutex // one line at a time
	f      Factory
	subj   Subject
	closed bool

	whenMu sync.Mutex
	when   []command // sends waiting for the connected state
	// ended says why no connected state can come any more, for good;
	// gaveUp, that none can come unless the client starts again.
	ended  string
	gaveUp bool
}

// emit reports an event, then makes the sends that waited for it, from
// inside the client's callback as an application's handler would. When
// the client gives up, the sends that waited are refused.
func (s *adapterServer) emit(e Event) {
	s.write(e)
	if e.Kind != EventState {
		return
	}
	switch e.State {
	case StateGaveUp:
		s.whenMu.Lock()
		s.gaveUp = true
		s.whenMu.Unlock()
		s.stop("")
	case StateConnecting, StateReconnecting, StateConnected:
		s.whenMu.Lock()
		s.gaveUp = false
		s.whenMu.Unlock()
	}
	if e.State != StateConnected {
		return
	}
	s.whenMu.Lock()
	due := s.when
	s.when = nil
	s.whenMu.Unlock()
	for _, c := range due {
		s.reply(c.ID, s.subj.Send(context.Background(), c.Type, c.Payload))
	}
}

// stop refuses every send waiting for the connected state, which can no
// longer come: why says for good, or "" when only the client gave up.
func (s *adapterServer) stop(why string) {
	s.whenMu.Lock()
	if s.ended == "" {
		s.ended = why
	}
	why = s.never()
	due := s.when
	s.when = nil
	s.whenMu.Unlock()
	for _, c := range due {
		s.reply(c.ID, noConnected(why))
	}
}

// never says why no connected state can come, or is "" while one can;
// whenMu is held.
func (s *adapterServer) never() string {
	switch {
	case s.ended != "":
		return s.ended
	case s.gaveUp:
		return "the client gave up"
	}
	return ""
}

func noConnected(why string) error {
	return fmt.Errorf("send when connected: %s, so no connected state will come", why)
}

func (s *adapterServer) write(v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("failed to encode %v: %w", v, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	_, err = s.w.Write(append(data, '\n'))
	return err
}

func (s *adapterServer) reply(id int, err error) {
	if err != nil {
		r := map[string]any{"reply": id, "ok": false, "error": err.Error()}
		if errors.Is(err, ErrNotSupported) {
			r["unsupported"] = true
		}
		s.write(r)
		return
	}
	s.write(map[string]any{"reply": id, "ok": true})
}

func (s *adapterServer) do(c command) error {
	ctx := context.Background()
	switch c.Cmd {
	case "connect":
		if s.subj != nil {
			return fmt.Errorf("connect: already connected")
		}
		if len(c.Profile) == 0 {
			return fmt.Errorf("connect: no profile")
		}
		sp, err := profile.DecodeJSON(c.Profile)
		if err != nil {
			return fmt.Errorf("connect: profile: %w", err)
		}
		subj, err := s.f(Env{Profile: sp, Scale: c.Scale, Clock: clockwork.NewRealClock(),
			Rand: rand.New(rand.NewPCG(rand.Uint64(), rand.Uint64())), Emit: s.emit})
		if err != nil {
			return fmt.Errorf("connect: %w", err)
		}
		s.subj = subj
		if err := subj.Connect(ctx, c.URL); err != nil {
			s.stop("the client did not start")
			return err
		}
		return nil
	case "send":
		switch {
		case s.subj == nil:
			return fmt.Errorf("send before connect")
		case c.When == StateConnected:
			s.whenMu.Lock()
			why := s.never()
			if why == "" {
				s.when = append(s.when, c)
			}
			s.whenMu.Unlock()
			if why != "" {
				return noConnected(why)
			}
			return deferred
		case c.When != "":
			return fmt.Errorf("send: unknown when %q", c.When)
		}
		return s.subj.Send(ctx, c.Type, c.Payload)
	case "reconnect":
		r, ok := s.subj.(Reconnecter)
		switch {
		case s.subj == nil:
			return fmt.Errorf("reconnect before connect")
		case !ok:
			return fmt.Errorf("%w: this client offers no reconnect", ErrNotSupported)
		}
		return r.Reconnect(ctx)
	case "close":
		if s.subj == nil {
			return fmt.Errorf("close before connect")
		}
		s.closed = true
		// Refused before the close, which may take a while: at once.
		s.stop("the client was closed")
		return s.subj.Close(ctx)
	}
	return fmt.Errorf("unknown command %q", c.Cmd)
}
