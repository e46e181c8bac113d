package report

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/wschaos/wschaos/conform"
)

const ms = time.Millisecond

// mark builds a timeline mark whose text reads like a transcript line.
func mark(at time.Duration, attempt int, kind, rest string) conform.Mark {
	body := strings.TrimSpace(kind + " " + rest)
	return conform.Mark{At: at, Attempt: attempt, Kind: kind, Text: fmt.Sprintf("%-10s #%d %s", "+"+at.String(), attempt, body)}
}

// wait builds a judged wait of the queue profile at scale 0.25 with the
// default tolerance: window [w, w], checked [w-50ms, w+300ms+w/4].
func wait(attempt, failure int, from, window, waited time.Duration, ok bool) conform.Wait {
	return conform.Wait{
		Attempt: attempt, Failure: failure, From: from, Waited: waited,
		Min: window, Max: window, Lo: window - 50*ms, Hi: window + 300*ms + window/4, OK: ok,
	}
}

func transcript(ms []conform.Mark) string {
	var b strings.Builder
	for _, m := range ms {
		b.WriteString(m.Text + "\n")
	}
	return b.String()
}

// passing is a scenario whose waits all landed in their windows.
func passing() conform.Result {
	marks := []conform.Mark{
		mark(400*time.Microsecond, 1, "dial", "/ws"),
		mark(1200*time.Microsecond, 1, "open", ""),
		mark(150*ms, 1, "recv", `text {"type":"message.send","payload":{"text":"m1"}}`),
		mark(151*ms, 1, "send", `text {"type":"message.ack"}`),
		mark(600*ms, 1, "fault", "cut-rst: connection reset"),
		mark(600*ms, 1, "close", "1006 by server (cut-rst)"),
		mark(863*ms, 2, "dial", "/ws"),
		mark(864*ms, 2, "refuse", "503 (refuse-503)"),
		mark(1376*ms, 3, "dial", "/ws"),
		mark(1377*ms, 3, "refuse", "503 (refuse-503)"),
		mark(2398*ms, 4, "dial", "/ws"),
		mark(2399*ms, 4, "open", ""),
		mark(3100*ms, 4, "close", `1000 "bye" by client`),
	}
	return conform.Result{
		Scenario: "backoff-grows", Profile: "queue",
		Checks: "each failed reconnect doubles the wait, from 250ms",
		Passed: true, Client: "example-client 1.4.0", Scale: 0.25, Seed: 7,
		Wall: 3215 * ms, End: 3200 * ms,
		Marks: marks,
		Waits: []conform.Wait{
			wait(2, 1, 600*ms, 250*ms, 263*ms, true),
			wait(3, 2, 864*ms, 500*ms, 512*ms, true),
			wait(4, 3, 1377*ms, 1000*ms, 1021*ms, true),
		},
		Events: []conform.Event{
			{Kind: conform.EventState, State: conform.StateConnecting, At: 0},
			{Kind: conform.EventState, State: conform.StateConnected, At: 2 * ms},
			{Kind: conform.EventMessage, Type: "message.ack", Payload: json.RawMessage(`{"id":"m1"}`), At: 152 * ms},
			{Kind: conform.EventState, State: conform.StateReconnecting, At: 601 * ms},
			{Kind: conform.EventState, State: conform.StateConnected, At: 2400 * ms},
			{Kind: conform.EventState, State: conform.StateDisconnected, At: 3101 * ms},
		},
		Transcript: transcript(marks),
		Tolerance:  conform.Tolerance{Early: 50 * time.Millisecond, Late: 300 * time.Millisecond, LateRatio: 0.25},
	}
}

// failing is a scenario with a wait too early and a dial after the
// profile gave up.
func failing() conform.Result {
	marks := []conform.Mark{
		mark(300*time.Microsecond, 1, "dial", "/ws"),
		mark(time.Millisecond, 1, "open", ""),
		mark(200*ms, 1, "fault", "cut-fin: closed the TCP connection"),
		mark(200*ms, 1, "close", "1006 by server (cut-fin): FIN"),
	}
	waits := []conform.Wait{
		wait(2, 1, 200*ms, 250*ms, 252*ms, true),
		wait(3, 2, 453*ms, 500*ms, 9*ms, false),
		wait(4, 3, 463*ms, 1000*ms, 1004*ms, true),
		wait(5, 4, 1468*ms, 2000*ms, 2003*ms, true),
		wait(6, 5, 3472*ms, 4000*ms, 4010*ms, true),
		{Attempt: 7, Failure: 6, From: 7483 * ms, Waited: 250 * ms, GaveUp: true, Note: "5 reconnects failed: the profile gives up"},
	}
	waits[1].Note = "before its window"
	for _, w := range waits {
		at := w.From + w.Waited
		marks = append(marks, mark(at, w.Attempt, "dial", "/ws"), mark(at+ms, w.Attempt, "refuse", "503 (refuse-503)"))
	}
	return conform.Result{
		Scenario: "gives-up", Profile: "queue",
		Checks: "after 5 failed reconnects the client stops and reports gave-up",
		Passed: false,
		Reason: "attempt #3 dialed 9ms after failure 2: want 500ms, checked [450ms, 925ms]",
		Failures: []string{
			"attempt #3 dialed 9ms after failure 2: want 500ms, checked [450ms, 925ms]",
			"attempt #7 dialed 250ms after failure 6, but the profile had given up",
			`the client never reported the state "gave-up"`,
		},
		Client: "example-client 1.4.0", Scale: 0.25, Seed: 7,
		Wall: 8530 * ms, End: 8500 * ms,
		Marks: marks, Waits: waits,
		Events: []conform.Event{
			{Kind: conform.EventState, State: conform.StateConnecting, At: 0},
			{Kind: conform.EventState, State: conform.StateConnected, At: 2 * ms},
			{Kind: conform.EventState, State: conform.StateReconnecting, At: 201 * ms},
			{Kind: conform.EventError, Message: "unexpected server response: 503", At: 454 * ms},
			{Kind: conform.EventLog, Message: "retry in 9ms", At: 454 * ms},
		},
		Transcript: transcript(marks),
		Stderr:     "adapter: connect ws://127.0.0.1:41237/ws\n\x1b[33mwarn\x1b[0m retry in 9ms\n",
		Tolerance:  conform.Tolerance{Early: 50 * time.Millisecond, Late: 300 * time.Millisecond, LateRatio: 0.25},
	}
}

// sampleRun is a run of both scenarios.
func sampleRun() *Run {
	return &Run{
		Client: "example-client 1.4.0", Profile: "queue", Adapter: "node examples/js/adapter.js",
		Started: time.Date(2026, 3, 14, 9, 26, 53, 0, time.UTC),
		Wall:    11800 * ms,
		Results: []conform.Result{passing(), failing()},
	}
}
