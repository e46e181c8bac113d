package chaos

import (
	"fmt"
	"time"
)

// SlowClose holds the server's answer to a client's close frame back d of
// virtual time: the close handshake hangs, as a busy or dying server's
// does. A client that waits for the answer with no timeout of its own
// reconnects d late (or never); one with a timeout drops the socket and
// goes on. The server keeps the connection until the answer has gone or
// the client has dropped it.
func SlowClose(d time.Duration) ConnFault { return slowClose{d: d} }

type slowClose struct{ d time.Duration }

func (s slowClose) String() string { return fmt.Sprintf("slow-close %v", s.d) }

func (s slowClose) Open(l *Link) []Step {
	l.HoldClose += s.d
	return nil
}

func init() {
	Register(Spelling{
		Name: "slow-close", Usage: "D", Example: "slow-close 5s",
		Doc:  "answer a client's close frame only after D: a close handshake that hangs, for a client's close timeout",
		Make: durationMaker(SlowClose),
	})
}
