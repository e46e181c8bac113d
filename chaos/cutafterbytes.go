package chaos

import "fmt"

// CutAfterBytes cuts the connection as c says once n bytes of frame data
// have passed it (both directions unless wrapped in Dir or Type), right
// after the frame that reaches n: the link that dies mid-stream, as a
// data cap or a flaky middlebox does. It is Toxiproxy's limit_data at the
// level of messages. It panics if n < 1.
func CutAfterBytes(n int, c Cut) FrameFault {
	if n < 1 {
		panic(fmt.Sprintf("chaos: CutAfterBytes(%d): want at least 1", n))
	}
	return &cutAfterBytes{n: n, cut: c}
}

type cutAfterBytes struct {
	n   int
	cut Cut
}

func (c *cutAfterBytes) String() string {
	return fmt.Sprintf("cut-after-bytes %d %s", c.n, c.cut.Words())
}

// NewState counts the bytes passed on one connection.
func (c *cutAfterBytes) NewState() any { return new(int) }

func (c *cutAfterBytes) Frame(l *Link, f Frame) []Frame {
	seen := l.State(c).(*int)
	before := *seen
	*seen += len(f.Data)
	if before < c.n && *seen >= c.n {
		l.note("%d bytes passed: %v", *seen, c.cut)
		l.Cut(c.cut)
	}
	return []Frame{f}
}

func init() {
	Register(Spelling{
		Name: "cut-after-bytes", Usage: "N [" + cutWordsUsage + "]", Example: "cut-after-bytes 4096 rst",
		Doc:  "cut the connection (FIN unless told) once N bytes of messages have passed: a link that dies mid-stream",
		Make: countCutMaker("a byte count", CutAfterBytes),
	})
}
