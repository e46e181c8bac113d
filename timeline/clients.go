package timeline

import (
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/wschaos/wschaos/profile"
	"github.com/wschaos/wschaos/transcript"
)

// ClientParam is the query parameter a test may add to a client's URL
// (ws://127.0.0.1:8080/ws?client=tab-2) so that Clients judges each client
// on its own schedule when nothing in the profile tells them apart.
const ClientParam = "client"

// Clients judges the reconnects of every client of one server, each on
// its own schedule: two browser tabs, or a React StrictMode double mount,
// are two clients, and one judge fed both would see one client
// reconnecting far too soon. An attempt belongs to the client its dial
// names: by the ClientParam query parameter where the client's URL has
// one, else by the connection id the profile's resume sends (an empty id
// is a client that never opened: a new one, or one still retrying its
// first connect). A client that closed on purpose (the profile's
// intentional close code) and dials again starts afresh, unjudged, as a
// remounted component does. With neither, every attempt is taken for one client's,
// and the first time a dial comes while another attempt is still up,
// Clients warns that the waits can no longer be told apart and judges no
// more of them: a false WRONG would fail a run that did nothing wrong.
type Clients struct {
	p *profile.Profile
	// Tolerance is each client's Judge.Tolerance.
	Tolerance time.Duration

	all       []*client
	named     map[string]*client // by ClientParam
	session   map[string]*client // by connection id
	attempt   map[int]*client
	anon      *client // the one client of a profile with no ids
	confused  bool    // anon's attempts overlapped: its waits are not judged
	anonWrong int     // wrong verdicts given anon
}

// client is one client's judge and its attempts still up.
type client struct {
	name    string
	j       *Judge
	live    map[int]bool
	session string // the connection id it was given, "" before its first open
	// done: the client closed on purpose (the profile's intentional
	// close code). Its next dial starts afresh, as a new client would:
	// a component that unmounts and mounts again is not reconnecting.
	done bool
}

// NewClients returns a judge of every client of a server playing p.
func NewClients(p *profile.Profile) *Clients {
	return &Clients{p: p, named: map[string]*client{}, session: map[string]*client{}, attempt: map[int]*client{}}
}

// See takes the next transcript entry. For a dial that follows a failure
// of its client it returns the verdict on the wait before it, with
// Verdict.Client naming the client once there is more than one. warning,
// when not empty, is to be shown once: the clients can no longer be told
// apart.
func (c *Clients) See(e transcript.Entry) (v Verdict, ok bool, warning string) {
	if e.Attempt == 0 {
		return Verdict{}, false, ""
	}
	cl := c.attempt[e.Attempt]
	if e.Kind == transcript.KindDial {
		cl, warning = c.route(e)
		c.attempt[e.Attempt] = cl
		cl.live[e.Attempt] = true
		if cl.done {
			cl.j, cl.done = c.newJudge(), false
		}
	}
	if cl == nil {
		return Verdict{}, false, warning // an attempt begun before we looked
	}
	switch e.Kind {
	case transcript.KindOpen:
		if e.Session != "" && c.ids() {
			cl.session = e.Session
			c.session[e.Session] = cl
		}
	case transcript.KindClose:
		delete(cl.live, e.Attempt)
		// Only where error closes carry their own codes is the intentional
		// code told apart from a heartbeat's or a gap's.
		if e.By == profile.Client && e.Code == c.p.Close.Code && c.p.Close.InFrame() && len(cl.live) == 0 {
			cl.done = true
		}
	case transcript.KindRefuse, transcript.KindReset, transcript.KindStall:
		// A stalled attempt is the client's to time out: it no longer
		// holds the client, which may dial again while it hangs.
		delete(cl.live, e.Attempt)
	}
	v, ok = cl.j.See(e)
	if !ok {
		return v, ok, warning
	}
	if len(c.all) > 1 {
		v.Client = cl.name
	}
	if cl == c.anon && c.confused && v.Unjudged == "" {
		v = Verdict{Attempt: v.Attempt, Failure: v.Failure, Waited: v.Waited,
			Unjudged: "several clients at once, and nothing tells their attempts apart"}
	}
	if cl == c.anon && v.Wrong() {
		c.anonWrong++
	}
	return v, true, warning
}

// InDoubt is how many of the wrong verdicts were given before Clients
// found that what it took for one client was several: each may be one
// client's dial taken for another's reconnect. 0 while nothing overlapped.
func (c *Clients) InDoubt() int {
	if !c.confused {
		return 0
	}
	return c.anonWrong
}

// ids reports whether the profile's connects carry a connection id.
func (c *Clients) ids() bool { return c.p.Resume != nil && c.p.Resume.IDParam != "" }

// route finds the client a dial belongs to, making a new one if it is the
// first of its kind.
func (c *Clients) route(e transcript.Entry) (*client, string) {
	q := query(e.URL)
	if name := q.Get(ClientParam); name != "" {
		if cl := c.named[name]; cl != nil {
			return cl, ""
		}
		cl := c.add(name)
		c.named[name] = cl
		return cl, ""
	}
	if c.ids() {
		if id := q.Get(c.p.Resume.IDParam); id != "" {
			if cl := c.session[id]; cl != nil {
				return cl, ""
			}
			cl := c.add("connection " + id) // a client first seen resuming
			cl.session = id
			c.session[id] = cl
			return cl, ""
		}
		// No id yet: a client retrying its first connect, if one waits,
		// else a new client.
		for _, cl := range c.all {
			if cl.session == "" && len(cl.live) == 0 && !c.isNamed(cl) {
				return cl, ""
			}
		}
		return c.add(fmt.Sprintf("client of #%d", e.Attempt)), ""
	}
	if c.anon == nil {
		c.anon = c.add(fmt.Sprintf("client of #%d", e.Attempt))
		return c.anon, ""
	}
	if len(c.anon.live) > 0 && !c.confused {
		c.confused = true
		return c.anon, fmt.Sprintf("attempt #%d began while #%d is still up: two clients at once, and nothing tells them apart "+
			"(profile %s sends no connection id): reconnect waits are not judged from now on, and those judged before may be wrong too; "+
			"give each client its own ?%s=NAME query parameter to judge each on its own schedule",
			e.Attempt, minKey(c.anon.live), c.p.Name, ClientParam)
	}
	return c.anon, ""
}

func (c *Clients) isNamed(cl *client) bool {
	for _, n := range c.named {
		if n == cl {
			return true
		}
	}
	return false
}

func (c *Clients) newJudge() *Judge {
	j := NewJudge(c.p)
	j.Tolerance = c.Tolerance
	return j
}

func (c *Clients) add(name string) *client {
	cl := &client{name: name, j: c.newJudge(), live: map[int]bool{}}
	c.all = append(c.all, cl)
	return cl
}

// query is a dial URL's query ("/ws?client=a" → client=a).
func query(u string) url.Values {
	_, raw, _ := strings.Cut(u, "?")
	q, _ := url.ParseQuery(raw)
	return q
}

func minKey(m map[int]bool) int {
	lo := 0
	for k := range m {
		if lo == 0 || k < lo {
			lo = k
		}
	}
	return lo
}
