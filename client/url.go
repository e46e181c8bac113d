package client

import "github.com/wschaos/wschaos/profile"

// connectURL is the URL of the next attempt: the server URL, plus the
// resume parameters when the profile resumes (Resume.IDParam and
// Resume.SeqParam), plus Close.Query=code when the profile reports close
// codes in the query and a close was seen since the last successful open
// (code is 0 when none was), as profile.ConnectURL writes them.
func (c *Client) connectURL(code profile.StatusCode) (string, error) {
	c.mu.Lock()
	q := profile.ConnectQuery{ConnectionID: c.connID, Seq: c.expectedSeq, ReportedCode: code}
	c.mu.Unlock()
	if c.flaws.ResumeFromLastSeen && q.Seq > 0 {
		q.Seq--
	}
	return c.p.ConnectURL(c.url, q)
}
