package profile

import (
	"fmt"
	"net/url"
	"strconv"
)

// ConnectQuery is what a client puts on every connect URL, under the names
// the profile gives the parameters: the session it resumes and the next
// event seq it expects (Resume.IDParam, Resume.SeqParam), and the code of
// the first close since its last successful open (Close.Query, where
// Close.Report is query or both). The client writes it with ConnectURL and
// the server reads it with ParseConnectQuery: one encoding, both sides.
type ConnectQuery struct {
	ConnectionID string
	Seq          int64
	// ReportedCode is 0 when there is nothing to report.
	ReportedCode StatusCode
}

// ConnectURL returns base with q added as p names it; with nothing to add
// it returns base as it is. The query is url.Values.Encode's: keys sorted,
// so the URL is the same every time.
func (p *Profile) ConnectURL(base string, q ConnectQuery) (string, error) {
	r := p.Resume
	withCode := p.Close.InQuery() && p.Close.Query != "" && q.ReportedCode != 0
	if r == nil && !withCode {
		return base, nil
	}
	u, err := url.Parse(base)
	if err != nil {
		return "", fmt.Errorf("bad server URL %q: %w", base, err)
	}
	v := u.Query()
	if r != nil {
		v.Set(r.IDParam, q.ConnectionID)
		v.Set(r.SeqParam, strconv.FormatInt(q.Seq, 10))
	}
	if withCode {
		v.Set(p.Close.Query, strconv.Itoa(int(q.ReportedCode)))
	}
	u.RawQuery = v.Encode()
	return u.String(), nil
}

// ParseConnectQuery reads a connect URL's query as p names it. Parameters
// p does not name are ignored, and a missing seq is 0; a malformed value is
// an error that names its parameter, quoting at most 20 characters of it (a
// URL is the client's to make as long as it likes).
func (p *Profile) ParseConnectQuery(v url.Values) (ConnectQuery, error) {
	var q ConnectQuery
	// The code first: it is about the connection before this one, and is
	// worth knowing even when the rest of the query is bad.
	if p.Close.InQuery() && p.Close.Query != "" {
		if s := v.Get(p.Close.Query); s != "" {
			n, err := strconv.Atoi(s)
			if err != nil || n < 1000 || n > 4999 {
				return q, fmt.Errorf("%s %.20q is not a close code (1000 to 4999)", p.Close.Query, s)
			}
			q.ReportedCode = StatusCode(n)
		}
	}
	if r := p.Resume; r != nil {
		q.ConnectionID = v.Get(r.IDParam)
		if s := v.Get(r.SeqParam); s != "" {
			n, err := strconv.ParseInt(s, 10, 64)
			if err != nil || n < 0 {
				return q, fmt.Errorf("%s %.20q is not a non-negative integer", r.SeqParam, s)
			}
			q.Seq = n
		}
	}
	return q, nil
}
