package spec

import (
	"fmt"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/wschaos/wschaos/chaos"
	"github.com/wschaos/wschaos/profile"
)

// defaultMakers are the faults of the chaos package, by name.
func defaultMakers() map[string]Maker {
	return map[string]Maker{
		"refuse":                refuse,
		"stall":                 stall,
		"reset-handshake":       plain(chaos.ResetHandshake()),
		"accept-then-close":     acceptThenClose,
		"close-after":           closeAfter,
		"fin-after":             afterFault(chaos.FINAfter),
		"rst-after":             afterFault(chaos.RSTAfter),
		"black-hole-after":      afterFault(chaos.BlackHoleAfter),
		"new-session-on-resume": plain(chaos.NewSessionOnResume()),
		"drop":                  plain(chaos.Drop()),
		"duplicate":             plain(chaos.Duplicate()),
		"reorder":               plain(chaos.Reorder()),
		"swallow-pongs":         plain(chaos.SwallowPongs()),
		"delay":                 afterFault(chaos.Delay),
		"jitter":                afterFault(chaos.Jitter),
		"delay-pongs":           afterFault(chaos.DelayPongs),
		"seq-gap":               seqFault(chaos.SeqGap),
		"seq-duplicate":         seqFault(chaos.SeqDuplicate),
		"seq-swap":              seqFault(chaos.SeqSwap),
		"new-hello-after":       seqFault(chaos.NewHelloAfter),
		"flood-before-pongs": func(args []string, _ map[string]string) (chaos.Fault, error) {
			n, err := IntArg(args, 0, "a count")
			if err == nil && n < 1 {
				err = Errorf("args[0]", "%d: want a count from 1", n)
			}
			if err != nil {
				return nil, err
			}
			return chaos.FloodBeforePongs(n), nil
		},
	}
}

func refuse(args []string, sel map[string]string) (chaos.Fault, error) {
	status, err := IntArg(args, 0, "an HTTP status like 503")
	if err != nil {
		return nil, err
	}
	if status < 100 || status > 599 {
		return nil, Errorf("args[0]", "%d is not an HTTP status", status)
	}
	if ra, ok := Take(sel, "retry-after"); ok {
		d, err := parseDuration(ra)
		if err != nil {
			return nil, Errorf("select.retry-after", "%q is not a duration like 30s", ra)
		}
		return chaos.RefuseRetryAfter(status, d), nil
	}
	return chaos.Refuse(status), nil
}

func stall(args []string, _ map[string]string) (chaos.Fault, error) {
	if len(args) == 0 || args[0] == "forever" {
		return chaos.Stall(-1), nil
	}
	d, err := DurationArg(args, 0)
	return chaos.Stall(d), err
}

func acceptThenClose(args []string, sel map[string]string) (chaos.Fault, error) {
	if len(args) > 0 && args[0] == "fin" {
		return chaos.AcceptThenClose(chaos.Cut{Kind: chaos.FIN}), nil
	}
	code, err := CloseCode(sel, profile.StatusNormalClosure)
	return chaos.AcceptThenClose(chaos.Cut{Kind: chaos.CloseFrame, Code: code}), err
}

func closeAfter(args []string, sel map[string]string) (chaos.Fault, error) {
	d, err := DurationArg(args, 0)
	if err != nil {
		return nil, err
	}
	code, err := CloseCode(sel, profile.StatusGoingAway)
	if err != nil {
		return nil, err
	}
	reason, err := CloseReason(sel)
	if err != nil {
		return nil, err
	}
	return chaos.CloseAfter(d, code, reason), nil
}

// plain makes a fault without arguments.
func plain(f chaos.Fault) Maker {
	return func([]string, map[string]string) (chaos.Fault, error) { return f, nil }
}

func afterFault[F chaos.Fault](mk func(time.Duration) F) Maker {
	return func(args []string, _ map[string]string) (chaos.Fault, error) {
		d, err := DurationArg(args, 0)
		if err != nil {
			return nil, err
		}
		return mk(d), nil
	}
}

func seqFault[F chaos.Fault](mk func(int64) F) Maker {
	return func(args []string, _ map[string]string) (chaos.Fault, error) {
		n, err := IntArg(args, 0, "a seq")
		if err != nil {
			return nil, err
		}
		if n < 0 {
			return nil, Errorf("args[0]", "%d: want a seq from 0 (no event has a negative one)", n)
		}
		return mk(int64(n)), nil
	}
}

// Take removes and returns option k of sel.
func Take(sel map[string]string, k string) (string, bool) {
	v, ok := sel[k]
	delete(sel, k)
	return v, ok
}

// IntArg reads args[i] as an integer; what says what it should be ("a
// count") in the error.
func IntArg(args []string, i int, what string) (int, error) {
	field := fmt.Sprintf("args[%d]", i)
	if len(args) <= i {
		return 0, Errorf(field, "missing %s", what)
	}
	n, err := strconv.Atoi(args[i])
	if err != nil {
		return 0, Errorf(field, "%q is not %s", args[i], what)
	}
	return n, nil
}

// DurationArg reads args[i] as a non-negative Go duration.
func DurationArg(args []string, i int) (time.Duration, error) {
	field := fmt.Sprintf("args[%d]", i)
	if len(args) <= i {
		return 0, Errorf(field, "missing a duration like 45s")
	}
	d, err := parseDuration(args[i])
	if err != nil {
		return 0, Errorf(field, "%q is not a duration like 45s or 29.999s", args[i])
	}
	return d, nil
}

// CloseCode takes option code from sel: a WebSocket close code a client
// may receive (ValidCloseCode), def if there is none.
func CloseCode(sel map[string]string, def profile.StatusCode) (profile.StatusCode, error) {
	v, ok := Take(sel, "code")
	if !ok {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || !ValidCloseCode(n) {
		return 0, Errorf("select.code", "%q: want a close code a client may receive: %s", v, closeCodeRanges)
	}
	return profile.StatusCode(n), nil
}

// closeCodeRanges says in words what ValidCloseCode accepts.
const closeCodeRanges = "1000-1003, 1007-1013 or 3000-4999"

// ValidCloseCode reports whether a server may send code in a close frame:
// RFC 6455 7.4 (1000-1003, 1007-1011), the IANA registry's 1012-1013, and
// the application range 3000-4999. 1004 is reserved, 1005, 1006 and 1015
// are what an endpoint reports when no code, no close frame or no TLS
// came, and 1016-2999 are unassigned: a client that checks (Node's ws,
// browsers) fails the connection on any of them instead of reconnecting
// as the fault meant it to. 1014 (Bad Gateway) is in the registry, but
// gorilla/websocket, and so the reference client and many Go clients,
// refuses it on receipt as a protocol error: it is left out too.
func ValidCloseCode(code int) bool {
	switch {
	case code >= 1000 && code <= 1003, code >= 1007 && code <= 1013:
		return true
	}
	return code >= 3000 && code <= 4999
}

// MaxCloseReason is the longest close reason, in bytes, a close frame
// carries: 125 bytes of control frame payload less the 2-byte code.
const MaxCloseReason = 123

// CloseReason takes option reason from sel, "" if there is none. A reason
// longer than MaxCloseReason is refused rather than cut where no one sees
// it, and one not UTF-8 too: a client fails the connection with 1007 on it.
func CloseReason(sel map[string]string) (string, error) {
	v, _ := Take(sel, "reason")
	if len(v) > MaxCloseReason {
		return "", Errorf("select.reason", "%d bytes: a close frame carries at most %d", len(v), MaxCloseReason)
	}
	if !utf8.ValidString(v) {
		return "", Errorf("select.reason", "%q is not UTF-8, which a close reason must be", v)
	}
	return v, nil
}

// parseDuration reads a non-negative Go duration.
func parseDuration(s string) (time.Duration, error) {
	d, err := time.ParseDuration(s)
	if err == nil && d < 0 {
		err = fmt.Errorf("negative duration %v", d)
	}
	return d, err
}
