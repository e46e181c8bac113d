package chaos

import (
	"fmt"
	"time"
)

// Stall holds the handshake d of virtual time, then lets it go on to the
// next fault and the upgrade: a slow server. d < 0 holds it until the
// client gives up or the server closes: a hung one, which only the
// client's own connect timeout can end.
func Stall(d time.Duration) HandshakeFault { return stall{d: d} }

type stall struct{ d time.Duration }

func (s stall) String() string {
	if s.d < 0 {
		return "stall forever"
	}
	return fmt.Sprintf("stall %v", s.d)
}

func (s stall) Handshake(*Attempt) *Refusal {
	if s.d == 0 {
		return nil
	}
	return &Refusal{Stall: s.d}
}

func init() {
	Register(Spelling{
		Name: "stall", Usage: "D|forever", Example: "stall 5s",
		Doc: "hold the upgrade request D before going on (forever: until the client gives up)",
		Make: func(args []string, _ map[string]string) (Fault, error) {
			if len(args) == 0 || args[0] == "forever" {
				return Stall(-1), nil
			}
			d, err := DurationArg(args, 0)
			return Stall(d), err
		},
	})
}
