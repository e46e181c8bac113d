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
		return fmt.Sprintf("refuse %d retry-after %v", r.status, r.retryAfter)
	}
	return fmt.Sprintf("refuse %d", r.status)
}

func (r refuse) Handshake(*Attempt) *Refusal {
	return &Refusal{Status: r.status, RetryAfter: r.retryAfter}
}
