package profile

import (
	"fmt"
	"net/url"
	"strconv"
)

// ResumeQuery is what a mattermost client puts on every connect URL.
type ResumeQuery struct {
	ConnectionID string
	// SequenceNumber is the next event seq the client expects.
	SequenceNumber int64
	// DisconnectCode is the code the previous socket closed with, 0 if none.
	DisconnectCode StatusCode
}

// URL returns base with the query added.
func (q ResumeQuery) URL(base string) (string, error) {
	u, err := url.Parse(base)
	if err != nil {
		return "", fmt.Errorf("bad server URL %q: %w", base, err)
	}
	v := u.Query()
	v.Set("connection_id", q.ConnectionID)
	v.Set("sequence_number", strconv.FormatInt(q.SequenceNumber, 10))
	if q.DisconnectCode != 0 {
		v.Set("disconnect_err_code", strconv.Itoa(int(q.DisconnectCode)))
	}
	u.RawQuery = v.Encode()
	return u.String(), nil
}

// ParseResumeQuery reads the query of a connect URL. A missing
// sequence_number is 0; a malformed one is an error.
func ParseResumeQuery(v url.Values) (ResumeQuery, error) {
	q := ResumeQuery{ConnectionID: v.Get("connection_id")}
	if s := v.Get("sequence_number"); s != "" {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n < 0 {
			return q, fmt.Errorf("sequence_number %q is not a non-negative integer", s)
		}
		q.SequenceNumber = n
	}
	if s := v.Get("disconnect_err_code"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil {
			return q, fmt.Errorf("disconnect_err_code %q is not an integer", s)
		}
		q.DisconnectCode = StatusCode(n)
	}
	return q, nil
}
