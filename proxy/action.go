package proxy

import (
	"bytes"
	"fmt"
	"strings"

	"github.com/wschaos/wschaos/chaos"
)

// action reads what a fault did from what it returned for in: "" when it
// passed the frame on untouched. (fakeserver's reading, so both
// transcripts say the same about the same fault.)
func action(in chaos.Frame, out []chaos.Frame) string {
	var copies, before, after []chaos.Frame
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
			parts = append(parts, fmt.Sprintf("rewrote %s to %s", name(), frameText(f.Op, f.Data)))
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
