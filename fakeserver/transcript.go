package fakeserver

import "github.com/wschaos/wschaos/transcript"

// The transcript lives in package transcript; these names keep the old
// spelling working until every reader says transcript.X.

// Entry is one thing the server saw or did: see transcript.Entry.
type Entry = transcript.Entry

// Kind says what an Entry records: see transcript.Kind.
type Kind = transcript.Kind

// The kinds of entry: see transcript.KindDial and the rest.
const (
	KindDial   = transcript.KindDial
	KindRefuse = transcript.KindRefuse
	KindStall  = transcript.KindStall
	KindReset  = transcript.KindReset
	KindOpen   = transcript.KindOpen
	KindRecv   = transcript.KindRecv
	KindSend   = transcript.KindSend
	KindUpRecv = transcript.KindUpRecv
	KindUpSend = transcript.KindUpSend
	KindUpDial = transcript.KindUpDial
	KindFault  = transcript.KindFault
	KindClose  = transcript.KindClose
	KindNote   = transcript.KindNote
)

// Transcript is the record: see transcript.Transcript.
type Transcript = transcript.Transcript

// Pin is a reader that sees every entry: see transcript.Pin.
type Pin = transcript.Pin

// ErrPinReleased: see transcript.ErrPinReleased.
var ErrPinReleased = transcript.ErrPinReleased

// NewTranscript returns an empty transcript: see transcript.New.
func NewTranscript() *Transcript { return transcript.New() }
