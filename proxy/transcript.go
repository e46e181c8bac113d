package proxy

import "github.com/wschaos/wschaos/transcript"

// Entry is one thing the proxy saw or did: fakeserver's Entry, so one
// reader handles both transcripts. The client-facing side uses
// fakeserver's kinds as if the proxy were the server (recv: a client frame
// arrived; send: a frame hit the client's wire; close By names the side
// that closed); the upstream side adds KindUpRecv and KindUpSend.
type Entry = transcript.Entry

// Kinds of the upstream side of a connection.
const (
	// KindUpRecv: an upstream frame arrived (before any fault acts on it).
	// Op, Data and Msg hold the frame; Note a decode error.
	KindUpRecv = transcript.KindUpRecv
	// KindUpSend: a client frame hit the upstream's wire.
	KindUpSend = transcript.KindUpSend
	// KindUpDial: the proxy dialled the upstream; URL is the upstream URL,
	// Status its HTTP answer when it refused.
	KindUpDial = transcript.KindUpDial
)

// Transcript is fakeserver's transcript: the same String format and Wait,
// so one reader handles both records.
type Transcript = transcript.Transcript

// Pin is fakeserver's pinned transcript reader: it reads every entry, and
// the relay waits for it rather than let one go (Transcript.Pin).
type Pin = transcript.Pin
