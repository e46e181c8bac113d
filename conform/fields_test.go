package conform

import (
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/wschaos/wschaos/backoff"
	"github.com/wschaos/wschaos/internal/filecodec"
	"github.com/wschaos/wschaos/profile"
)

// fieldTwin is the reference client ignoring one profile field: its own
// copy of the profile has that field changed to what a client that never
// read it would do. It must fail a scenario of the profile it ignores.
type fieldTwin struct {
	ignore func(p *profile.Profile)
	// scenario must fail ("" for whichever the field breaks first, for
	// envelope keys without which nothing can be read), saying want.
	scenario, want string
}

// unproven are the file keys no client twin can be caught ignoring, and
// why: each is the server's, the checks', or a name.
var unproven = map[string]string{
	"name":                     "a name",
	"description":              "a description",
	"backoff.family":           "the family is the schedule: its parameters are proven one by one",
	"resume.buffer_size":       "the server's replay buffer",
	"replies":                  "the server answers every request; a client reads replies only as pongs, proven by heartbeat",
	"send_type":                "the type the checks send with; a client sends whatever type it is given",
	"ack_type":                 "the server's acknowledgement",
	"heartbeat.reset_failures": "with reset_after 0 the open already reset the count: resetting again before the close changes no wait",
	"resume.reset_failures":    "with reset_after 0 the open already reset the count: resetting again before the close changes no wait",
	"backoff.base_max":         "a draw made once per client: one client's waits cannot show it, only a herd of clients",
}

// unprovenIn says why a key of this profile cannot be proven, where the
// reason is the profile's: a key only the server reads in its mode, a
// rule with nothing to act on.
func unprovenIn(p *profile.Profile, path string) string {
	switch {
	case path == "heartbeat.interval" && p.Heartbeat.Mode == profile.HeartbeatServer:
		return "in mode server the interval is the server's ping period"
	case path == "heartbeat.mode" && !p.Heartbeat.Enabled():
		return "a client that pings where the profile has no heartbeat does no harm the server can see"
	case path == "close.report" && p.Heartbeat.Dead == "" && p.Resume == nil:
		return "the profile has no error close (no dead rule, no resume): there is no code to report"
	case path == "close.report" && p.Heartbeat.CloseCode == profile.StatusNoStatus && p.Resume == nil:
		return "the only error close (a dead link's) has no code: a frame and a query would both carry none"
	case path == "heartbeat.pong_type" && p.Heartbeat.Dead == profile.DeadSilence:
		return "under dead: silence any frame from the server proves the link: the client reads no pong type, the server's answer has it"
	case path == "heartbeat.dead" && p.Heartbeat.Dead == profile.DeadSilence && p.Heartbeat.Timeout == 2*p.Heartbeat.Interval:
		return "with every ping answered, silence for two intervals and a ping unanswered when the next is due declare a dead link at the same moments"
	case path == "backoff.reset_after" && p.ResetAfter == 0:
		return "0, every profile's default but one, is proven by reset-on-open"
	}
	return ""
}

// scenarioIn is the scenario that proves a key for this profile, where it
// differs by mode.
func scenarioIn(p *profile.Profile, tw fieldTwin, path string) string {
	if p.Heartbeat.Mode == profile.HeartbeatServer && (path == "heartbeat.ping_type" || path == "heartbeat.pong_type") {
		return "server-ping"
	}
	if p.Heartbeat.Dead == profile.DeadSilence && path == "heartbeat.timeout" {
		return "dead-link"
	}
	return tw.scenario
}

// setBackoff changes one parameter of the profile's family (inside a
// retry limit if there is one).
func setBackoff(field string, v any) func(p *profile.Profile) {
	return func(p *profile.Profile) {
		pol, limit := p.Backoff, 0
		if l, ok := pol.(backoff.Limit); ok {
			pol, limit = l.Policy, l.Attempts
		}
		rv := reflect.New(reflect.TypeOf(pol)).Elem()
		rv.Set(reflect.ValueOf(pol))
		f := rv.FieldByIndex(filecodec.Fields(rv.Type())[field].Index)
		f.Set(reflect.ValueOf(v).Convert(f.Type()))
		pol = rv.Interface().(backoff.Policy)
		if limit > 0 {
			pol = backoff.Limit{Policy: pol, Attempts: limit}
		}
		p.Backoff = pol
	}
}

var fieldTwins = map[string]fieldTwin{
	"envelope": {func(p *profile.Profile) { p.Codec = profile.JSONObject{Type: "kind", Payload: "body"} }, "", ""},

	"connect.timeout":     {func(p *profile.Profile) { p.Connect.Timeout = 0 }, "stalled-handshake", "`await dial 2`: FAIL"},
	"connect.subprotocol": {func(p *profile.Profile) { p.Connect.Subprotocol = "" }, "", ""},
	"connect.handshake":   {func(p *profile.Profile) { p.Connect.Handshake = nil }, "handshake", "handshake"},

	"backoff.base": {func(p *profile.Profile) {
		w, _ := p.Backoff.Window(1, 0)
		setBackoff("base", w.Min/10)(p)
		if _, drawn := filecodec.Fields(reflect.TypeOf(unlimited(p.Backoff)))["base_max"]; drawn {
			setBackoff("base_max", time.Duration(0))(p) // a tenth of the base, drawn from nothing
		}
	}, "backoff", "the profile waits"},
	"backoff.factor":    {setBackoff("factor", 1.0), "backoff", "the profile waits"},
	"backoff.max":       {setBackoff("max", time.Duration(0)), "backoff", "the profile waits"},
	"backoff.add_min":   {noAddedWait, "backoff", "the profile waits"},
	"backoff.add_max":   {noAddedWait, "backoff", "the profile waits"},
	"backoff.min":       {setBackoff("min", time.Duration(0)), "backoff", "the profile waits"},
	"backoff.max_fails": {setBackoff("max_fails", 0), "backoff", "the profile waits"},
	"backoff.jitter":    {setBackoff("jitter", time.Duration(0)), "backoff", "no jitter"},
	"backoff.delays":    {setBackoff("delays", []time.Duration{0}), "backoff", "the profile waits"},
	"backoff.retries": {func(p *profile.Profile) {
		if l, ok := p.Backoff.(backoff.Limit); ok {
			p.Backoff = l.Policy
		} else {
			p.Backoff = backoff.Limit{Policy: p.Backoff, Attempts: 2}
		}
	}, "backoff", "giving up|gave up"},
	"backoff.reset_after": {func(p *profile.Profile) { p.ResetAfter = 0 }, "reset-after-uptime", "resets the count only after"},

	"heartbeat.mode":      {func(p *profile.Profile) { p.Heartbeat = profile.Heartbeat{Mode: profile.HeartbeatNone} }, "", ""},
	"heartbeat.interval":  {func(p *profile.Profile) { p.Heartbeat.Interval *= 2 }, "heartbeat", "the profile pings every"},
	"heartbeat.on_open":   {func(p *profile.Profile) { p.Heartbeat.OnOpen = !p.Heartbeat.OnOpen }, "heartbeat", "ping"},
	"heartbeat.ping_type": {func(p *profile.Profile) { p.Heartbeat.PingType = "x-ping" }, "heartbeat", "ping"},
	"heartbeat.pong_type": {func(p *profile.Profile) { p.Heartbeat.PongType = "x-pong" }, "", ""},
	"heartbeat.dead": {func(p *profile.Profile) {
		hb := &p.Heartbeat
		if hb.Dead == profile.DeadNextPing { // judges by silence instead, half an interval of it
			hb.Dead, hb.Timeout = profile.DeadSilence, hb.Interval/2
			return
		}
		hb.Dead, hb.Timeout = profile.DeadNextPing, 0
	}, "heartbeat", "ping"},
	"heartbeat.timeout": {func(p *profile.Profile) {
		if p.Heartbeat.Dead == profile.DeadSilence { // the silence answered pings never make: a longer one is late
			p.Heartbeat.Timeout *= 2
			return
		}
		p.Heartbeat.Timeout /= 2
	}, "heartbeat", "ping|had not noticed|`await dial 2`: FAIL: 1 of 2 seen: waited longer than the profile allows"},
	"heartbeat.close_code": {func(p *profile.Profile) { p.Heartbeat.CloseCode = 4999 }, "dead-link", "the dead link was not closed with"},

	"close.code":   {func(p *profile.Profile) { p.Close.Code = otherCode(p.Close.Code) }, "close", "want a close frame with"},
	"close.report": {func(p *profile.Profile) { p.Close.Report = otherReport(p.Close.Report) }, "", "not closed with"},
	"close.query":  {func(p *profile.Profile) { p.Close.Query = "x_code" }, "seq-gap", "reported"},
	"close.fatal":  {func(p *profile.Profile) { p.Close.Fatal = nil }, "fatal-close", "`await state gave-up`: FAIL"},

	"queue.enabled": {func(p *profile.Profile) { p.Queue = profile.Queue{} }, "queue-order", "the server received"},
	"queue.limit":   {func(p *profile.Profile) { p.Queue.Limit, p.Queue.Full = 0, "" }, "queue-bound", "must refuse it"},
	"queue.full":    {func(p *profile.Profile) { p.Queue.Full = profile.QueueDropNewest }, "queue-bound", "must refuse it"},

	"resume.hello_type":     {func(p *profile.Profile) { p.Resume.HelloType = "x-hello" }, "", ""},
	"resume.id_field":       {func(p *profile.Profile) { p.Resume.IDField = "x_id" }, "resume", "the next event it expects"},
	"resume.id_param":       {func(p *profile.Profile) { p.Resume.IDParam = "x_id" }, "resume", "the next event it expects"},
	"resume.seq_param":      {func(p *profile.Profile) { p.Resume.SeqParam = "x_seq" }, "resume", "the next event it expects"},
	"resume.gap_close_code": {func(p *profile.Profile) { p.Resume.GapCloseCode = 4999 }, "seq-gap", "did not make the client close with"},

	"error_type": {func(p *profile.Profile) { p.ErrorType = "" }, "error-state", "the error state"},
}

// noAddedWait drops the random wait a family adds to each delay.
var noAddedWait = func(p *profile.Profile) {
	setBackoff("add_min", time.Duration(0))(p)
	setBackoff("add_max", time.Duration(0))(p)
}

// unlimited is a policy without its retry limit.
func unlimited(pol backoff.Policy) backoff.Policy {
	if l, ok := pol.(backoff.Limit); ok {
		return l.Policy
	}
	return pol
}

func otherCode(c profile.StatusCode) profile.StatusCode {
	if c == profile.StatusNormalClosure {
		return profile.StatusNoStatus
	}
	return profile.StatusNormalClosure
}

func otherReport(r profile.Report) profile.Report {
	if r == profile.ReportQuery {
		return profile.ReportFrame
	}
	return profile.ReportQuery
}

// paths lists a profile's file keys, as "section.key"; a section whose
// keys are proven together (the envelope, the handshake) is one path.
func paths(t *testing.T, p *profile.Profile) []string {
	m, err := profile.Encode(p)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, kv := range m {
		sub, ok := kv.Value.(filecodec.Map)
		if !ok || kv.Key == "envelope" {
			out = append(out, kv.Key)
			continue
		}
		for _, skv := range sub {
			if skv.Key == "handshake" {
				out = append(out, kv.Key+".handshake")
				continue
			}
			out = append(out, kv.Key+"."+skv.Key)
		}
	}
	return out
}

// Every field of every shipped profile is proven: the reference client
// that ignores it fails a scenario that names the behaviour, and the
// fields that cannot be proven so say why.
func TestEveryProfileFieldIsProven(t *testing.T) {
	for _, name := range profile.Names() {
		p := profile.ByName(name)
		for _, path := range paths(t, p) {
			if why := unproven[path]; why != "" || unprovenIn(p, path) != "" {
				continue
			}
			tw, ok := fieldTwins[path]
			if !ok {
				t.Errorf("%s: field %s has no twin proving a client that ignores it fails", name, path)
				continue
			}
			t.Run(name+"/"+path, func(t *testing.T) {
				t.Parallel()
				// One scenario at a time, until one fails saying what it
				// should: a field without a scenario of its own (the
				// envelope) breaks the first that talks, and the rest
				// would only fail the same way, slowly.
				scenario := scenarioIn(p, tw, path)
				names := Names(p)
				if scenario != "" {
					names = []string{scenario}
				}
				var failed []string
				for _, sc := range names {
					cfg := Config{Profile: profile.ByName(name), Virtual: true, Seed: 1, Only: []string{sc}}
					rs, err := Run(ctx(t), cfg, changed(tw.ignore))
					if err != nil {
						t.Fatal(err)
					}
					for _, r := range rs {
						if !r.Passed {
							failed = append(failed, fmt.Sprintf("%s: %s", r.Scenario, strings.Join(r.Failures, "; ")))
						}
					}
					if slices.ContainsFunc(failed, func(f string) bool { return says(f, tw.want) }) {
						break
					}
				}
				if len(failed) == 0 {
					t.Fatalf("a client ignoring %s passed every scenario%s", path, only(scenario))
				}
				if !slices.ContainsFunc(failed, func(f string) bool { return says(f, tw.want) }) {
					t.Errorf("a client ignoring %s failed, but no failure says %q:\n%s", path, tw.want, strings.Join(failed, "\n"))
				}
			})
		}
	}
}

// says reports whether a failure says want, or one of its "|" alternatives.
func says(failure, want string) bool {
	for _, w := range strings.Split(want, "|") {
		if strings.Contains(failure, w) {
			return true
		}
	}
	return false
}

func only(s string) string {
	if s == "" {
		return ""
	}
	return " (" + s + ")"
}
