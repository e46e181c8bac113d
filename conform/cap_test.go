package conform

import (
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/wschaos/wschaos/backoff"
	"github.com/wschaos/wschaos/profile"
)

// capFile refuses every attempt until the profile's cap must have held,
// then checks it: the library's cap-held.txt, without its outputs.
const capFile = "# bug: the cap\n# requires: backoff-cap\n# seed: 1\n\nfault refuse 503\n----\n\nstart\n----\n\nawait retries cap\n----\n\ncheck cap profile\n----\n"

// cappedQueue is the queue profile with a 4 s cap (1, 2, 4, 4, 4 s, as
// queue-policy.yaml): the cap reached at failure 3.
func cappedQueue() *profile.Profile {
	p := profile.QueueProfile()
	p.Backoff = backoff.Limit{Policy: backoff.Exponential{Base: time.Second, Factor: 2, Max: 4 * time.Second}, Attempts: 5}
	return p
}

// stepsTwin is the reference client waiting ds, the last repeated, where
// the server plays the run's profile.
func stepsTwin(ds ...time.Duration) Factory {
	return misconfigured(fmt.Sprintf("waits %v", ds), func(p *profile.Profile) { p.Backoff = backoff.Steps{Delays: ds} }).Make
}

func playUnder(t *testing.T, text string, p *profile.Profile, f Factory) Result {
	t.Helper()
	s, err := ParseFile("f.txt", text)
	if err != nil {
		t.Fatal(err)
	}
	rs, err := Run(ctx(t), Config{Profile: p, Virtual: true, Seed: 1, Scenarios: []Scenario{s.Scenario()}}, f)
	if err != nil {
		t.Fatal(err)
	}
	return rs[0]
}

// "check cap profile" passes a client that reaches the cap where the
// profile does and holds it; it fails one that passes it, one that never
// reaches it, and one that holds it once and falls back, each saying which
// wait and which way.
func TestCheckCapProfile(t *testing.T) {
	s := time.Second
	for _, tc := range []struct {
		name string
		p    *profile.Profile
		f    Factory
		want string
	}{
		{"correct", cappedQueue(), Reference(), ""},
		{"correct mattermost", profile.ByName("mattermost"), Reference(), ""},
		{"correct reconnecting-websocket", profile.ByName("reconnecting-websocket"), Reference(), ""},
		{"passes it", cappedQueue(), twins["no-cap"].Make,
			"check cap profile`: FAIL: the wait after failure 4 was 8s: past the profile's cap, 4s from failure 3 on"},
		{"passes it, mattermost", profile.ByName("mattermost"), twins["no-cap"].Make,
			"check cap profile`: FAIL: the wait after failure 11 was 6m3"},
		{"never reaches it", cappedQueue(), stepsTwin(s, 2*s, 3*s),
			"check cap profile`: FAIL: the wait after failure 3 was 3s: short of the profile's cap, 4s from failure 3 on"},
		{"never reaches it, mattermost", profile.ByName("mattermost"), twins["cap-240s"].Make,
			"check cap profile`: FAIL: the wait after failure 10 was 4m0"},
		{"holds it once", cappedQueue(), stepsTwin(s, 2*s, 4*s, 2*s),
			"check cap profile`: FAIL: the wait after failure 4 was 2s: short of the profile's cap, 4s from failure 3 on"},
		{"goes past it after once", cappedQueue(), stepsTwin(s, 2*s, 4*s, 8*s),
			"check cap profile`: FAIL: the wait after failure 4 was 8s: past the profile's cap, 4s from failure 3 on"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := playUnder(t, capFile, tc.p, tc.f)
			got := strings.Join(r.Failures, "\n")
			switch {
			case tc.want == "" && !r.Passed:
				t.Errorf("the correct client fails:\n%s", got)
			case tc.want != "" && !strings.Contains(got, tc.want):
				t.Errorf("failures %q, want %q", got, tc.want)
			}
		})
	}
}

// One wait at the cap is not the cap held: the check wants two.
func TestCheckCapProfileWantsTwoWaits(t *testing.T) {
	once := "# bug: the cap\n# seed: 1\n\nfault refuse 503\n----\n\nstart\n----\n\nawait dial 4\n----\n\ncheck cap profile\n----\n"
	r := playUnder(t, once, cappedQueue(), Reference())
	want := "check cap profile`: FAIL: 1 waits seen at the profile's cap, 4s from failure 3 on: want 2, the cap reached and held"
	if got := strings.Join(r.Failures, "\n"); !strings.Contains(got, want) {
		t.Errorf("failures %q, want %q", got, want)
	}
}

// backoff-cap holds for a profile whose waits reach a declared maximum
// and hold it for two waits before it gives up, and says why not for
// every other; its cap is the window at the maximum, from the latest
// failure any client of the profile reaches it.
func TestBackoffCapRequirement(t *testing.T) {
	with := func(b backoff.Policy) *profile.Profile {
		p := profile.QueueProfile()
		p.Backoff = b
		return p
	}
	exp := backoff.Exponential{Base: time.Second, Factor: 2, Max: 4 * time.Second}
	for _, tc := range []struct {
		name string
		p    *profile.Profile
		at   int
		w    backoff.Window
		why  string
	}{
		{"mattermost", profile.ByName("mattermost"), 10, backoff.Window{Min: 300 * time.Second, Max: 302*time.Second - 1}, ""},
		// A 1 s base reaches 10 s at failure 10, a 5 s one at failure 4.
		{"reconnecting-websocket", profile.ByName("reconnecting-websocket"), 10, backoff.Window{Min: 10 * time.Second, Max: 10 * time.Second}, ""},
		{"limited", cappedQueue(), 3, backoff.Window{Min: 4 * time.Second, Max: 4 * time.Second}, ""},
		{"pointer", with(&exp), 3, backoff.Window{Min: 4 * time.Second, Max: 4 * time.Second}, ""},
		{"ratio jitter", with(backoff.GRPCDefaults), 12, backoff.Window{Min: 96 * time.Second, Max: 144*time.Second - 1}, ""},
		{"queue", profile.QueueProfile(), 0, backoff.Window{}, "profile queue's backoff (exponential 1s ×2) has no cap"},
		{"phoenix", profile.ByName("phoenix"), 0, backoff.Window{}, "profile phoenix's backoff (steps) has no cap"},
		{"gives up first", with(backoff.Limit{Policy: exp, Attempts: 3}), 0, backoff.Window{},
			"profile queue gives up after 3 failures, before its waits hold the cap (4s from failure 3) for 2"},
		{"never grows", with(backoff.Exponential{Base: time.Second, Factor: 1, Max: 4 * time.Second}), 0, backoff.Window{},
			"profile queue's backoff (exponential 1s ×1 capped at 4s) never grows to its cap"},
		{"decorrelated", with(backoff.Decorrelated{Base: time.Second, Cap: 4 * time.Second}), 0, backoff.Window{},
			"profile queue's backoff (decorrelated jitter) draws each wait anew from its base"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w, at, why := backoffCap(tc.p)
			if !strings.Contains(why, tc.why) || (tc.why == "") != (why == "") || at != tc.at || w != tc.w {
				t.Errorf("backoffCap = %v, %d, %q; want %v, %d, %q", w, at, why, tc.w, tc.at, tc.why)
			}
			if got := requirements["backoff-cap"](tc.p); got != why {
				t.Errorf("requirement says %q, backoffCap %q", got, why)
			}
		})
	}
	f, err := ParseFile("f.txt", capFile)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, p := range f.Profiles() {
		names = append(names, p.Name)
	}
	if got, want := strings.Join(names, " "), "mattermost reconnecting-websocket"; got != want {
		t.Errorf("a file requiring backoff-cap is played under %q, want %q", got, want)
	}
	if got, want := f.notFor(profile.QueueProfile()), "requires backoff-cap: profile queue's backoff (exponential 1s ×2) has no cap"; got != want {
		t.Errorf("under queue: %q, want %q", got, want)
	}
}

// "await retries cap" follows the waits at the cap until a schedule
// that kept growing past it would wait longer than the tolerance lets the
// cap's window stretch: on a loaded machine, whose margins are wide, a
// client without a cap still shows it.
func TestCapWatchOutgrowsTheTolerance(t *testing.T) {
	scaled := func(p *profile.Profile, f float64) *profile.Profile {
		sp, err := p.Scaled(f)
		if err != nil {
			t.Fatal(err)
		}
		return sp
	}
	loaded := Tolerance{Early: 20 * time.Millisecond, Late: 2150 * time.Millisecond} // a 1 s cap checked up to 3.15 s
	for _, tc := range []struct {
		name string
		p    *profile.Profile
		tol  Tolerance
		want int
	}{
		{"capped queue, virtual", cappedQueue(), Tolerance{}, 4},
		{"mattermost, virtual", profile.ByName("mattermost"), Tolerance{}, 11},
		{"reconnecting-websocket, virtual", profile.ByName("reconnecting-websocket"), Tolerance{}, 11},
		{"capped queue at 0.25, quiet", scaled(cappedQueue(), 0.25), Tolerance{Early: 12 * time.Millisecond, Late: 500 * time.Millisecond}, 4},
		{"capped queue at 0.25, loaded", scaled(cappedQueue(), 0.25), loaded, 5}, // 2 s at failure 4 would pass, 4 s at 5 does not
		{"capped queue, beyond any wait", scaled(cappedQueue(), 0.25), Tolerance{Late: time.Hour}, 5},
		{"mattermost at 0.1, fixed defaults", scaled(profile.ByName("mattermost"), 0.1), DefaultTolerance, 13},
	} {
		if got := capWatch(tc.p, tc.tol); got != tc.want {
			t.Errorf("%s: capWatch = %d, want %d", tc.name, got, tc.want)
		}
	}
}

// On the real clock a cap further away than capRealBudget at the run's
// scale skips the file, naming the scale that runs it: mattermost's cap
// comes after 1078 s of its longest waits.
func TestCapTooFarOnTheRealClock(t *testing.T) {
	mm := profile.ByName("mattermost")
	for _, tc := range []struct {
		scale float64
		want  string
	}{
		{0.25, "profile mattermost's waits reach its cap ([1m15s, 1m15.5s] from failure 10 on) and hold it through failure 11 after 4m29.5s at scale 0.25, longer than the 45s a file waits for it on the real clock: run it at --scale 0.04 or less"},
		{0.04, ""},
	} {
		p, err := mm.Scaled(tc.scale)
		if err != nil {
			t.Fatal(err)
		}
		if got := capTooFar(p, tc.scale, capWatch(p, Tolerance{Late: 500 * time.Millisecond})); got != tc.want {
			t.Errorf("scale %v: %q, want %q", tc.scale, got, tc.want)
		}
	}
	rws, err := profile.ByName("reconnecting-websocket").Scaled(0.25)
	if err != nil {
		t.Fatal(err)
	}
	if got := capTooFar(rws, 0.25, capWatch(rws, DefaultTolerance)); got != "" {
		t.Errorf("reconnecting-websocket at 0.25: %q, want it within the budget", got)
	}
}

// "await retries cap" reads well when the file is parsed; under a profile
// without a cap it is the file's error, with its line: the file must
// require backoff-cap.
func TestAwaitRetriesCapNeedsACap(t *testing.T) {
	text := strings.Replace(capFile, "# requires: backoff-cap\n", "", 1)
	r := playUnder(t, text, profile.QueueProfile(), Reference())
	want := "f.txt:10: the scenario checks: the cap\n  `await retries cap`: await: profile queue's backoff (exponential 1s ×2) has no cap: the file must require backoff-cap"
	if got := strings.Join(r.Failures, "\n"); !strings.Contains(got, want) {
		t.Errorf("failures %q, want %q", got, want)
	}
}

// Through an adapter on the real clock the check judges the scaled cap,
// widened by the tolerance: the reference client passes cap-held.txt under
// reconnecting-websocket (whose adapter-side base is drawn per client) and
// a capped queue profile, and no-cap fails it saying which wait passed
// the cap. mattermost's cap, 1078 s of its waits away, skips the file at
// the default scale 0.25, naming the scale that runs it.
func TestCapHeldOnTheRealClock(t *testing.T) {
	if testing.Short() {
		t.Skip("real time")
	}
	t.Parallel()
	s, err := LoadFile(libraryDir() + "/cap-held.txt")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name  string
		p     *profile.Profile
		mode  string
		scale float64
		want  string
	}{
		{"reconnecting-websocket", profile.ByName("reconnecting-websocket"), "reference", 0.05, ""},
		{"capped queue", cappedQueue(), "reference", 0.25, ""},
		{"capped queue, no-cap", cappedQueue(), "twin:no-cap", 0.25,
			`check cap profile.: FAIL: the wait after failure 4 was \S+: past the profile's cap, 1s from failure 3 on \(checked within \[\S+, \S+\]\)`},
		{"mattermost", profile.ByName("mattermost"), "reference", 0.25,
			`SKIP: profile mattermost's waits reach its cap \(\[1m15s, 1m15.5s\] from failure 10 on\) and hold it through failure \d+ after \S+ at scale 0.25, .*: run it at --scale 0\.\d+ or less`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			cfg := Config{Profile: tc.p, Scale: tc.scale, Tolerance: DefaultTolerance, Seed: 1, Scenarios: []Scenario{s.Scenario()}}
			rs, err := Run(ctx(t), cfg, testAdapter(t, tc.mode).Factory())
			if err != nil {
				t.Fatal(err)
			}
			r := rs[0]
			got := strings.Join(r.Failures, "\n")
			if r.Skipped != "" {
				got = "SKIP: " + r.Skipped
			}
			switch {
			case r.AdapterError != "":
				t.Errorf("blamed the adapter: %s", r.AdapterError)
			case tc.want == "" && (!r.Passed || r.Skipped != ""):
				t.Errorf("the reference client does not pass cap-held on the real clock: %s\n%s", got, r.Transcript)
			case tc.want != "" && !regexp.MustCompile(tc.want).MatchString(got):
				t.Errorf("want %q, got:\n%s\n%s", tc.want, got, r.Transcript)
			}
		})
	}
}
