package fakeserver

import (
	"bytes"
	"fmt"
	"strings"

	"github.com/wschaos/wschaos/chaos"
)

// pipeline runs f through the frame faults in order: each fault sees every
// frame the one before it passed on. It returns what reaches the end.
func (c *conn) pipeline(f chaos.Frame) []chaos.Frame {
	frames := []chaos.Frame{f}
	for _, ff := range c.s.framers {
		if len(frames) == 0 {
			break
		}
		var next []chaos.Frame
		for _, in := range frames {
			next = append(next, c.callFrame(ff, in)...)
		}
		frames = next
	}
	return frames
}

// callFrame calls one fault on one frame and records what it did.
func (c *conn) callFrame(ff chaos.FrameFault, in chaos.Frame) []chaos.Frame {
	c.link.Now = c.s.since()
	c.current, c.frame, c.noted = ff.String(), &in, false
	out := ff.Frame(c.link, in)
	if what := action(in, out); what != "" && !c.noted {
		c.faultEntry(c.current, what, &in)
	}
	c.current, c.frame = "", nil
	return out
}

// action reads what a fault did from what it returned for in: "" when it
// passed the frame on untouched.
func action(in chaos.Frame, out []chaos.Frame) string {
	var copies []chaos.Frame
	var before, after []chaos.Frame
	for _, f := range out {
		switch {
		case f.Dir == in.Dir && f.Index == in.Index:
			copies = append(copies, f)
		case len(copies) == 0:
			before = append(before, f)
		default:
			after = append(after, f)
		}
	}
	named := false
	name := func() string { // the full name once, then the number
		if named {
			return fmt.Sprintf("#%d", in.Index)
		}
		named = true
		return frameName(in)
	}
	var parts []string
	switch {
	case len(copies) == 0:
		parts = append(parts, "dropped "+name())
	case len(copies) > 1:
		parts = append(parts, fmt.Sprintf("duplicated %s (%d copies)", name(), len(copies)))
	}
	for _, f := range copies {
		if d := f.Delay - in.Delay; d != 0 {
			parts = append(parts, fmt.Sprintf("delayed %s by %v", name(), d))
		}
		if f.Op != in.Op || !bytes.Equal(f.Data, in.Data) {
			parts = append(parts, fmt.Sprintf("rewrote %s to %s", name(), frameText(f.Op, string(f.Data))))
		}
	}
	if len(before) > 0 {
		parts = append(parts, fmt.Sprintf("added %s before %s", frameList(before), name()))
	}
	if len(after) > 0 {
		parts = append(parts, fmt.Sprintf("added %s after %s", frameList(after), name()))
	}
	return strings.Join(parts, "; ")
}

// frameList names frames a fault added, briefly when there are many.
func frameList(fs []chaos.Frame) string {
	if len(fs) > 3 {
		return fmt.Sprintf("%d frames (%s … %s)", len(fs), frameName(fs[0]), frameName(fs[len(fs)-1]))
	}
	names := make([]string, len(fs))
	for i, f := range fs {
		names[i] = frameName(f)
	}
	return strings.Join(names, ", ")
}

// linkNote is Link.Note: the calling fault says what it did.
func (c *conn) linkNote(what string) {
	c.noted = true
	c.faultEntry(c.current, what, c.frame)
}

// linkCut is Link.Cut: during Open the cut waits until the open is
// recorded, like a step with no delay.
func (c *conn) linkCut(k chaos.Cut) {
	by := c.current
	if by == "" {
		by = "link"
	}
	if c.opening {
		c.openCuts = append(c.openCuts, namedCut{cut: k, by: by})
		return
	}
	c.cut(k, by)
}
