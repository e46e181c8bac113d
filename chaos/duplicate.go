package chaos

// Duplicate passes every frame it sees twice, in both directions unless
// wrapped: the client must not act on a duplicated event twice.
func Duplicate() FrameFault { return duplicate{} }

type duplicate struct{}

func (duplicate) String() string { return "duplicate" }

func (duplicate) Frame(_ *Link, f Frame) []Frame { return []Frame{f, f} }

func init() {
	Register(Spelling{Name: "duplicate", Example: "duplicate", Doc: "send every frame it is aimed at twice", Make: plain(Duplicate())})
}
