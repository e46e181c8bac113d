package conform

import (
	"fmt"

	"github.com/wschaos/wschaos/profile"
	"github.com/wschaos/wschaos/transcript"
)

// eventType is the server event the resume files stream ("emit").
const eventType = "posted"

func count(xs []Event, match func(Event) bool) int {
	n := 0
	for _, e := range xs {
		if match(e) {
			n++
		}
	}
	return n
}

// clientCloseFrame is the close frame the client sent on attempt n that a
// fault swallowed before the server read it, if any.
func clientCloseFrame(es []transcript.Entry, n int) (transcript.Entry, bool) {
	for _, e := range es {
		if e.Kind == transcript.KindFault && e.Attempt == n && e.By == profile.Client && e.Code != 0 {
			return e, true
		}
	}
	return transcript.Entry{}, false
}

func describeClose(c transcript.Entry, ok bool) string {
	if !ok {
		return "the first connection never closed"
	}
	return fmt.Sprintf("it ended with %d by the %s", c.Code, c.By)
}
