package fakeserver

import (
	"fmt"
	"net/url"
	"strconv"

	"github.com/wschaos/wschaos/profile"
)

// Query is what a connect URL tells the server, read with the names the
// profile gives its parameters: the session the client resumes, and the
// code it reports for the close before this connect.
type Query struct {
	// ConnectionID and Seq are Resume.IDParam and Resume.SeqParam: the
	// session to resume ("" for a new one) and the next event seq the
	// client expects (0 when absent).
	ConnectionID string
	Seq          int64
	// ReportedCode is the code in Close.Query, when Close.Report is query
	// or both; 0 when the client reports none.
	ReportedCode profile.StatusCode
}

// ParseQuery reads the query of a connect URL as the server does for p.
// Parameters p does not name are ignored; a malformed value is an error
// that names its parameter (quoting at most 20 characters of the value: a
// URL is the client's to make as long as it likes).
func ParseQuery(p *profile.Profile, v url.Values) (Query, error) {
	code, err := ReportedCode(p, v)
	if err != nil {
		return Query{}, err
	}
	q, err := resumeQuery(p, v)
	q.ReportedCode = code
	return q, err
}

// ReportedCode reads the code a client reports in the connect query v for
// its previous close (mattermost's disconnect_err_code): 0 when p reports
// codes in the close frame only, or the client sends none. The chaos proxy
// reads it too, for its own dial entries.
func ReportedCode(p *profile.Profile, v url.Values) (profile.StatusCode, error) {
	if !p.Close.InQuery() || p.Close.Query == "" {
		return 0, nil
	}
	s := v.Get(p.Close.Query)
	if s == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1000 || n > 4999 {
		return 0, fmt.Errorf("%s %.20q is not a close code (1000 to 4999)", p.Close.Query, s)
	}
	return profile.StatusCode(n), nil
}

// resumeQuery reads the session a client resumes; a missing seq is 0.
func resumeQuery(p *profile.Profile, v url.Values) (Query, error) {
	r := p.Resume
	if r == nil {
		return Query{}, nil
	}
	q := Query{ConnectionID: v.Get(r.IDParam)}
	if s := v.Get(r.SeqParam); s != "" {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n < 0 {
			return q, fmt.Errorf("%s %.20q is not a non-negative integer", r.SeqParam, s)
		}
		q.Seq = n
	}
	return q, nil
}
