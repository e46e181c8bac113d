package conform

import (
	"cmp"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/wschaos/wschaos/fakeserver"
	"github.com/wschaos/wschaos/profile"
	"github.com/wschaos/wschaos/transcript"
)

// The library's files about timing catch their twins through an adapter
// on the real clock too, where no output is compared, and their failures
// say which way the client went wrong; the reference client passes them.
func TestTimingFilesCatchTheirTwinsOnTheRealClock(t *testing.T) {
	if testing.Short() {
		t.Skip("real time")
	}
	t.Parallel()
	for _, tc := range []struct {
		file, twin, want string
		scale            float64
	}{
		// At 0.05 the early margin (50 ms) would swallow the whole first
		// wait: a redial at once shows at the default scale.
		{"dead-link-retry-window", "redials-at-once",
			`check delays profile.: FAIL: reconnect #2 waited \S+ after failure 1; the profile waits 250ms \(checked within \[200ms, 875ms\]\): it came too soon`, 0.25},
		{"two-sockets-bound", "dead-socket-left-open",
			`FAIL: 2 sockets open at once: #2 was dialed at \+\S+ while #1 was open, and #1 did not close within 200ms scaled by 0.05 \(checked within 515ms\) of that dial \(still open at the check, \S+ after\); want at most 1`, 0},
		{"stalled-handshake", "no-connect-timeout",
			"`await dial 2`: FAIL: 1 of 2 seen: waited longer than the profile allows", 0},
		{"no-dial-after-close-waiting", "retry-ignores-close", `check dials 1.: FAIL: dials: 2, want 1`, 0},
		{"no-dial-after-close-open", "close-reconnects", `check dials 1.: FAIL: dials: 2, want 1`, 0},
	} {
		t.Run(tc.file, func(t *testing.T) {
			t.Parallel()
			s, err := LoadFile(libraryDir() + "/" + tc.file + ".txt")
			if err != nil {
				t.Fatal(err)
			}
			for _, mode := range []string{"reference", "twin:" + tc.twin} {
				cfg := Config{Profile: cmp.Or(s.Profile(), profile.QueueProfile()), Scale: cmp.Or(tc.scale, adapterScale), Tolerance: DefaultTolerance, Seed: 1, Scenarios: []Scenario{s.Scenario()}}
				rs, err := Run(ctx(t), cfg, testAdapter(t, mode).Factory())
				if err != nil {
					t.Fatal(err)
				}
				got := strings.Join(rs[0].Failures, "\n")
				switch {
				case rs[0].AdapterError != "":
					t.Errorf("%s: blamed the adapter: %s", mode, rs[0].AdapterError)
				case mode == "reference" && !rs[0].Passed:
					t.Errorf("the reference client fails %s on the real clock:\n%s\n%s", tc.file, got, rs[0].Transcript)
				case mode != "reference" && !regexp.MustCompile(tc.want).MatchString(got):
					t.Errorf("%s: want %q in the failures:\n%s\n%s", mode, tc.want, got, rs[0].Transcript)
				}
			}
		})
	}
}

// Each wait that fails says it waited too long, for what, and since
// when: a wait never fails for being too short, and "not seen within"
// read as if the thing never came.
func TestOverdueSaysTheDirection(t *testing.T) {
	srv := fakeserver.NewServer(profile.QueueProfile())
	defer srv.Close()
	tt := &T{ctx: t.Context(), tol: DefaultTolerance, clock: clockwork.NewRealClock(), srv: srv}
	tt.t0 = tt.clock.Now()
	got := tt.overdue(2500*time.Millisecond, t.Context(), tt.stillNo("dial", tt.clock.Now()))
	want := regexp.MustCompile(`^waited longer than the profile allows \(up to 2.5s, checked up to 4.25s\): still no dial \S+ after the wait for it began$`)
	if !want.MatchString(got) {
		t.Errorf("got %q, want it to match %v", got, want)
	}
	got = tt.overdue(0, t.Context(), "still not seen")
	if want := "still not seen: it takes no time in the profile, and the harness gave it 2.5s"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

// A dial that reaches the server before the end of the attempt it
// follows waited 0: a client that redials at once races its own close.
// A dial after a stall the server never saw end has no wait.
func TestRetryDelaysCountsARedialBeforeTheCloseAsZero(t *testing.T) {
	ms := func(n int) time.Duration { return time.Duration(n) * time.Millisecond }
	es := []transcript.Entry{
		{Attempt: 1, Kind: transcript.KindDial, At: 0},
		{Attempt: 1, Kind: transcript.KindRefuse, At: ms(1)},
		{Attempt: 2, Kind: transcript.KindDial, At: ms(51)},
		{Attempt: 3, Kind: transcript.KindDial, At: ms(60)},
		{Attempt: 2, Kind: transcript.KindClose, At: ms(61)},
		{Attempt: 3, Kind: transcript.KindStall, At: ms(62)},
		{Attempt: 4, Kind: transcript.KindDial, At: ms(90)},
		{Attempt: 4, Kind: transcript.KindRefuse, At: ms(91)},
		{Attempt: 5, Kind: transcript.KindDial, At: ms(111)},
	}
	got := RetryDelays(es)
	want := []time.Duration{ms(50), 0, ms(20)}
	if !slices.Equal(got, want) {
		t.Fatalf("RetryDelays = %v, want %v", got, want)
	}
}

// check delays says which way a wait missed, and why one is missing.
func TestDelaysSayWhichWay(t *testing.T) {
	for _, tc := range []struct{ faults, steps, check, want string }{
		{"fault refuse 503\n----\n\n", "step\n----\n\nstep\n----\n\n", "delays 1s 1s",
			"FAIL: the delay after failure 2 was 2s: longer than the file's 1s"},
		{"fault refuse 503\n----\n\n", "step\n----\n\n", "delays 2s",
			"FAIL: the delay after failure 1 was 1s: shorter than the file's 2s"},
		{"fault refuse 503\n----\n\n", "", "delays 1s",
			"FAIL: 0 retries, want 1: no dial yet after failure 1"},
		{"", "", "delays 1s",
			"FAIL: 0 retries, want 1: only 0 failures so far, none to retry after"},
		{"fault refuse 503\n----\n\n", "step\n----\n\nstep\n----\n\n", "delays 1s",
			"FAIL: 2 retries, want 1: a dial more than the file allows"},
	} {
		t.Run(tc.check+" "+tc.want[:12], func(t *testing.T) {
			text := "# bug: b\n# profile: queue\n\n" + tc.faults + "start\n----\n\n" + tc.steps + "check " + tc.check + "\n----\n"
			s, err := ParseFile("f.txt", text)
			if err != nil {
				t.Fatal(err)
			}
			r := playFile(t, s, Reference(), false, false)
			if got := strings.Join(r.Failures, "\n"); !strings.Contains(got, tc.want) {
				t.Errorf("failures %q, want %q", got, tc.want)
			}
		})
	}
}

// A wrong argument to the timing checks fails the file with the check's
// own line and what it wants.
func TestTimingCheckArgumentsSayWhatTheyWant(t *testing.T) {
	for _, tc := range []struct{ check, want string }{
		{"open max one within 200ms", `"one": want at least 1 socket`},
		{"open max 1 after 200ms", "want open N, or open max N within D"},
		{"abandoned 1 within soon", `"soon": want a duration like 10s`},
		{"abandoned 1", "want a count and a bound"},
		{"cap 10s 20s", "want one window and how many waits hold it"},
		{"reported 4000 on 2-1", `"2-1": want a number or a range`},
		{"reported 999 on 2", `"999": want a close code from 1000 to 4999`},
	} {
		t.Run(tc.check, func(t *testing.T) {
			s, err := ParseFile("f.txt", "# bug: b\n# profile: mattermost\n\nstart\n----\n\ncheck "+tc.check+"\n----\n")
			if err != nil {
				t.Fatal(err)
			}
			r := playFile(t, s, Reference(), false, false)
			if got := strings.Join(r.Failures, "\n"); !strings.Contains(got, "f.txt:7") || !strings.Contains(got, tc.want) {
				t.Errorf("failures %q, want the line and %q", got, tc.want)
			}
		})
	}
}

// "check reported C on N" in a file for every profile, played under a
// profile that reports codes only in the close frame, blames the file: it
// should have required code-on-connect, and then it would have been
// skipped.
func TestReportedOnNamesTheMissingRequirement(t *testing.T) {
	s, err := ParseFile("f.txt", "# bug: b\n\nstart\n----\n\ncheck reported 1006 on 1\n----\n")
	if err != nil {
		t.Fatal(err)
	}
	cfg := Config{Profile: profile.QueueProfile(), Virtual: true, Scenarios: []Scenario{s.Scenario()}}
	rs, err := Run(ctx(t), cfg, Reference())
	if err != nil {
		t.Fatal(err)
	}
	want := "profile queue reports close codes in the close frame, not on the connect URL: the file must require code-on-connect"
	if got := strings.Join(rs[0].Failures, "\n"); !strings.Contains(got, "f.txt:6") || !strings.Contains(got, want) {
		t.Errorf("failures %q, want the line and %q", got, want)
	}
}

// A judged wait says which way it missed its window.
func TestWaitSaysWhichWay(t *testing.T) {
	for _, tc := range []struct {
		waited time.Duration
		want   string
	}{
		{0, "reconnect #2 waited 0s after failure 1; the profile waits 1s (checked within [950ms, 2s]): it came too soon"},
		{3 * time.Second, "reconnect #2 waited 3s after failure 1; the profile waits 1s (checked within [950ms, 2s]): it waited too long"},
		{time.Second, "reconnect #2 waited 1s after failure 1; the profile waits 1s (checked within [950ms, 2s])"},
	} {
		w := Wait{Attempt: 2, Failure: 1, Waited: tc.waited, Min: time.Second, Max: time.Second,
			Lo: 950 * time.Millisecond, Hi: 2 * time.Second}
		if got := w.describe(); got != tc.want {
			t.Errorf("waited %v: %q, want %q", tc.waited, got, tc.want)
		}
	}
}

// A command whose output holds no line of a kind waited for (a fault's
// notes) returns at once; the next is bounded from the run's start too, by
// the time the file gives its output, so that with calibrated margins (an
// additive late margin, no ratio) the file does not fall behind the
// client: here the dead link is noticed 60 s (scaled) after the start, a
// span no single command's bound covers.
func TestFileKeepsPaceWithAdditiveMargins(t *testing.T) {
	if testing.Short() {
		t.Skip("real time")
	}
	t.Parallel()
	s, err := LoadFile(libraryDir() + "/two-sockets-bound.txt")
	if err != nil {
		t.Fatal(err)
	}
	cfg := Config{Profile: cmp.Or(s.Profile(), profile.QueueProfile()), Scale: 0.2, Tolerance: Tolerance{Early: 20 * time.Millisecond, Late: 500 * time.Millisecond},
		Seed: 1, Scenarios: []Scenario{s.Scenario()}}
	rs, err := Run(ctx(t), cfg, testAdapter(t, "reference").Factory())
	if err != nil {
		t.Fatal(err)
	}
	if !rs[0].Passed {
		t.Errorf("the reference client fails two-sockets-bound with additive margins:\n%s\n%s", strings.Join(rs[0].Failures, "\n"), rs[0].Transcript)
	}
}

// "abandoned 1 within profile" reads the profile's connect timeout; a
// profile without one is the file's error, said with its line.
func TestAbandonedWithinProfileNeedsATimeout(t *testing.T) {
	s, err := ParseFile("f.txt", "# bug: b\n# profile: phoenix\n\nstart\n----\n\ncheck abandoned 1 within profile\n----\n")
	if err != nil {
		t.Fatal(err)
	}
	r := playFile(t, s, Reference(), false, false)
	if got := strings.Join(r.Failures, "\n"); !strings.Contains(got, "f.txt:7") || !strings.Contains(got, "profile phoenix has no connect timeout") {
		t.Errorf("failures %q, want the line and the missing timeout", got)
	}
}

// On the real clock the uptime rule is judged with the margins: a wait
// after the reset that came late by load passes, as the delays check
// would pass it, and one that kept the grown count fails; the wait after
// a short connection that came back to the first fails by the early
// margin alone.
func TestUptimeResetOnTheRealClockTakesTheMargins(t *testing.T) {
	p, err := profile.Resolve("../examples/profiles/queue-policy.yaml") // 1, 2, 4 s; reset after 5 s up
	if err != nil {
		t.Fatal(err)
	}
	ms := func(n int) time.Duration { return time.Duration(n) * time.Millisecond }
	// At scale 1: two refusals (waits 1 s, 2 s), a short open (then 4 s),
	// an open up 5 s, then the wait after it.
	play := func(short, long time.Duration) string {
		srv := fakeserver.NewServer(p)
		defer srv.Close()
		at := time.Duration(0)
		es := []transcript.Entry{
			{Attempt: 1, Kind: transcript.KindDial, At: at}, {Attempt: 1, Kind: transcript.KindRefuse, At: at},
		}
		at += ms(1000)
		es = append(es, transcript.Entry{Attempt: 2, Kind: transcript.KindDial, At: at}, transcript.Entry{Attempt: 2, Kind: transcript.KindRefuse, At: at})
		at += ms(2000)
		es = append(es, transcript.Entry{Attempt: 3, Kind: transcript.KindDial, At: at}, transcript.Entry{Attempt: 3, Kind: transcript.KindOpen, At: at},
			transcript.Entry{Attempt: 3, Kind: transcript.KindClose, At: at + ms(10)})
		at += ms(10) + short
		es = append(es, transcript.Entry{Attempt: 4, Kind: transcript.KindDial, At: at}, transcript.Entry{Attempt: 4, Kind: transcript.KindOpen, At: at},
			transcript.Entry{Attempt: 4, Kind: transcript.KindClose, At: at + ms(5000)})
		at += ms(5000) + long
		es = append(es, transcript.Entry{Attempt: 5, Kind: transcript.KindDial, At: at}, transcript.Entry{Attempt: 5, Kind: transcript.KindOpen, At: at})
		srv.Transcript().Add(es...)
		tt := &T{ctx: t.Context(), p: p, scale: 1, tol: Tolerance{Early: ms(15), Late: ms(1500)}, clock: clockwork.NewRealClock(), srv: srv}
		got, err := checkUptimeReset(&player{t: tt}, []string{"profile"})
		if err != nil {
			t.Fatal(err)
		}
		return got
	}
	if got := play(ms(4000), ms(2800)); got != "ok" {
		t.Errorf("the first wait again, 1.8 s late by load: past the halfway 2.5 s, inside it widened by the 1.5 s margin: %s", got)
	}
	if got := play(ms(4000), ms(8000)); !strings.Contains(got, "FAIL: the wait after a connection that stayed up 5s was 8s") {
		t.Errorf("a wait that kept the grown count: %s", got)
	}
	if got := play(ms(1000), ms(1000)); !strings.Contains(got, "FAIL: the wait after a connection that closed at once was 1s") {
		t.Errorf("a count reset by a short connection: %s", got)
	}
}
