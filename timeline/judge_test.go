package timeline_test

import (
	"strings"
	"testing"
	"time"

	"github.com/wschaos/wschaos/backoff"
	"github.com/wschaos/wschaos/profile"
	"github.com/wschaos/wschaos/timeline"
	"github.com/wschaos/wschaos/transcript"
)

func s(n float64) time.Duration { return time.Duration(n * float64(time.Second)) }

// run feeds entries and returns the verdicts as text.
func run(p *profile.Profile, tol time.Duration, es ...transcript.Entry) []string {
	j := timeline.NewJudge(p)
	j.Tolerance = tol
	var out []string
	for _, e := range es {
		if v, ok := j.See(e); ok {
			out = append(out, v.String())
		}
	}
	return out
}

func dial(n int, at float64) transcript.Entry {
	return transcript.Entry{Kind: transcript.KindDial, Attempt: n, At: s(at)}
}
func refuse(n int, at float64) transcript.Entry {
	return transcript.Entry{Kind: transcript.KindRefuse, Attempt: n, At: s(at), Status: 503}
}
func open(n int, at float64) transcript.Entry {
	return transcript.Entry{Kind: transcript.KindOpen, Attempt: n, At: s(at)}
}
func closed(n int, at float64, code profile.StatusCode, by profile.Side) transcript.Entry {
	return transcript.Entry{Kind: transcript.KindClose, Attempt: n, At: s(at), Code: code, By: by}
}

func TestQueueScheduleIsJudgedExactlyAndGivingUpIsRequired(t *testing.T) {
	p := profile.QueueProfile()
	es := []transcript.Entry{dial(1, 0), refuse(1, 0)}
	at := 0.0
	for i, d := range []float64{1, 2, 4, 8, 16, 32} {
		at += d
		es = append(es, dial(i+2, at), refuse(i+2, at))
	}
	got := run(p, 0, es...)
	want := []string{"ok, within [1s, 1s]", "ok, within [2s, 2s]", "ok, within [4s, 4s]",
		"ok, within [8s, 8s]", "ok, within [16s, 16s]", "WRONG: the profile gives up after 5 failures"}
	if len(got) != len(want) {
		t.Fatalf("verdicts %q", got)
	}
	for i := range want {
		if !strings.Contains(got[i], want[i]) {
			t.Errorf("verdict %d = %q, want it to say %q", i+1, got[i], want[i])
		}
	}
}

func TestWrongWaitsAreCaughtAndToleranceIsExplicit(t *testing.T) {
	p := profile.MattermostProfile()
	// the shape of an RxJS port that never leaves the flat branch: after 7 failures it still waits 3 s.
	es := []transcript.Entry{dial(1, 0), refuse(1, 0)}
	at := 0.0
	for i := range 8 {
		at += 3.5
		es = append(es, dial(i+2, at), refuse(i+2, at))
	}
	got := run(p, 0, es...)
	if !strings.Contains(got[6], "(failure 7): ok") || !strings.Contains(got[7], "(failure 8): WRONG: the profile waits [3m12s, 3m14s]") {
		t.Fatalf("verdicts %q", got)
	}
	// 1 ms late against an exact window: wrong without tolerance, ok with it.
	late := []transcript.Entry{dial(1, 0), refuse(1, 0), dial(2, 1.001)}
	if got := run(profile.QueueProfile(), 0, late...); !strings.Contains(got[0], "WRONG") {
		t.Fatalf("without tolerance: %q", got)
	}
	if got := run(profile.QueueProfile(), 5*time.Millisecond, late...); !strings.Contains(got[0], "ok, within [995ms, 1.005s]") {
		t.Fatalf("with tolerance: %q", got)
	}
}

func TestOpenResetsAndPingTimeoutCountsAsFirstFailure(t *testing.T) {
	p := profile.MattermostProfile()
	es := []transcript.Entry{dial(1, 0), refuse(1, 0)}
	at := 0.0
	for i := range 9 { // nine refusals: the count reaches 10
		d := []float64{3, 3, 3, 3, 3, 3, 3, 192, 243}[i]
		at += d
		es = append(es, dial(i+2, at), refuse(i+2, at))
	}
	at += 300
	es = append(es, dial(11, at), open(11, at), closed(11, at+10, profile.StatusPingTimeout, profile.Client),
		dial(12, at+13), open(12, at+13), closed(12, at+20, profile.StatusGoingAway, profile.Server), dial(13, at+40))
	got := run(p, 0, es...)
	if !strings.Contains(got[9], "(failure 10): ok") {
		t.Fatalf("before the open: %q", got)
	}
	if !strings.Contains(got[10], "reconnect #12 after 3s (failure 1): ok") {
		t.Fatalf("after a ping timeout the count restarts at 1: %q", got[10])
	}
	if !strings.Contains(got[11], "reconnect #13 after 20s (failure 1): WRONG") {
		t.Fatalf("a 20 s wait after one failure breaks the schedule: %q", got[11])
	}
}

func TestStalledHandshakeIsNotJudged(t *testing.T) {
	es := []transcript.Entry{dial(1, 0), {Kind: transcript.KindStall, Attempt: 1}, dial(2, 14)}
	got := run(profile.MattermostProfile(), 0, es...)
	if len(got) != 1 || !strings.Contains(got[0], "not judged: the previous handshake stalled") {
		t.Fatalf("%q", got)
	}
}

func send(n int, at float64, typ string) transcript.Entry {
	return transcript.Entry{Kind: transcript.KindSend, Attempt: n, At: s(at), Msg: &profile.Message{Kind: profile.Event, Type: typ}}
}

// A profile that resets only after some uptime: a connection that closed
// at once keeps the count growing; one that stayed up resets it.
func TestResetAfterUptime(t *testing.T) {
	p := profile.ByName("reconnecting-websocket")
	p.Backoff = backoff.Exponential{Base: time.Second, Factor: 2, Max: time.Minute} // one base, exact windows
	got := run(p, 0,
		dial(1, 0), refuse(1, 0),
		dial(2, 1), open(2, 1), closed(2, 2, 1001, profile.Server), // up 1 s < 5 s: failure 2
		dial(3, 4), open(3, 4), closed(3, 10, 1001, profile.Server), // up 6 s: reset, failure 1
		dial(4, 11))
	want := []string{"(failure 1): ok, within [1s, 1s]", "(failure 2): ok, within [2s, 2s]", "(failure 1): ok, within [1s, 1s]"}
	if len(got) != len(want) {
		t.Fatalf("verdicts %q", got)
	}
	for i := range want {
		if !strings.Contains(got[i], want[i]) {
			t.Errorf("verdict %d = %q, want it to say %q", i+1, got[i], want[i])
		}
	}
	// The same transcript, judged as if the count reset on open, is wrong
	// about the second wait: the judge tells the two rules apart.
	p.ResetAfter = 0
	if got := run(p, 0, dial(1, 0), refuse(1, 0), dial(2, 1), open(2, 1), closed(2, 2, 1001, profile.Server), dial(3, 4)); !strings.Contains(got[1], "WRONG") {
		t.Errorf("reset on open judged a 2 s wait after a 1 s connection as %q, want WRONG", got[1])
	}
}

// With a handshake, the client counts as connected (and resets) only on
// the server's reply: an open whose reply never came is still a failure.
func TestHandshakeReplyIsTheReset(t *testing.T) {
	p := profile.ByName("graphql-ws")
	p.Backoff = backoff.Exponential{Base: time.Second, Factor: 2}
	got := run(p, 0,
		dial(1, 0), refuse(1, 0),
		dial(2, 1), open(2, 1), closed(2, 1, 1001, profile.Server), // no ack: failure 2
		dial(3, 3), open(3, 3), send(3, 3, "connection_ack"), closed(3, 4, 1001, profile.Server), // acked: failure 1
		dial(4, 5))
	want := []string{"(failure 1)", "(failure 2): ok, within [2s, 2s]", "(failure 1): ok, within [1s, 1s]"}
	for i := range want {
		if i >= len(got) || !strings.Contains(got[i], want[i]) {
			t.Fatalf("verdicts %q, want %q", got, want)
		}
	}
}

// A reconnect after a close code the profile calls fatal is wrong.
func TestReconnectAfterFatalCodeIsWrong(t *testing.T) {
	p := profile.ByName("graphql-ws")
	got := run(p, 0, dial(1, 0), open(1, 0), closed(1, 0, 4400, profile.Server), dial(2, 2))
	if len(got) != 1 || !strings.Contains(got[0], "WRONG: the profile never reconnects after close code 4400") {
		t.Errorf("verdicts %q, want the reconnect after 4400 called wrong", got)
	}
	got = run(p, 0, dial(1, 0), open(1, 0), send(1, 0, "connection_ack"), closed(1, 0, 4403, profile.Server), dial(2, 1.5))
	if len(got) != 1 || strings.Contains(got[0], "WRONG") {
		t.Errorf("verdicts %q after 4403, which is not fatal, want a judged wait", got)
	}
}

// A drawn window's top is a nanosecond under its bound; the verdict shows
// it rounded to the millisecond ([2.85s, 5.15s], not 5.149999999s), and
// still judges on the exact value.
func TestVerdictDurationsAreRounded(t *testing.T) {
	v := timeline.Verdict{Attempt: 2, Failure: 1, Waited: 3*time.Second + 123456, Min: 2850 * time.Millisecond, Max: 5149999999, OK: true}
	if got, want := v.String(), "reconnect #2 after 3s (failure 1): ok, within [2.85s, 5.15s]"; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
	v.Client = "tab-2"
	if got := v.String(); !strings.HasPrefix(got, "tab-2: reconnect #2 after 3s") {
		t.Errorf("with a client: %q", got)
	}
}
