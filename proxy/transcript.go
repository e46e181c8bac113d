package proxy

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/gorilla/websocket"
	"github.com/wschaos/wschaos/fakeserver"
)

// Entry is one thing the proxy saw or did: fakeserver's Entry, so one
// reader handles both transcripts. The client-facing side uses
// fakeserver's kinds as if the proxy were the server (recv: a client frame
// arrived; send: a frame hit the client's wire; close By names the side
// that closed); the upstream side adds KindUpRecv and KindUpSend.
type Entry = fakeserver.Entry

// Kinds of the upstream side of a connection. Op, Data and Msg hold the
// frame; Note prints it, since fakeserver's Entry.String knows only its
// own kinds.
const (
	// KindUpRecv: an upstream frame arrived (before any fault acts on it).
	KindUpRecv fakeserver.Kind = "up-recv"
	// KindUpSend: a client frame hit the upstream's wire.
	KindUpSend fakeserver.Kind = "up-send"
	// KindUpDial: the proxy dialled the upstream; URL is the upstream URL,
	// Status its HTTP answer when it refused.
	KindUpDial fakeserver.Kind = "up-dial"
)

// Transcript is fakeserver's transcript: the same String format and Wait,
// so one reader handles both records.
type Transcript = fakeserver.Transcript

// maxLine bounds how much of a frame a note prints; Entry.Data keeps it all.
const maxLine = 400

// frameText prints a text frame as is when it fits on a line, anything
// else quoted and named by opcode (fakeserver's format).
func frameText(op int, data []byte) string {
	short := string(data[:min(len(data), maxLine)])
	if op == websocket.TextMessage && utf8.ValidString(short) && !strings.ContainsAny(short, "\r\n") {
		if len(short) < len(data) {
			return fmt.Sprintf("%s… (%d bytes)", short, len(data))
		}
		return short
	}
	s := opName(op) + " " + strconv.Quote(short)
	if len(short) < len(data) {
		s += fmt.Sprintf("… (%d bytes)", len(data))
	}
	return s
}

func opName(op int) string {
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
