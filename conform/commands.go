package conform

import (
	"encoding/json"
	"fmt"
	"time"
)

// Command is one command the scenario gave the client (through an
// adapter, the line it wrote to the adapter's stdin) and the client's
// reply, on the scenario's clock since the server started. A report
// draws them beside the server's transcript, so a reader sees what the
// application asked for next to what went over the wire.
type Command struct {
	At      time.Duration `json:"at_ns"`
	ReplyAt time.Duration `json:"reply_at_ns"`
	// Command is the command in the adapter protocol's words: "connect
	// URL", "send TYPE PAYLOAD", "send TYPE PAYLOAD when=connected",
	// "close".
	Command string `json:"command"`
	// Reply is "ok", or the client's refusal or error.
	Reply string `json:"reply"`
	OK    bool   `json:"ok"`
}

// command runs do, the subject's handling of the command text, and
// records both with their times.
func (t *T) command(text string, do func() error) error {
	at := t.clock.Since(t.t0)
	err := do()
	c := Command{At: at, ReplyAt: t.clock.Since(t.t0), Command: text, Reply: "ok", OK: err == nil}
	if err != nil {
		c.Reply = err.Error()
	}
	t.mu.Lock()
	t.commands = append(t.commands, c)
	t.mu.Unlock()
	return err
}

// sendText is a send command as the adapter protocol words it.
func sendText(typ string, payload json.RawMessage, when string) string {
	s := fmt.Sprintf("send %s %s", typ, payload)
	if when != "" {
		s += " when=" + when
	}
	return s
}
