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
}

// RunDue carries out, with run, every item of q that is due while the
// connection has not ended, then arms q's timer for the next one, or drops
// what is left once the connection has ended.
func RunDue(q *wire.Delays[Item], ended func() bool, run func(Item)) {
	for !ended() {
		it, ok := q.Due()
		if !ok {
			break
		}
		run(it)
	}
	if ended() {
		q.Drop()
		return
	}
	q.Arm()
}

// Undelivered says, for the transcript, which delayed frames of items
// (what a connection's queue held when it ended) were never delivered.
func Undelivered(items []Item) []transcript.Entry {
	var es []transcript.Entry
	for _, it := range items {
		if it.Cut == nil && !it.Ping {
			es = append(es, transcript.Entry{Kind: transcript.KindNote, Op: it.Frame.Op, Data: string(it.Frame.Data), Msg: it.Frame.Msg,
				Note: fmt.Sprintf("delayed %s never delivered: connection ended", wire.FrameName(it.Frame))})
		}
	}
	return es
}
