package chaos

// ResetHandshake answers the attempt with a TCP RST and no HTTP at all: what
// a client sees when nothing listens or the server crashed mid-accept.
func ResetHandshake() HandshakeFault { return resetHandshake{} }

type resetHandshake struct{}

func (resetHandshake) String() string { return "reset-handshake" }

func (resetHandshake) Handshake(*Attempt) *Refusal { return &Refusal{Reset: true} }

func init() {
	Register(Spelling{
		Name: "reset-handshake", Example: "reset-handshake",
		Doc:  "reset the TCP connection instead of answering the upgrade",
		Make: plain(ResetHandshake()),
	})
}
