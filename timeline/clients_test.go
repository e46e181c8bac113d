package timeline_test

import (
	"strings"
	"testing"

	"github.com/wschaos/wschaos/profile"
	"github.com/wschaos/wschaos/timeline"
	"github.com/wschaos/wschaos/transcript"
)

// runClients feeds entries to a Clients and returns its verdicts and
// warnings as text.
func runClients(p *profile.Profile, es ...transcript.Entry) (verdicts, warnings []string) {
	c := timeline.NewClients(p)
	for _, e := range es {
		v, ok, warn := c.See(e)
		if warn != "" {
			warnings = append(warnings, warn)
		}
		if ok {
			verdicts = append(verdicts, v.String())
		}
	}
	return verdicts, warnings
}

func dialURL(n int, at float64, url string) transcript.Entry {
	e := dial(n, at)
	e.URL = url
	return e
}

func openSession(n int, at float64, session string) transcript.Entry {
	e := open(n, at)
	e.Session = session
	return e
}

// Two clients, each with its own ?client=: one refused and retrying after
// 1 s, the other connecting between; each is judged on its own schedule.
// One judge for both took the second client's dial for a reconnect 278 ms
// after the first's failure.
func TestClientsAreToldApartByTheClientParameter(t *testing.T) {
	p := profile.QueueProfile()
	got, warns := runClients(p,
		dialURL(1, 0, "/ws?client=a"), refuse(1, 0),
		dialURL(2, 0.278, "/ws?client=b"), open(2, 0.278),
		dialURL(3, 1, "/ws?client=a"), refuse(3, 1),
		dialURL(4, 3, "/ws?client=a"))
	if len(warns) != 0 {
		t.Errorf("warnings %q", warns)
	}
	want := []string{"a: reconnect #3 after 1s (failure 1): ok", "a: reconnect #4 after 2s (failure 2): ok"}
	if len(got) != len(want) {
		t.Fatalf("verdicts %q, want %q", got, want)
	}
	for i := range want {
		if !strings.HasPrefix(got[i], want[i]) {
			t.Errorf("verdict %d = %q, want %q", i+1, got[i], want[i])
		}
	}
}

// Mattermost's connects carry the connection id the hello gave: a second
// tab's first connect (no id yet) is a new client, and each tab's
// reconnect is judged against its own failures.
func TestClientsAreToldApartByTheConnectionID(t *testing.T) {
	p := profile.MattermostProfile()
	got, warns := runClients(p,
		dialURL(1, 0, "/ws?connection_id=&sequence_number=0"), openSession(1, 0, "conn-1"),
		dialURL(2, 0.5, "/ws?connection_id=&sequence_number=0"), openSession(2, 0.5, "conn-2"),
		closed(1, 10, 1001, profile.Server),
		closed(2, 10.1, 1001, profile.Server),
		dialURL(3, 10.278, "/ws?connection_id=conn-2&sequence_number=3"), // tab 2 too soon: its own fault, not a reconnect of tab 1
		dialURL(4, 13.5, "/ws?connection_id=conn-1&sequence_number=3"))
	if len(warns) != 0 {
		t.Errorf("warnings %q", warns)
	}
	if len(got) != 2 || !strings.HasPrefix(got[0], "client of #2: reconnect #3 after 178ms (failure 1): WRONG") ||
		!strings.HasPrefix(got[1], "client of #1: reconnect #4 after 3.5s (failure 1): ok") {
		t.Fatalf("verdicts %q", got)
	}
}

// With neither a ?client= nor a connection id, a dial while another
// attempt is up warns once, and no later wait is judged: a StrictMode
// double mount must not read as a wrong reconnect.
func TestClientsWarnAtTheFirstOverlapAndStopJudging(t *testing.T) {
	p := profile.QueueProfile()
	got, warns := runClients(p,
		dial(1, 0), open(1, 0),
		dial(2, 0.001), open(2, 0.001), // the second mount
		closed(1, 0.002, 1000, profile.Client),
		dial(3, 0.280), refuse(3, 0.280),
		dial(4, 1.280), open(4, 1.280), dial(5, 1.3))
	if len(warns) != 1 || !strings.Contains(warns[0], "attempt #2 began while #1 is still up") || !strings.Contains(warns[0], "?client=NAME") {
		t.Fatalf("warnings %q", warns)
	}
	for _, v := range got {
		if !strings.Contains(v, "not judged: several clients at once") {
			t.Errorf("verdict %q: judged after the overlap", v)
		}
	}
	if len(got) == 0 {
		t.Error("no verdict at all: the reconnects should be shown as not judged")
	}
}

// One client alone, reconnecting in turn, never warns.
func TestOneClientNeverWarns(t *testing.T) {
	p := profile.QueueProfile()
	got, warns := runClients(p, dial(1, 0), open(1, 0), closed(1, 5, 1001, profile.Server), dial(2, 6), refuse(2, 6), dial(3, 8))
	if len(warns) != 0 || len(got) != 2 || !strings.Contains(got[0], "ok") || !strings.Contains(got[1], "ok") || strings.Contains(got[0], ":  reconnect") {
		t.Fatalf("verdicts %q, warnings %q", got, warns)
	}
	if strings.HasPrefix(got[0], "client") {
		t.Errorf("a lone client is named: %q", got[0])
	}
}

// A component unmounted and mounted again closes on purpose (1000 for
// queue) and dials at once: a fresh start, not a reconnect 278 ms after a
// failure.
func TestAClientThatClosedOnPurposeStartsAfresh(t *testing.T) {
	p := profile.QueueProfile()
	got, warns := runClients(p,
		dial(1, 0), open(1, 0), closed(1, 0.001, 1000, profile.Client),
		dial(2, 0.279), open(2, 0.279), closed(2, 5, 1001, profile.Server), dial(3, 6))
	if len(warns) != 0 || len(got) != 1 || !strings.HasPrefix(got[0], "reconnect #3 after 1s (failure 1): ok") {
		t.Fatalf("verdicts %q, warnings %q", got, warns)
	}
}

// Two clients with nothing to tell them apart: the second's first dial,
// just after the first was refused, reads as a reconnect far too soon.
// Once their attempts overlap, that verdict is in doubt.
func TestAWrongVerdictBeforeTheOverlapIsInDoubt(t *testing.T) {
	c := timeline.NewClients(profile.QueueProfile())
	var wrong int
	for _, e := range []transcript.Entry{dial(1, 0), refuse(1, 0), dial(2, 0.266), open(2, 0.266)} {
		if v, ok, _ := c.See(e); ok && v.Wrong() {
			wrong++
		}
	}
	if wrong != 1 || c.InDoubt() != 0 {
		t.Fatalf("%d wrong, %d in doubt before the overlap; want 1 and 0", wrong, c.InDoubt())
	}
	c.See(dial(3, 1.018)) // the first client's reconnect, while the second is up
	if c.InDoubt() != 1 {
		t.Errorf("%d in doubt after the overlap, want 1", c.InDoubt())
	}
}
