package chaos

import "github.com/wschaos/wschaos/profile"

// gate is the one selector type: it wraps a fault and decides, per attempt,
// connection or frame, whether the fault applies. wrap hands it back as a
// type with exactly the capabilities of the fault it wraps.
type gate struct {
	// name is the selector in the words that make it: "type=posted".
	name  string
	inner Fault
	// attempt gates Handshake; nil lets every attempt through.
	attempt func(a *Attempt) bool
	// conn gates Open; nil lets every connection through.
	conn func(l *Link) bool
	// where is a fixed property of the frames the gate passes (direction,
	// type, index); counting selectors around this one count only those.
	where func(f Frame) bool
	// when decides a frame that where and the inner fault target, by time,
	// count or chance; it runs once per such frame.
	when func(l *Link, f Frame) bool
}

// String prints the fault in words, its selectors after it as the
// parser reads them: "drop type=posted dir=server". Words hold one
// nesting of the selectors, the parser's (narrowest innermost); a fault
// nested otherwise in Go prints words that build it in that order.
func (g *gate) String() string { return g.inner.String() + " " + g.name }

func (g *gate) targets(f Frame) bool {
	return (g.where == nil || g.where(f)) && targets(g.inner, f)
}

func (g *gate) holding(l *Link, dir profile.Side) bool { return holding(g.inner, l, dir) }

func (g *gate) handshake(a *Attempt) *Refusal {
	if g.attempt != nil && !g.attempt(a) {
		return nil
	}
	return g.inner.(HandshakeFault).Handshake(a)
}

func (g *gate) open(l *Link) []Step {
	if g.conn != nil && !g.conn(l) {
		return nil
	}
	return g.inner.(ConnFault).Open(l)
}

func (g *gate) frame(l *Link, f Frame) []Frame {
	inner := g.inner.(FrameFault)
	if holding(g.inner, l, f.Dir) {
		// Whatever the gate says, a held frame needs the next one.
		return inner.Frame(l, f)
	}
	if !g.targets(f) || (g.when != nil && !g.when(l, f)) {
		return []Frame{f}
	}
	return inner.Frame(l, f)
}

// Gated faults, one type per combination of capabilities, so a selector
// never claims a capability its fault lacks (the server would call it) nor
// hides one it has.
type (
	gateH   struct{ *gate }
	gateC   struct{ *gate }
	gateF   struct{ *gate }
	gateHC  struct{ *gate }
	gateHF  struct{ *gate }
	gateCF  struct{ *gate }
	gateHCF struct{ *gate }
)

func (g gateH) Handshake(a *Attempt) *Refusal   { return g.handshake(a) }
func (g gateC) Open(l *Link) []Step             { return g.open(l) }
func (g gateF) Frame(l *Link, f Frame) []Frame  { return g.frame(l, f) }
func (g gateHC) Handshake(a *Attempt) *Refusal  { return g.handshake(a) }
func (g gateHC) Open(l *Link) []Step            { return g.open(l) }
func (g gateHF) Handshake(a *Attempt) *Refusal  { return g.handshake(a) }
func (g gateHF) Frame(l *Link, f Frame) []Frame { return g.frame(l, f) }
func (g gateCF) Open(l *Link) []Step            { return g.open(l) }
func (g gateCF) Frame(l *Link, f Frame) []Frame { return g.frame(l, f) }
func (g gateHCF) Handshake(a *Attempt) *Refusal { return g.handshake(a) }
func (g gateHCF) Open(l *Link) []Step           { return g.open(l) }
func (g gateHCF) Frame(l *Link, f Frame) []Frame {
	return g.frame(l, f)
}

// wrap returns g as a Fault with the capabilities of g.inner.
func wrap(g *gate) Fault {
	if g.inner == nil {
		panic("chaos: " + g.name + ": nil fault")
	}
	_, h := g.inner.(HandshakeFault)
	_, c := g.inner.(ConnFault)
	_, f := g.inner.(FrameFault)
	switch {
	case h && c && f:
		return gateHCF{g}
	case h && c:
		return gateHC{g}
	case h && f:
		return gateHF{g}
	case c && f:
		return gateCF{g}
	case h:
		return gateH{g}
	case c:
		return gateC{g}
	case f:
		return gateF{g}
	}
	return g
}
