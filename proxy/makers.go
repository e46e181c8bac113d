package proxy

import (
	"fmt"
	"strconv"
	"time"

	"github.com/wschaos/wschaos/chaos"
	"github.com/wschaos/wschaos/profile"
)

// faultMaker builds one named fault from its positional args, taking the
// options it knows out of sel; aim handles what is left.
type faultMaker func(args []string, sel map[string]string) (chaos.Fault, error)

// faultMakers are the scenario files' fault names, plus the proxy's own
// (bandwidth, cut-after). A fixed table, not a registry: nothing adds to it.
var faultMakers = map[string]faultMaker{
	"refuse": func(args []string, sel map[string]string) (chaos.Fault, error) {
		status, err := intArg(args, 0, "an HTTP status like 503")
		if err != nil {
			return nil, err
		}
		if status < 100 || status > 599 {
			return nil, specErr("args[0]", "%d is not an HTTP status", status)
		}
		if ra, ok := take(sel, "retry-after"); ok {
			d, err := parseDuration(ra)
			if err != nil {
				return nil, specErr("select.retry-after", "%q is not a duration like 30s", ra)
			}
			return chaos.RefuseRetryAfter(status, d), nil
		}
		return chaos.Refuse(status), nil
	},
	"stall": func(args []string, _ map[string]string) (chaos.Fault, error) {
		if len(args) == 0 || args[0] == "forever" {
			return chaos.Stall(-1), nil
		}
		d, err := durationArg(args, 0)
		return chaos.Stall(d), err
	},
	"reset-handshake": plain(chaos.ResetHandshake()),
	"accept-then-close": func(args []string, sel map[string]string) (chaos.Fault, error) {
		if len(args) > 0 && args[0] == "fin" {
			return chaos.AcceptThenClose(chaos.Cut{Kind: chaos.FIN}), nil
		}
		code, err := codeSel(sel, profile.StatusNormalClosure)
		return chaos.AcceptThenClose(chaos.Cut{Kind: chaos.CloseFrame, Code: code}), err
	},
	"close-after": func(args []string, sel map[string]string) (chaos.Fault, error) {
		d, err := durationArg(args, 0)
		if err != nil {
			return nil, err
		}
		code, err := codeSel(sel, profile.StatusGoingAway)
		reason, _ := take(sel, "reason")
		return chaos.CloseAfter(d, code, reason), err
	},
	"fin-after":             afterFault(chaos.FINAfter),
	"rst-after":             afterFault(chaos.RSTAfter),
	"black-hole-after":      afterFault(chaos.BlackHoleAfter),
	"new-session-on-resume": needsSessions,
	"drop":                  plain(chaos.Drop()),
	"duplicate":             plain(chaos.Duplicate()),
	"reorder":               plain(chaos.Reorder()),
	"swallow-pongs":         plain(chaos.SwallowPongs()),
	"delay":                 afterFault(func(d time.Duration) chaos.Fault { return chaos.Delay(d) }),
	"jitter":                afterFault(func(d time.Duration) chaos.Fault { return chaos.Jitter(d) }),
	"delay-pongs":           afterFault(func(d time.Duration) chaos.Fault { return chaos.DelayPongs(d) }),
	"seq-gap":               seqFault(func(n int64) chaos.Fault { return chaos.SeqGap(n) }),
	"seq-duplicate":         seqFault(func(n int64) chaos.Fault { return chaos.SeqDuplicate(n) }),
	"seq-swap":              seqFault(func(n int64) chaos.Fault { return chaos.SeqSwap(n) }),
	"new-hello-after":       needsSessions,
	"flood-before-pongs": func(args []string, _ map[string]string) (chaos.Fault, error) {
		n, err := intArg(args, 0, "a count")
		return chaos.FloodBeforePongs(n), err
	},
	"bandwidth": func(args []string, _ map[string]string) (chaos.Fault, error) {
		n, err := intArg(args, 0, "a rate in bytes per second")
		if err == nil && n < 1 {
			err = specErr("args[0]", "%d: want a positive rate in bytes per second", n)
		}
		if err != nil {
			return nil, err
		}
		return Bandwidth(int64(n)), nil
	},
	"cut-after": func(args []string, sel map[string]string) (chaos.Fault, error) {
		n, err := intArg(args, 0, "a frame count")
		if err == nil && n < 1 {
			err = specErr("args[0]", "%d: want a frame count from 1", n)
		}
		if err != nil {
			return nil, err
		}
		k, err := cutArg(args, 1, sel)
		if err != nil {
			return nil, err
		}
		return CutAfterFrames(n, k), nil
	},
}

// needsSessions refuses the faults that make the server start a new
// session: the proxy relays the upstream's sessions and cannot invent one.
func needsSessions([]string, map[string]string) (chaos.Fault, error) {
	return nil, specErr("fault", "needs a server that owns its sessions (the fake server); the proxy cannot make a new connection id")
}

// sides are the values of the dir selector.
var sides = map[string]profile.Side{"client": profile.Client, "server": profile.Server}

func plain(f chaos.Fault) faultMaker {
	return func([]string, map[string]string) (chaos.Fault, error) { return f, nil }
}

func afterFault[F chaos.Fault](mk func(time.Duration) F) faultMaker {
	return func(args []string, _ map[string]string) (chaos.Fault, error) {
		d, err := durationArg(args, 0)
		if err != nil {
			return nil, err
		}
		return mk(d), nil
	}
}

func seqFault(mk func(int64) chaos.Fault) faultMaker {
	return func(args []string, _ map[string]string) (chaos.Fault, error) {
		n, err := intArg(args, 0, "a seq")
		return mk(int64(n)), err
	}
}

// take removes and returns option k of sel.
func take(sel map[string]string, k string) (string, bool) {
	v, ok := sel[k]
	delete(sel, k)
	return v, ok
}

func intArg(args []string, i int, what string) (int, error) {
	field := fmt.Sprintf("args[%d]", i)
	if len(args) <= i {
		return 0, specErr(field, "missing %s", what)
	}
	n, err := strconv.Atoi(args[i])
	if err != nil {
		return 0, specErr(field, "%q is not %s", args[i], what)
	}
	return n, nil
}

func durationArg(args []string, i int) (time.Duration, error) {
	field := fmt.Sprintf("args[%d]", i)
	if len(args) <= i {
		return 0, specErr(field, "missing a duration like 45s")
	}
	d, err := parseDuration(args[i])
	if err != nil {
		return 0, specErr(field, "%q is not a duration like 45s or 29.999s", args[i])
	}
	return d, nil
}

// parseDuration reads a non-negative Go duration.
func parseDuration(s string) (time.Duration, error) {
	d, err := time.ParseDuration(s)
	if err == nil && d < 0 {
		err = fmt.Errorf("negative duration %v", d)
	}
	return d, err
}

func codeSel(sel map[string]string, def profile.StatusCode) (profile.StatusCode, error) {
	v, ok := take(sel, "code")
	if !ok {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1000 || n > 4999 {
		return 0, specErr("select.code", "%q: want a close code from 1000 to 4999", v)
	}
	return profile.StatusCode(n), nil
}

// cutArg reads how a cut-after cuts: args[i] "fin" (the default), "rst" or
// "black-hole", or a close frame with select code (and reason).
func cutArg(args []string, i int, sel map[string]string) (chaos.Cut, error) {
	if _, ok := sel["code"]; ok {
		code, err := codeSel(sel, profile.StatusGoingAway)
		reason, _ := take(sel, "reason")
		return chaos.Cut{Kind: chaos.CloseFrame, Code: code, Reason: reason}, err
	}
	kind := "fin"
	if len(args) > i {
		kind = args[i]
	}
	switch kind {
	case "fin":
		return chaos.Cut{Kind: chaos.FIN}, nil
	case "rst":
		return chaos.Cut{Kind: chaos.RST}, nil
	case "black-hole":
		return chaos.Cut{Kind: chaos.BlackHole}, nil
	}
	return chaos.Cut{}, specErr(fmt.Sprintf("args[%d]", i), `%q: want "fin", "rst" or "black-hole" (or select code=N for a close frame)`, kind)
}
