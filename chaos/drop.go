package chaos

// Drop drops every frame it sees, in both directions unless wrapped in Dir,
// Type, Index or Match.
func Drop() FrameFault { return drop{} }

type drop struct{}

func (drop) String() string { return "drop" }

func (drop) Frame(*Link, Frame) []Frame { return nil }

func init() {
	Register(Spelling{Name: "drop", Example: "drop", Doc: "drop every frame it is aimed at", Make: plain(Drop())})
}
