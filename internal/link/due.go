package link

import (
	"fmt"

	"github.com/wschaos/wschaos/chaos"
	"github.com/wschaos/wschaos/internal/wire"
	"github.com/wschaos/wschaos/transcript"
)

// Item is work a connection does later: a delayed frame, a scheduled cut,
// or (the fake server's) next ping.
type Item struct {
	Frame chaos.Frame
	Cut   *NamedCut
	Ping  bool
	// Answer is the close frame that answers the client's close, held
	// back by the fault By (chaos.Link.HoldClose).
	Answer *NamedCut
	// Ordered marks a frame that keeps its direction's order: later
	// frames of that direction wait for it (see Queue).
	Ordered bool
}

// Undelivered says, for the transcript, which delayed frames of items
// (what a connection's queue held when it ended) were never delivered.
func Undelivered(items []Item) []transcript.Entry {
	var es []transcript.Entry
	for _, it := range items {
		if it.Cut == nil && it.Answer == nil && !it.Ping {
			es = append(es, transcript.Entry{Kind: transcript.KindNote, Op: it.Frame.Op, Data: string(it.Frame.Data), Msg: it.Frame.Msg,
				Note: fmt.Sprintf("delayed %s never delivered: connection ended", wire.FrameName(it.Frame))})
		}
	}
	return es
}
