package client

import (
	"fmt"
	"net/url"
	"strconv"

	"github.com/wschaos/wschaos/profile"
)

// connectURL is the URL of the next attempt: the server URL, plus the
// resume parameters when the profile resumes (Resume.IDParam and
// Resume.SeqParam), plus Close.Query=code when the profile reports close
// codes in the query and a close was seen since the last successful open
// (code is 0 when none was). Nothing to add leaves the URL as it was given.
// The query is url.Values.Encode's: keys sorted, so the URL is stable.
func (c *Client) connectURL(code profile.StatusCode) (string, error) {
	r := c.p.Resume
	withCode := c.p.Close.InQuery() && code != 0
	if r == nil && !withCode {
		return c.url, nil
	}
	u, err := url.Parse(c.url)
	if err != nil {
		return "", fmt.Errorf("bad server URL %q: %w", c.url, err)
	}
	q := u.Query()
	if r != nil {
		c.mu.Lock()
		id, seq := c.connID, c.expectedSeq
		c.mu.Unlock()
		if c.flaws.ResumeFromLastSeen && seq > 0 {
			seq--
		}
		q.Set(r.IDParam, id)
		q.Set(r.SeqParam, strconv.FormatInt(seq, 10))
	}
	if withCode {
		q.Set(c.p.Close.Query, strconv.Itoa(int(code)))
	}
	u.RawQuery = q.Encode()
	return u.String(), nil
}
