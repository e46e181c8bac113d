package conform

import (
	"encoding/json"
	"fmt"
	"net/url"
	"slices"

	"github.com/wschaos/wschaos/chaos"
	"github.com/wschaos/wschaos/fakeserver"
	"github.com/wschaos/wschaos/profile"
)

// eventType is the server event the resume scenarios stream.
const eventType = "posted"

func resumes(p *profile.Profile) bool { return p.Resume != nil }

// numbered is the data of the streamed events.
type numbered struct {
	N int `json:"n"`
}

// emitEvents has the server send events numbered from..to.
func emitEvents(t *T, from, to int) {
	for n := from; n <= to; n++ {
		if err := t.Server().Emit(eventType, numbered{n}); err != nil {
			t.Fatalf("the server could not send event %d: %v", n, err)
		}
	}
}

// delivered lists, in order, the numbers of the streamed events the client
// delivered to the application.
func delivered(t *T) []int {
	var out []int
	for _, e := range t.Events() {
		if e.Kind == EventMessage && e.Type == eventType {
			var x numbered
			if json.Unmarshal(e.Payload, &x) == nil {
				out = append(out, x.N)
			}
		}
	}
	return out
}

// awaitDelivered waits until the client has delivered n streamed events.
func awaitDelivered(t *T, what string, n int) {
	t.AwaitEvent(what, 0, n, func(e Event) bool { return e.Kind == EventMessage && e.Type == eventType })
}

// dialQuery reads the resume query of the n-th dial.
func dialQuery(t *T, n int) profile.ResumeQuery {
	dial := t.AwaitCount(fmt.Sprintf("dial %d", n), 0, n, fakeserver.KindDial, nil)[n-1]
	u, err := url.Parse(dial.URL)
	if err != nil {
		t.Fatalf("dial %d: bad URL %q: %v", n, dial.URL, err)
	}
	q, err := profile.ParseResumeQuery(u.Query())
	if err != nil {
		t.Fatalf("dial %d: %v", n, err)
	}
	return q
}

func count(xs []Event, match func(Event) bool) int {
	n := 0
	for _, e := range xs {
		if match(e) {
			n++
		}
	}
	return n
}

func isResync(e Event) bool { return e.Kind == EventResync }

// streamThenRestart connects the client, streams events 1..n to it, and
// once it has them all, restarts the server's side of the connection.
func streamThenRestart(t *T, n int) {
	t.Connect()
	t.AwaitEvent("the connected state", 0, 1, isState(StateConnected))
	emitEvents(t, 1, n)
	awaitDelivered(t, fmt.Sprintf("events 1-%d", n), n)
	t.Server().CutAll(restart)
}

// restart closes the connection as a restarting server does.
var restart = chaos.Cut{Kind: chaos.CloseFrame, Code: profile.StatusGoingAway, Reason: "restart"}

var resumeScenario = Scenario{
	Name:    "resume",
	Checks:  "reconnects with its connection id and next sequence number, and takes the replay once each, without a resync",
	Applies: resumes,
	Run: func(t *T) {
		p := t.Profile()
		first, _ := wait(p, 1)
		streamThenRestart(t, 3)
		t.AwaitEvent("the client noticing the restart", 0, 1, isState(StateReconnecting))
		emitEvents(t, 4, 5) // kept for the resume
		t.StepToRetry()
		t.AwaitCount("the reconnect", first, 2, fakeserver.KindOpen, nil)
		q, id := dialQuery(t, 2), helloID(t, p)
		if q.ConnectionID != id || q.SequenceNumber != 4 {
			t.Errorf("the reconnect asked for connection_id=%q sequence_number=%d; want %q and 4, the next event it expects",
				q.ConnectionID, q.SequenceNumber, id)
		}
		awaitDelivered(t, "the replayed events 4-5", 5)
		t.Quiet(first)
		if got, want := delivered(t), []int{1, 2, 3, 4, 5}; !slices.Equal(got, want) {
			t.Errorf("the client delivered events %v; want %v, once each", got, want)
		}
		if n := count(t.Events(), isResync); n > 0 {
			t.Errorf("the client asked for %d resyncs after a resume on the same connection id", n)
		}
	},
}

var newIDScenario = Scenario{
	Name:    "new-id",
	Checks:  "a resume answered with a new connection id fires exactly one resync and restarts the sequence (no 4001 loop)",
	Applies: resumes,
	Faults: func(*T) []chaos.Fault {
		return []chaos.Fault{chaos.OnAttempts(chaos.NewSessionOnResume(), 2)}
	},
	Run: func(t *T) {
		p := t.Profile()
		first, _ := wait(p, 1)
		streamThenRestart(t, 2)
		t.Settle()
		t.AwaitCount("the reconnect", first, 2, fakeserver.KindOpen, nil)
		t.AwaitEvent("the resync", 0, 1, isResync)
		t.AwaitEvent("the connected state again", 0, 2, isState(StateConnected))
		emitEvents(t, 3, 3) // seq 1 of the new session
		t.AwaitAny("event 3 delivered, or a close", func() bool {
			return len(delivered(t)) >= 3 || ofKind(t.Entries(), fakeserver.KindClose) > 1
		})
		t.Quiet(first)
		if n := count(t.Events(), isResync); n != 1 {
			t.Errorf("the client asked for %d resyncs; a new connection id means exactly one", n)
		}
		for _, e := range t.Entries() {
			if e.Kind == fakeserver.KindClose && e.By == profile.Client && e.Code == p.Resume.GapCloseCode {
				t.Errorf("the client closed with %d (sequence mismatch) on the new session: its expected seq was not reset", e.Code)
				break
			}
		}
	},
}

var seqGapScenario = Scenario{
	Name:    "seq-gap",
	Checks:  "a gap in the sequence closes with 4001 and resumes from the missing event; every event is delivered once, in order",
	Applies: resumes,
	Faults: func(*T) []chaos.Fault {
		return []chaos.Fault{chaos.OnAttempts(chaos.SeqGap(2), 1)}
	},
	Run: func(t *T) {
		p := t.Profile()
		first, _ := wait(p, 1)
		t.Connect()
		t.AwaitEvent("the connected state", 0, 1, isState(StateConnected))
		emitEvents(t, 1, 3) // seq 2 never arrives
		t.SettleOn("the close on the gap and the retry after it")
		t.AwaitCount("the reconnect after the gap", first, 2, fakeserver.KindOpen, nil)
		if c, ok := closeOf(t.Entries(), 1); !ok || c.By != profile.Client || c.Code != p.Resume.GapCloseCode {
			t.Errorf("the gap did not make the client close with %d: %s", p.Resume.GapCloseCode, describeClose(c, ok))
		}
		if q := dialQuery(t, 2); q.SequenceNumber != 2 {
			t.Errorf("the reconnect asked for sequence_number=%d; want 2, the missing event", q.SequenceNumber)
		}
		awaitDelivered(t, "events 1-3", 3)
		t.Quiet(first)
		if got, want := delivered(t), []int{1, 2, 3}; !slices.Equal(got, want) {
			t.Errorf("the client delivered events %v; want %v, once each, in order", got, want)
		}
	},
}

// helloID is the connection id of the first hello the server sent.
func helloID(t *T, p *profile.Profile) string {
	for _, e := range t.Entries() {
		if e.Kind == fakeserver.KindSend && e.Msg != nil && e.Msg.Type == p.Resume.HelloType {
			return e.Msg.Field("connection_id")
		}
	}
	t.Fatalf("the server sent no %s", p.Resume.HelloType)
	return ""
}

func describeClose(c fakeserver.Entry, ok bool) string {
	if !ok {
		return "the first connection never closed"
	}
	return fmt.Sprintf("it ended with %d by the %s", c.Code, c.By)
}
