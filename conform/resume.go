package conform

import (
	"encoding/json"
	"fmt"
	"net/url"
	"slices"

	"github.com/wschaos/wschaos/chaos"
	"github.com/wschaos/wschaos/profile"
	"github.com/wschaos/wschaos/transcript"
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

// dialQuery reads the query of the n-th dial, by the profile's names.
func dialQuery(t *T, n int) profile.ConnectQuery {
	dial := t.AwaitCount(fmt.Sprintf("dial %d", n), 0, n, transcript.KindDial, nil)[n-1]
	u, err := url.Parse(dial.URL)
	if err != nil {
		t.Fatalf("dial %d: bad URL %q: %v", n, dial.URL, err)
	}
	q, err := t.Profile().ParseConnectQuery(u.Query())
	if err != nil {
		t.Fatalf("dial %d: %v", n, err)
	}
	return q
}

// errorClosed reports whether the client ended attempt n with an error
// close of code, where the profile reports it: in the close frame, or on
// the next connect's query; else it says what it saw instead.
func errorClosed(t *T, n int, code profile.StatusCode) (bool, string) {
	p := t.Profile()
	// On the real clock the reconnect can be recorded before the old
	// connection's end: wait for that end (or the frame a black hole
	// swallowed) before reading its code.
	t.AwaitEntries(fmt.Sprintf("the end of connection %d", n), 0, func(es []transcript.Entry) bool {
		_, closed := closeOf(es, n)
		_, sent := clientCloseFrame(es, n)
		return closed || sent
	})
	c, ok := closeOf(t.Entries(), n)
	if sent, sentOK := clientCloseFrame(t.Entries(), n); sentOK {
		c, ok = sent, true // the frame a black hole swallowed says what the client sent
	}
	if p.Close.InFrame() && (!ok || c.By != profile.Client || c.Code != code) {
		return false, describeClose(c, ok)
	}
	if !p.Close.InFrame() && ok && c.By == profile.Client && c.Code == code {
		return false, fmt.Sprintf("it put %d in the close frame, where the profile's error close carries no code", code)
	}
	if p.Close.InQuery() {
		if ofKind(t.Entries(), transcript.KindDial) <= n {
			return false, "no connect followed to report it"
		}
		if got := dialQuery(t, n+1).ReportedCode; got != code {
			return false, fmt.Sprintf("the next connect reported %s=%d", p.Close.Query, got)
		}
	}
	return true, ""
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
		t.AwaitCount("the reconnect", first, 2, transcript.KindOpen, nil)
		q, id, r := dialQuery(t, 2), helloID(t, p), p.Resume
		if q.ConnectionID != id || q.Seq != 4 {
			t.Errorf("the reconnect asked for %s=%q %s=%d; want %q and 4, the next event it expects",
				r.IDParam, q.ConnectionID, r.SeqParam, q.Seq, id)
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
		t.AwaitCount("the reconnect", first, 2, transcript.KindOpen, nil)
		t.AwaitEvent("the resync", 0, 1, isResync)
		t.AwaitEvent("the connected state again", 0, 2, isState(StateConnected))
		emitEvents(t, 3, 3) // seq 1 of the new session
		t.AwaitAny("event 3 delivered, or a close", func() bool {
			return len(delivered(t)) >= 3 || ofKind(t.Entries(), transcript.KindClose) > 1
		})
		if got := delivered(t); !slices.Contains(got, 3) {
			t.Errorf("the client did not deliver event 3, the new session's seq 1 (it delivered %v): its expected seq was not reset", got)
		}
		t.Quiet(first)
		if n := count(t.Events(), isResync); n != 1 {
			t.Errorf("the client asked for %d resyncs; a new connection id means exactly one", n)
		}
		for n := 2; n <= ofKind(t.Entries(), transcript.KindOpen); n++ {
			if _, ended := closeOf(t.Entries(), n); !ended {
				break
			}
			if gap, _ := errorClosed(t, n, p.Resume.GapCloseCode); gap {
				t.Errorf("the client closed with %d (sequence mismatch) on the new session: its expected seq was not reset", p.Resume.GapCloseCode)
				break
			}
		}
	},
}

var seqGapScenario = Scenario{
	Name:    "seq-gap",
	Checks:  "a gap in the sequence closes with the gap code (4001) where the profile reports it, and resumes from the missing event; every event is delivered once, in order",
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
		t.AwaitCount("the reconnect after the gap", first, 2, transcript.KindOpen, nil)
		if ok, saw := errorClosed(t, 1, p.Resume.GapCloseCode); !ok {
			t.Errorf("the gap did not make the client close with %d: %s", p.Resume.GapCloseCode, saw)
		}
		if q := dialQuery(t, 2); q.Seq != 2 {
			t.Errorf("the reconnect asked for %s=%d; want 2, the missing event", p.Resume.SeqParam, q.Seq)
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
		if e.Kind == transcript.KindSend && e.Msg != nil && e.Msg.Type == p.Resume.HelloType {
			return e.Msg.Field(p.Resume.IDField)
		}
	}
	t.Fatalf("the server sent no %s", p.Resume.HelloType)
	return ""
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
