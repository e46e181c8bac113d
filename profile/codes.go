package profile

import (
	"fmt"
	"strconv"
	"strings"
)

// StatusCode is a WebSocket close code.
type StatusCode int

const (
	StatusNormalClosure   StatusCode = 1000
	StatusGoingAway       StatusCode = 1001
	StatusNoStatus        StatusCode = 1005 // no code in the close frame
	StatusAbnormalClosure StatusCode = 1006 // no close frame at all
	StatusPolicyViolation StatusCode = 1008
	StatusMessageTooBig   StatusCode = 1009
	StatusInternalError   StatusCode = 1011
	// StatusPingTimeout is mattermost's code for a ping that got no reply.
	StatusPingTimeout StatusCode = 4000
	// StatusSeqMismatch is mattermost's code for an event whose seq is not
	// the expected one.
	StatusSeqMismatch StatusCode = 4001
)

// UnmarshalText reads a code, or "none" for a close frame without one.
func (c *StatusCode) UnmarshalText(b []byte) error {
	s := string(b)
	if s == "none" {
		*c = StatusNoStatus
		return nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1000 || n > 4999 {
		return fmt.Errorf("%q is not a close code: want 1000 to 4999, or none", s)
	}
	*c = StatusCode(n)
	return nil
}

// MarshalText writes "none" for StatusNoStatus, else the number.
func (c StatusCode) MarshalText() ([]byte, error) {
	if c == StatusNoStatus {
		return []byte("none"), nil
	}
	return []byte(strconv.Itoa(int(c))), nil
}

// CodeRange is a close code or an inclusive range of them ("1002-1004").
type CodeRange struct{ Lo, Hi StatusCode }

// Contains reports whether c is in the range.
func (r CodeRange) Contains(c StatusCode) bool { return c >= r.Lo && c <= r.Hi }

// UnmarshalText reads "4400" or "1002-1004".
func (r *CodeRange) UnmarshalText(b []byte) error {
	lo, hi, isRange := strings.Cut(string(b), "-")
	if !isRange {
		hi = lo
	}
	var l, h StatusCode
	if err := l.UnmarshalText([]byte(strings.TrimSpace(lo))); err != nil {
		return err
	}
	if err := h.UnmarshalText([]byte(strings.TrimSpace(hi))); err != nil {
		return err
	}
	if h < l {
		return fmt.Errorf("%q: the range ends before it starts", b)
	}
	*r = CodeRange{l, h}
	return nil
}

// MarshalText writes the range as it is read.
func (r CodeRange) MarshalText() ([]byte, error) {
	if r.Lo == r.Hi {
		return []byte(strconv.Itoa(int(r.Lo))), nil
	}
	return []byte(fmt.Sprintf("%d-%d", r.Lo, r.Hi)), nil
}
