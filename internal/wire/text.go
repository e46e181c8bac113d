// Package wire holds what the fake server and the proxy share about one
// WebSocket connection: how frames are named in a transcript, how a frame
// runs through the frame faults and what a fault did to it, and the queue
// of delayed work with its one clock timer.
package wire

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/gorilla/websocket"

	"github.com/wschaos/wschaos/chaos"
)

// maxLine bounds how much of a frame a transcript line prints; the entry
// keeps the whole frame.
const maxLine = 400

// FrameText prints a frame for a transcript line: a text frame as is when
// it fits on a line, anything else quoted and named by opcode.
func FrameText(op int, data string) string {
	short := data
	if len(short) > maxLine {
		short = short[:maxLine]
	}
	if op == websocket.TextMessage && utf8.ValidString(short) && !strings.ContainsAny(short, "\r\n") {
		if len(short) < len(data) {
			return short + "… (" + strconv.Itoa(len(data)) + " bytes)" // per frame relayed: no fmt
		}
		return data
	}
	s := OpName(op) + " " + strconv.Quote(short)
	if len(short) < len(data) {
		s += "… (" + strconv.Itoa(len(data)) + " bytes)"
	}
	return s
}

// OpName names a WebSocket opcode.
func OpName(op int) string {
	switch op {
	case websocket.TextMessage:
		return "text"
	case websocket.BinaryMessage:
		return "binary"
	case websocket.CloseMessage:
		return "close"
	case websocket.PingMessage:
		return "ping"
	case websocket.PongMessage:
		return "pong"
	}
	return "op" + strconv.Itoa(op)
}

// FrameName names a frame for transcript notes:
// "server frame #3 (reply seq_reply=1 status=OK)".
func FrameName(f chaos.Frame) string {
	what := OpName(f.Op)
	if f.Msg != nil {
		what = f.Msg.String()
	}
	return fmt.Sprintf("%s frame #%d (%s)", f.Dir, f.Index, what)
}

// Action reads what a fault did from what it returned for in: "" when it
// passed the frame on untouched.
func Action(in chaos.Frame, out []chaos.Frame) string {
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
		return FrameName(in)
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
			parts = append(parts, fmt.Sprintf("rewrote %s to %s", name(), FrameText(f.Op, string(f.Data))))
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
		return fmt.Sprintf("%d frames (%s … %s)", len(fs), FrameName(fs[0]), FrameName(fs[len(fs)-1]))
	}
	names := make([]string, len(fs))
	for i, f := range fs {
		names[i] = FrameName(f)
	}
	return strings.Join(names, ", ")
}

// Pipeline runs f through faults in order: each fault sees every frame the
// one before it passed on; call calls one fault on one frame (and records
// what it did). It returns what reaches the end.
func Pipeline(faults []chaos.FrameFault, f chaos.Frame, call func(chaos.FrameFault, chaos.Frame) []chaos.Frame) []chaos.Frame {
	frames := []chaos.Frame{f}
	for _, ff := range faults {
		if len(frames) == 0 {
			break
		}
		var next []chaos.Frame
		for _, in := range frames {
			next = append(next, call(ff, in)...)
		}
		frames = next
	}
	return frames
}
