package conform

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/wschaos/wschaos/backoff"
	"github.com/wschaos/wschaos/internal/flaw"
	"github.com/wschaos/wschaos/profile"
)

// The test binary doubles as an adapter: with WSCHAOS_TEST_ADAPTER set it
// serves the reference client (with the flaw it names) on stdin/stdout.
func TestMain(m *testing.M) {
	if mode := os.Getenv("WSCHAOS_TEST_ADAPTER"); mode != "" {
		os.Exit(serveTestAdapter(mode))
	}
	os.Exit(m.Run())
}

func serveTestAdapter(mode string) int {
	var f Factory
	switch mode {
	case "reference":
		f = Reference()
	case "no-reset":
		f = referenceWith(flaw.Set{NoResetOnOpen: true})
	case "no-pong-check":
		f = referenceWith(flaw.Set{NoPongCheck: true})
	case "sends-overtake":
		f = referenceWith(flaw.Set{SendsOvertakeQueue: true})
	case "constant-backoff":
		f = changed(func(p *profile.Profile) {
			p.Backoff = backoff.Limit{Policy: backoff.Exponential{Base: p.Backoff.(backoff.Limit).Policy.(backoff.Exponential).Base, Factor: 1}, Attempts: 5}
		})
	case "no-jitter": // whatever jitter the profile has
		f = changed(func(p *profile.Profile) {
			l := p.Backoff.(backoff.Limit)
			e := l.Policy.(backoff.Exponential)
			e.Jitter, e.Ratio = backoff.JitterNone, 0
			l.Policy = e
			p.Backoff = l
		})
	case "never-gives-up":
		f = changed(func(p *profile.Profile) { p.Backoff = p.Backoff.(backoff.Limit).Policy })
	case "garbage":
		fmt.Println(`{"event":"ready","protocol":2,"client":"garbage"}`)
		fmt.Println(`this is not JSON`)
		time.Sleep(time.Second)
		return 0
	case "old":
		fmt.Println(`{"event":"ready","protocol":0,"client":"old"}`)
		return 0
	case "dies":
		// The client dies of an uncaught error once it is connecting, as
		// reconnecting-websocket does under Node on its connect timeout.
		fmt.Println(`{"event":"ready","protocol":2,"client":"dies"}`)
		sc := bufio.NewScanner(os.Stdin)
		for sc.Scan() {
			var c struct{ ID int }
			json.Unmarshal(sc.Bytes(), &c)
			fmt.Printf("{\"reply\":%d,\"ok\":true}\n{\"event\":\"state\",\"state\":\"connecting\"}\n", c.ID)
			fmt.Fprintln(os.Stderr, "Error: WebSocket was closed before the connection was established")
			return 1
		}
		return 0
	case "noise-first":
		fmt.Println("Starting the client…") // a log line on stdout, not stderr
		time.Sleep(time.Minute)
		return 0
	case "log-first":
		fmt.Println(`{"event":"log","message":"starting"}`)
		time.Sleep(time.Minute)
		return 0
	case "long-line":
		fmt.Println(`{"event":"ready","protocol":2,"client":"long-line"}`)
		fmt.Printf("{\"event\":\"log\",\"message\":\"%s\"}\n", strings.Repeat("x", 5<<20))
		time.Sleep(time.Minute)
		return 0
	case "silent":
		time.Sleep(time.Minute)
		return 0
	case "calibrate":
		return serveCalibrating(0)
	case "calibrate-late":
		return serveCalibrating(calibrateLate)
	default:
		tw, ok := twins[strings.TrimPrefix(mode, "twin:")]
		if !ok || !strings.HasPrefix(mode, "twin:") {
			fmt.Fprintf(os.Stderr, "unknown test adapter %q\n", mode)
			return 2
		}
		f = tw.Make // twin:NAME, any twin of the registry
	}
	if err := ServeAdapter(os.Stdin, os.Stdout, "reference via adapter ("+mode+")", f); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}

// testAdapter runs this test binary as an adapter of the given mode.
func testAdapter(t *testing.T, mode string) *Adapter {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	return &Adapter{Command: fmt.Sprintf("exec %q", exe), Env: []string{"WSCHAOS_TEST_ADAPTER=" + mode}}
}

// adapterScale keeps real-time runs short; the reset scenario widens
// itself so the tolerances still tell a reset from none.
const adapterScale = 0.05

func realConfig(p *profile.Profile, only ...string) Config {
	return Config{Profile: p, Scale: adapterScale, Tolerance: DefaultTolerance, Seed: 1, Only: only}
}

// The reference client passes every scenario of both profiles through an
// adapter process on the real clock, within the default tolerances.
func TestReferencePassesThroughAnAdapter(t *testing.T) {
	if testing.Short() {
		t.Skip("real time")
	}
	t.Parallel()
	for _, name := range profile.Names() {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			rs, err := Run(ctx(t), realConfig(profile.ByName(name)), testAdapter(t, "reference").Factory())
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range rs {
				if !r.Passed {
					t.Errorf("%s: %s\nstderr: %s\n%s", r.Scenario, strings.Join(r.Failures, "\n"), r.Stderr, r.Transcript)
				}
				if r.Client != "reference via adapter (reference)" {
					t.Errorf("%s: client named %q", r.Scenario, r.Client)
				}
			}
		})
	}
}

// Real-time checks still catch timing bugs through an adapter.
func TestAdapterTwinsFail(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("real time")
	}
	for _, tc := range []struct{ mode, scenario, want string }{
		// Either the reconnect comes, too late, or the client gives up
		// before it (its count went past the limit).
		{"no-reset", "reset-on-open", "(after failure 1; the profile waits 50ms|`await open 2`: FAIL)"},
		{"no-pong-check", "dead-link", "`await dial 2`: FAIL|reconnected .* after the link went dark"},
		{"sends-overtake", "queue-order", `want \[queued-1 queued-2 queued-3 after-open\]`},
		{"constant-backoff", "backoff", "after failure [2-5]; the profile waits"},
		{"never-gives-up", "backoff", "giving up after 6 failures: the client still had not reported it: waited longer than the profile allows \\(its longest wait here, .*, checked up to .*\\): still none more"},
	} {
		t.Run(tc.mode, func(t *testing.T) {
			t.Parallel()
			rs, err := Run(ctx(t), realConfig(profile.QueueProfile(), tc.scenario), testAdapter(t, tc.mode).Factory())
			if err != nil {
				t.Fatal(err)
			}
			if rs[0].Passed {
				t.Fatalf("passed a client with %s\n%s", tc.mode, rs[0].Transcript)
			}
			if got := strings.Join(rs[0].Failures, "\n"); !regexp.MustCompile(tc.want).MatchString(got) {
				t.Errorf("want %q in the failures:\n%s", tc.want, got)
			}
			if rs[0].AdapterError != "" {
				t.Errorf("blamed the adapter: %s", rs[0].AdapterError)
			}
		})
	}
}

// An adapter that breaks the protocol is named as the culprit, with the
// line it wrote.
func TestBrokenAdaptersAreReported(t *testing.T) {
	for _, tc := range []struct{ mode, want string }{
		{"garbage", `output line 2 is not a JSON object`},
		{"old", "speaks protocol 0; this wschaos speaks 2"},
		{"long-line", "output line 2 is longer than 4 MiB, the protocol's limit"},
		{"dies", "the adapter exited in the middle of the scenario (exit status 1), before the harness ended it: the client or its adapter died"},
	} {
		t.Run(tc.mode, func(t *testing.T) {
			c, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			rs, err := Run(c, realConfig(profile.QueueProfile(), "close"), testAdapter(t, tc.mode).Factory())
			if err != nil {
				t.Fatal(err)
			}
			if rs[0].Passed || !strings.Contains(rs[0].AdapterError, tc.want) || !strings.Contains(rs[0].Reason, tc.want) {
				t.Errorf("want an adapter error with %q, got passed=%v adapter error %q, failures %q",
					tc.want, rs[0].Passed, rs[0].AdapterError, rs[0].Failures)
			}
		})
	}
}

// A run cancelled mid-scenario never passes: the running scenario is
// INTERRUPTED, whatever it saw, and every later one is listed NOT RUN.
func TestInterruptedRunNeverPasses(t *testing.T) {
	c, cancel := context.WithCancelCause(context.Background())
	defer cancel(nil)
	time.AfterFunc(700*time.Millisecond, func() { cancel(errors.New("interrupted by SIGTERM")) })
	p := profile.QueueProfile()
	rs, err := Run(c, realConfig(p), testAdapter(t, "reference").Factory())
	if err != nil {
		t.Fatal(err)
	}
	if len(rs) != len(Names(p)) {
		t.Fatalf("%d results, want one for each of the %d scenarios", len(rs), len(Names(p)))
	}
	seen := 0
	for _, r := range rs {
		switch o := r.Outcome(); {
		case seen == 0 && o == "PASS":
		case seen == 0 && o == "INTERRUPTED":
			seen++
			if r.Passed || r.AsExpected() || !strings.Contains(r.Reason, r.Scenario+" was interrupted by SIGTERM before it finished") {
				t.Errorf("%s: passed %v, reason %q", r.Scenario, r.Passed, r.Reason)
			}
		case seen == 1 && o == "NOT RUN":
			if r.Passed || r.AsExpected() || r.Reason != "not run: the run was interrupted by SIGTERM" {
				t.Errorf("%s: passed %v, reason %q", r.Scenario, r.Passed, r.Reason)
			}
		default:
			t.Errorf("%s: %s after %d interrupted: %s", r.Scenario, o, seen, r.Reason)
		}
	}
	if seen != 1 {
		t.Errorf("%d scenarios interrupted, want 1", seen)
	}
}

// A line before the ready event that is not it is named, with its number,
// as soon as it is read: not as a missing ready line once the start's
// patience is up.
func TestNotReadyLineNamedAtOnce(t *testing.T) {
	for _, tc := range []struct{ mode, want string }{
		{"noise-first", "output line 1 comes before the ready event and is not it: not a JSON object (invalid character 'S' looking for beginning of value): Starting the client…"},
		{"log-first", `output line 1 comes before the ready event and is not it: a "log" event: {"event":"log","message":"starting"}`},
	} {
		t.Run(tc.mode, func(t *testing.T) {
			t.Parallel()
			start := time.Now()
			rs, err := Run(ctx(t), realConfig(profile.QueueProfile(), "close"), testAdapter(t, tc.mode).Factory())
			if err != nil {
				t.Fatal(err)
			}
			if took := time.Since(start); took > readyPatience/2 {
				t.Errorf("took %v: the line was not named at once", took.Round(time.Millisecond))
			}
			if rs[0].AdapterError == "" || !strings.Contains(rs[0].Reason, tc.want) {
				t.Errorf("want an adapter error with %q, got adapter error %q, reason %q", tc.want, rs[0].AdapterError, rs[0].Reason)
			}
		})
	}
}
