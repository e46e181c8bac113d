package chaos

import (
	"fmt"
	"time"

	"github.com/wschaos/wschaos/profile"
)

// AcceptThenClose completes the upgrade and cuts the connection at once,
// before the server sends anything: the accept-then-close loop that keeps
// a client that resets its backoff on open in its shortest delay forever.
func AcceptThenClose(c Cut) ConnFault { return cutAfter{cut: c, now: true} }

// CloseAfter sends a close frame with code and reason d of virtual time
// after the connection opens.
func CloseAfter(d time.Duration, code profile.StatusCode, reason string) ConnFault {
	return cutAfter{after: d, cut: Cut{Kind: CloseFrame, Code: code, Reason: reason}}
}

// FINAfter closes the TCP connection without a close frame d after it
// opens: the client must see an abnormal closure (1006) and reconnect.
func FINAfter(d time.Duration) ConnFault { return cutAfter{after: d, cut: Cut{Kind: FIN}} }

// RSTAfter resets the TCP connection d after it opens.
func RSTAfter(d time.Duration) ConnFault { return cutAfter{after: d, cut: Cut{Kind: RST}} }

// BlackHoleAfter silences the connection d after it opens: the socket stays
// up but nothing flows either way, and the server keeps it open until the
// client closes it. Only the client's heartbeat can notice.
func BlackHoleAfter(d time.Duration) ConnFault {
	return cutAfter{after: d, cut: Cut{Kind: BlackHole}}
}

type cutAfter struct {
	after time.Duration
	cut   Cut
	now   bool
}

// String is the words that make c: "close-after 10s code=1001".
func (c cutAfter) String() string {
	if c.now {
		return "accept-then-close " + c.cut.Words()
	}
	if c.cut.Kind == CloseFrame {
		return fmt.Sprintf("close-after %v %s", c.after, c.cut.Words())
	}
	return fmt.Sprintf("%s-after %v", c.cut.Words(), c.after)
}

func (c cutAfter) Open(*Link) []Step {
	return []Step{{After: c.after, Cut: c.cut}}
}

func init() {
	Register(Spelling{
		Name: "accept-then-close", Usage: "[" + cutWordsUsage + "]", Example: "accept-then-close code=1000",
		Doc: "complete the upgrade and cut at once (a close 1000 unless told): the accept-then-close loop",
		Make: func(args []string, opts map[string]string) (Fault, error) {
			c, err := CutArg(args, 0, opts, Cut{Kind: CloseFrame, Code: profile.StatusNormalClosure})
			return AcceptThenClose(c), err
		},
	})
	Register(Spelling{
		Name: "close-after", Usage: "D [code=N] [reason=TEXT]", Example: "close-after 10s code=1001",
		Doc: "send a close frame (1001 unless told) D after the connection opens",
		Make: func(args []string, opts map[string]string) (Fault, error) {
			d, err := DurationArg(args, 0)
			if err != nil {
				return nil, err
			}
			c, err := CutArg(nil, 0, opts, Cut{Kind: CloseFrame, Code: profile.StatusGoingAway})
			return cutAfter{after: d, cut: c}, err
		},
	})
	Register(Spelling{
		Name: "fin-after", Usage: "D", Example: "fin-after 1s",
		Doc:  "close the TCP connection without a close frame D after it opens",
		Make: durationMaker(FINAfter),
	})
	Register(Spelling{
		Name: "rst-after", Usage: "D", Example: "rst-after 1s",
		Doc:  "reset the TCP connection D after it opens",
		Make: durationMaker(RSTAfter),
	})
	Register(Spelling{
		Name: "black-hole-after", Usage: "D", Example: "black-hole-after 45s",
		Doc:  "let nothing through either way D after the connection opens, socket up: a half-open link",
		Make: durationMaker(BlackHoleAfter),
	})
}
