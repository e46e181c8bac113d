package conform

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"sync"

	"github.com/jonboulle/clockwork"
	"github.com/wschaos/wschaos/profile"
)

// ServeAdapter plays the adapter's side of the protocol (docs/adapter.md)
// for a Go client made by f, on r and w, until r ends: a Go client can be
// checked by wschaos conform like any other, and this is the protocol in
// Go for anyone writing an adapter. name is the client's name in reports.
func ServeAdapter(r io.Reader, w io.Writer, name string, f Factory) error {
	s := &adapterServer{w: w, f: f}
	if err := s.write(map[string]any{"event": "ready", "protocol": ProtocolVersion, "client": name}); err != nil {
		return err
	}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), lineLimit)
	var wg sync.WaitGroup
	defer wg.Wait()
	for sc.Scan() {
		var c command
		if err := json.Unmarshal(sc.Bytes(), &c); err != nil {
			return fmt.Errorf("failed to read a command %q: %w", truncate(sc.Bytes()), err)
		}
		// Commands run one at a time, in order, but off the reading
		// goroutine: a send may wait while the reply to an earlier
		// event's reaction is still to come.
		wg.Wait()
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := s.do(c); err != deferred {
				s.reply(c.ID, err)
			}
		}()
	}
	wg.Wait()
	if s.subj != nil && !s.closed {
		s.subj.Close(context.Background())
	}
	return sc.Err()
}

type command struct {
	ID      int             `json:"id"`
	Cmd     string          `json:"cmd"`
	URL     string          `json:"url"`
	Profile string          `json:"profile"`
	Timing  Timing          `json:"timing"`
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
}

// emit reports an event, then makes the sends that waited for it, from
// inside the client's callback as an application's handler would.
func (s *adapterServer) emit(e Event) {
	s.write(e)
	if e.Kind != EventState || e.State != StateConnected {
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
		s.write(map[string]any{"reply": id, "ok": false, "error": err.Error()})
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
		p := profile.ByName(c.Profile)
		if p == nil {
			return fmt.Errorf("connect: unknown profile %q", c.Profile)
		}
		scale := c.Timing["scale"]
		if scale == 0 {
			scale = 1
		}
		sp, timing, err := Scale(p, scale)
		if err != nil {
			return fmt.Errorf("connect: %w", err)
		}
		subj, err := s.f(Env{Profile: sp, Timing: timing, Clock: clockwork.NewRealClock(),
			Rand: rand.New(rand.NewPCG(rand.Uint64(), rand.Uint64())), Emit: s.emit})
		if err != nil {
			return fmt.Errorf("connect: %w", err)
		}
		s.subj = subj
		return subj.Connect(ctx, c.URL)
	case "send":
		switch {
		case s.subj == nil:
			return fmt.Errorf("send before connect")
		case c.When == StateConnected:
			s.whenMu.Lock()
			s.when = append(s.when, c)
			s.whenMu.Unlock()
			return deferred
		case c.When != "":
			return fmt.Errorf("send: unknown when %q", c.When)
		}
		return s.subj.Send(ctx, c.Type, c.Payload)
	case "close":
		if s.subj == nil {
			return fmt.Errorf("close before connect")
		}
		s.closed = true
		return s.subj.Close(ctx)
	}
	return fmt.Errorf("unknown command %q", c.Cmd)
}
