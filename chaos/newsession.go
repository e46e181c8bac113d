package chaos

// NewSessionOnResume answers the connection with a fresh session and hello
// even when the client asked to resume a session the server could replay:
// the client must resync exactly once, not loop on it.
func NewSessionOnResume() ConnFault { return newSessionOnResume{} }

type newSessionOnResume struct{}

func (newSessionOnResume) String() string { return "new-session-on-resume" }

func (newSessionOnResume) Open(l *Link) []Step {
	if l.NewSession != nil {
		l.NewSession()
	}
	return nil
}

func init() {
	Register(Spelling{
		Name: "new-session-on-resume", Example: "new-session-on-resume", OwnsSessions: true,
		Doc:  "answer a resume with a new connection id: the server lost the session",
		Make: plain(NewSessionOnResume()),
	})
}
