package timeline_test

import (
	"strings"
	"testing"
	"time"

	"github.com/wschaos/wschaos/fakeserver"
	"github.com/wschaos/wschaos/profile"
	"github.com/wschaos/wschaos/timeline"
)

func s(n float64) time.Duration { return time.Duration(n * float64(time.Second)) }

// run feeds entries and returns the verdicts as text.
func run(p *profile.Profile, tol time.Duration, es ...fakeserver.Entry) []string {
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

func dial(n int, at float64) fakeserver.Entry {
	return fakeserver.Entry{Kind: fakeserver.KindDial, Attempt: n, At: s(at)}
}
func refuse(n int, at float64) fakeserver.Entry {
	return fakeserver.Entry{Kind: fakeserver.KindRefuse, Attempt: n, At: s(at), Status: 503}
}
func open(n int, at float64) fakeserver.Entry {
	return fakeserver.Entry{Kind: fakeserver.KindOpen, Attempt: n, At: s(at)}
}
func closed(n int, at float64, code profile.StatusCode, by profile.Side) fakeserver.Entry {
	return fakeserver.Entry{Kind: fakeserver.KindClose, Attempt: n, At: s(at), Code: code, By: by}
}

func TestQueueScheduleIsJudgedExactlyAndGivingUpIsRequired(t *testing.T) {
	p := profile.QueueProfile()
	es := []fakeserver.Entry{dial(1, 0), refuse(1, 0)}
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
	es := []fakeserver.Entry{dial(1, 0), refuse(1, 0)}
	at := 0.0
	for i := range 8 {
		at += 3.5
		es = append(es, dial(i+2, at), refuse(i+2, at))
	}
	got := run(p, 0, es...)
	if !strings.Contains(got[6], "(failure 7): ok") || !strings.Contains(got[7], "(failure 8): WRONG: the profile waits [3m12s, 3m13.999999999s]") {
		t.Fatalf("verdicts %q", got)
	}
	// 1 ms late against an exact window: wrong without tolerance, ok with it.
	late := []fakeserver.Entry{dial(1, 0), refuse(1, 0), dial(2, 1.001)}
	if got := run(profile.QueueProfile(), 0, late...); !strings.Contains(got[0], "WRONG") {
		t.Fatalf("without tolerance: %q", got)
	}
	if got := run(profile.QueueProfile(), 5*time.Millisecond, late...); !strings.Contains(got[0], "ok, within [995ms, 1.005s]") {
		t.Fatalf("with tolerance: %q", got)
	}
}

func TestOpenResetsAndPingTimeoutCountsAsFirstFailure(t *testing.T) {
	p := profile.MattermostProfile()
	es := []fakeserver.Entry{dial(1, 0), refuse(1, 0)}
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
	es := []fakeserver.Entry{dial(1, 0), {Kind: fakeserver.KindStall, Attempt: 1}, dial(2, 14)}
	got := run(profile.MattermostProfile(), 0, es...)
	if len(got) != 1 || !strings.Contains(got[0], "not judged: the previous handshake stalled") {
		t.Fatalf("%q", got)
	}
}
