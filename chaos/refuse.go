package chaos

import (
	"fmt"
	"time"
)

// Refuse answers the attempt with HTTP status instead of the upgrade, as an
// overloaded (503) or rate-limiting (429) server does. The client must count
// it as a failed attempt and back off.
func Refuse(status int) HandshakeFault {
	return refuse{status: status}
}

// RefuseRetryAfter is Refuse with a Retry-After header of after (rounded up
// to whole seconds), the hint a 429 or 503 carries.
func RefuseRetryAfter(status int, after time.Duration) HandshakeFault {
	return refuse{status: status, retryAfter: after}
}

type refuse struct {
	status     int
	retryAfter time.Duration
}

func (r refuse) String() string {
	if r.retryAfter > 0 {
		return fmt.Sprintf("refuse %d retry-after=%v", r.status, r.retryAfter)
	}
	return fmt.Sprintf("refuse %d", r.status)
}

func (r refuse) Handshake(*Attempt) *Refusal {
	return &Refusal{Status: r.status, RetryAfter: r.retryAfter}
}

func init() {
	Register(Spelling{
		Name: "refuse", Usage: "STATUS [retry-after=D]", Example: "refuse 503 retry-after=10s",
		Doc: "answer the upgrade with HTTP STATUS (and a Retry-After header): an overloaded or rate-limiting server",
		Make: func(args []string, opts map[string]string) (Fault, error) {
			status, err := IntArg(args, 0, "an HTTP status like 503")
			if err != nil {
				return nil, err
			}
			if status < 100 || status > 599 {
				return nil, WordErrorf("args[0]", "%d is not an HTTP status", status)
			}
			if ra, ok := TakeOpt(opts, "retry-after"); ok {
				d, err := ParseDuration(ra)
				if err != nil {
					return nil, WordErrorf("select.retry-after", "%q is not a duration like 30s", ra)
				}
				return RefuseRetryAfter(status, d), nil
			}
			return Refuse(status), nil
		},
	})
}
