package chaos

// SwallowPongs drops the server's answers to heartbeat pings (messages and
// pong control frames alike); everything else passes. With EveryNth or
// During it swallows every Nth pong, or pongs after a time.
func SwallowPongs() FrameFault { return swallowPongs{} }

type swallowPongs struct{}

func (swallowPongs) String() string { return "swallow-pongs" }

func (swallowPongs) targets(f Frame) bool { return isPong(f) }

func (swallowPongs) Frame(_ *Link, f Frame) []Frame {
	if isPong(f) {
		return nil
	}
	return []Frame{f}
}

func init() {
	Register(Spelling{
		Name: "swallow-pongs", Example: "swallow-pongs",
		Doc:  "drop the server's answers to heartbeat pings: a silent server",
		Make: plain(SwallowPongs()),
	})
}
