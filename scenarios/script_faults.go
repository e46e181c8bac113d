package scenarios

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/wschaos/wschaos/chaos"
	"github.com/wschaos/wschaos/profile"
)

// parseFault reads a fault command's arguments: a fault name, its
// positional arguments, then key=value selectors that aim it.
//
//	refuse 503 attempts=1-3
//	close-after 10s code=1001 attempts=1
//	swallow-pongs every=2
//	delay-pongs 29.999s
func parseFault(args []string) (chaos.Fault, error) {
	if len(args) == 0 {
		return nil, fmt.Errorf("fault: name a fault (known: %s)", strings.Join(faultNames(), ", "))
	}
	name := args[0]
	var pos []string
	sel := map[string]string{}
	for _, a := range args[1:] {
		if k, v, ok := strings.Cut(a, "="); ok {
			sel[k] = v
		} else {
			pos = append(pos, a)
		}
	}
	mk, ok := faultMakers[name]
	if !ok {
		return nil, fmt.Errorf("unknown fault %q (known: %s)", name, strings.Join(faultNames(), ", "))
	}
	f, err := mk(pos, sel)
	if err != nil {
		return nil, fmt.Errorf("fault %s: %w", name, err)
	}
	if f, err = aim(f, sel); err != nil {
		return nil, fmt.Errorf("fault %s: %w", name, err)
	}
	return f, nil
}

type faultMaker func(pos []string, sel map[string]string) (chaos.Fault, error)

var faultMakers = map[string]faultMaker{
	"refuse": func(pos []string, sel map[string]string) (chaos.Fault, error) {
		status, err := intArg(pos, 0, "an HTTP status")
		if err != nil {
			return nil, err
		}
		if ra, ok := sel["retry-after"]; ok {
			delete(sel, "retry-after")
			d, err := time.ParseDuration(ra)
			if err != nil {
				return nil, fmt.Errorf("retry-after %q: %v", ra, err)
			}
			return chaos.RefuseRetryAfter(status, d), nil
		}
		return chaos.Refuse(status), nil
	},
	"stall": func(pos []string, _ map[string]string) (chaos.Fault, error) {
		if len(pos) == 0 || pos[0] == "forever" {
			return chaos.Stall(-1), nil
		}
		d, err := durationArg(pos, 0)
		return chaos.Stall(d), err
	},
	"reset-handshake": func([]string, map[string]string) (chaos.Fault, error) { return chaos.ResetHandshake(), nil },
	"accept-then-close": func(pos []string, sel map[string]string) (chaos.Fault, error) {
		if len(pos) > 0 && pos[0] == "fin" {
			return chaos.AcceptThenClose(chaos.Cut{Kind: chaos.FIN}), nil
		}
		code, err := codeSel(sel, profile.StatusNormalClosure)
		return chaos.AcceptThenClose(chaos.Cut{Kind: chaos.CloseFrame, Code: code}), err
	},
	"close-after": func(pos []string, sel map[string]string) (chaos.Fault, error) {
		d, err := durationArg(pos, 0)
		if err != nil {
			return nil, err
		}
		code, err := codeSel(sel, profile.StatusGoingAway)
		reason := sel["reason"]
		delete(sel, "reason")
		return chaos.CloseAfter(d, code, reason), err
	},
	"fin-after":             afterFault(chaos.FINAfter),
	"rst-after":             afterFault(chaos.RSTAfter),
	"black-hole-after":      afterFault(chaos.BlackHoleAfter),
	"new-session-on-resume": plain(chaos.NewSessionOnResume()),
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
	"new-hello-after":       seqFault(func(n int64) chaos.Fault { return chaos.NewHelloAfter(n) }),
	"flood-before-pongs": func(pos []string, _ map[string]string) (chaos.Fault, error) {
		n, err := intArg(pos, 0, "a count")
		return chaos.FloodBeforePongs(n), err
	},
}

func faultNames() []string {
	var names []string
	for n := range faultMakers {
		names = append(names, n)
	}
	return sortedStrings(names)
}

func plain(f chaos.Fault) faultMaker {
	return func([]string, map[string]string) (chaos.Fault, error) { return f, nil }
}

func afterFault[F chaos.Fault](mk func(time.Duration) F) faultMaker {
	return func(pos []string, _ map[string]string) (chaos.Fault, error) {
		d, err := durationArg(pos, 0)
		if err != nil {
			return nil, err
		}
		return mk(d), nil
	}
}

func seqFault(mk func(int64) chaos.Fault) faultMaker {
	return func(pos []string, _ map[string]string) (chaos.Fault, error) {
		n, err := intArg(pos, 0, "a seq")
		return mk(int64(n)), err
	}
}

// aim wraps f in the selectors sel names, narrowest first, and fails on any
// it does not know: a misspelt selector must not silently widen a fault.
func aim(f chaos.Fault, sel map[string]string) (chaos.Fault, error) {
	take := func(k string) (string, bool) {
		v, ok := sel[k]
		delete(sel, k)
		return v, ok
	}
	if v, ok := take("type"); ok {
		f = chaos.Type(v, f)
	}
	if v, ok := take("index"); ok {
		n, err := positive("index", v)
		if err != nil {
			return nil, err
		}
		f = chaos.Index(n, f)
	}
	if v, ok := take("dir"); ok {
		switch v {
		case "client":
			f = chaos.Dir(profile.Client, f)
		case "server":
			f = chaos.Dir(profile.Server, f)
		default:
			return nil, fmt.Errorf(`dir=%q: want "client" or "server"`, v)
		}
	}
	if v, ok := take("every"); ok {
		n, err := positive("every", v)
		if err != nil {
			return nil, err
		}
		f = chaos.EveryNth(n, f)
	}
	if v, ok := take("prob"); ok {
		p, err := strconv.ParseFloat(v, 64)
		if err != nil || p < 0 || p > 1 {
			return nil, fmt.Errorf("prob=%q: want a probability in [0, 1]", v)
		}
		f = chaos.Probability(p, f)
	}
	if v, ok := take("first"); ok {
		n, err := positive("first", v)
		if err != nil {
			return nil, err
		}
		f = chaos.FirstN(n, f)
	}
	if v, ok := take("from"); ok {
		n, err := positive("from", v)
		if err != nil {
			return nil, err
		}
		f = chaos.FromAttempt(n, f)
	}
	if v, ok := take("attempts"); ok {
		ns, err := attemptList(v)
		if err != nil {
			return nil, err
		}
		f = chaos.OnAttempts(f, ns...)
	}
	if v, ok := take("during"); ok {
		a, b, ok := strings.Cut(v, "..")
		from, err1 := time.ParseDuration(a)
		to, err2 := time.ParseDuration(b)
		if !ok || err1 != nil || err2 != nil || to <= from {
			return nil, fmt.Errorf("during=%q: want FROM..TO, two durations", v)
		}
		f = chaos.During(from, to, f)
	}
	for k := range sel {
		return nil, fmt.Errorf("unknown selector %q (known: type, index, dir, every, prob, first, from, attempts, during)", k)
	}
	return f, nil
}

// attemptList reads "2", "1,3" or "2-4".
func attemptList(v string) ([]int, error) {
	var ns []int
	for _, part := range strings.Split(v, ",") {
		a, b, isRange := strings.Cut(part, "-")
		lo, err1 := strconv.Atoi(a)
		hi, err2 := lo, error(nil)
		if isRange {
			hi, err2 = strconv.Atoi(b)
		}
		if err1 != nil || err2 != nil || lo < 1 || hi < lo {
			return nil, fmt.Errorf("attempts=%q: want attempt numbers like 2, 1,3 or 2-4", v)
		}
		for n := lo; n <= hi; n++ {
			ns = append(ns, n)
		}
	}
	return ns, nil
}

func intArg(pos []string, i int, what string) (int, error) {
	if len(pos) <= i {
		return 0, fmt.Errorf("missing %s", what)
	}
	n, err := strconv.Atoi(pos[i])
	if err != nil {
		return 0, fmt.Errorf("%q is not %s", pos[i], what)
	}
	return n, nil
}

func durationArg(pos []string, i int) (time.Duration, error) {
	if len(pos) <= i {
		return 0, fmt.Errorf("missing a duration")
	}
	d, err := time.ParseDuration(pos[i])
	if err != nil || d < 0 {
		return 0, fmt.Errorf("%q is not a duration like 45s or 29.999s", pos[i])
	}
	return d, nil
}

func codeSel(sel map[string]string, def profile.StatusCode) (profile.StatusCode, error) {
	v, ok := sel["code"]
	delete(sel, "code")
	if !ok {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1000 || n > 4999 {
		return 0, fmt.Errorf("code=%q: want a close code from 1000 to 4999", v)
	}
	return profile.StatusCode(n), nil
}

// positive reads a selector's count or number, which starts at 1.
func positive(key, v string) (int, error) {
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		return 0, fmt.Errorf("%s=%q: want a whole number from 1", key, v)
	}
	return n, nil
}
