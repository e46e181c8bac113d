package proxy

import (
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strconv"
	"time"

	"github.com/wschaos/wschaos/profile"
)

// maxEnded bounds how many closed connections Status remembers, so a
// long-running proxy under a reconnect storm does not grow without bound.
const maxEnded = 256

// Status is a snapshot of the proxy's connections.
type Status struct {
	// Enabled is false while the proxy is disabled (Disable, POST
	// /disable): it resets every connection it accepts.
	Enabled bool `json:"enabled"`
	// Attempts counts connection attempts so far.
	Attempts int `json:"attempts"`
	// Open counts proxied connections open now.
	Open int `json:"open"`
	// Connections lists the open connections and the last closed ones, by
	// attempt.
	Connections []ConnStatus `json:"connections"`
}

// ConnStatus is one proxied connection's counters.
type ConnStatus struct {
	Attempt     int    `json:"attempt"`
	URL         string `json:"url"`
	Subprotocol string `json:"subprotocol,omitempty"`
	// State is "open", "black hole", "closing" or "closed".
	State string `json:"state"`
	// OpenedAt and ClosedAt are virtual times since the proxy started;
	// OpenFor is how long it has been (or was) open. In JSON they are
	// milliseconds, numbers, under names that say so: a tool adds and
	// compares them without parsing Go's "1m30s".
	OpenedAt Duration `json:"opened_at_ms"`
	ClosedAt Duration `json:"closed_at_ms,omitempty"`
	OpenFor  Duration `json:"open_for_ms"`
	// ClientToUpstream and UpstreamToClient count each way.
	ClientToUpstream DirStatus `json:"client_to_upstream"`
	UpstreamToClient DirStatus `json:"upstream_to_client"`
}

// DirStatus counts one direction of a connection.
type DirStatus struct {
	// Frames and Bytes arrived at the proxy (before faults).
	Frames int64 `json:"frames"`
	Bytes  int64 `json:"bytes"`
	// Delivered frames hit the far side's wire (copies included).
	Delivered int64 `json:"delivered"`
	// Dropped frames were dropped by a fault or a black hole.
	Dropped int64 `json:"dropped"`
	// Delayed frames were held back by a fault.
	Delayed int64 `json:"delayed"`
}

// Duration is a time.Duration that reads and writes JSON as a number of
// milliseconds (fractions kept: 1.5 is 1.5 ms), the unit the field names
// end in. It reads a Go duration string ("1m30s") too, as older proxies
// wrote it.
type Duration time.Duration

func (d Duration) String() string { return time.Duration(d).String() }

// MarshalJSON writes d in milliseconds.
func (d Duration) MarshalJSON() ([]byte, error) {
	return strconv.AppendFloat(nil, float64(d)/float64(time.Millisecond), 'f', -1, 64), nil
}

// UnmarshalJSON reads milliseconds, or a Go duration string.
func (d *Duration) UnmarshalJSON(b []byte) error {
	var ms float64
	if err := json.Unmarshal(b, &ms); err == nil {
		*d = Duration(math.Round(ms * float64(time.Millisecond)))
		return nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("duration: want milliseconds, like 1500: got %.40s", b)
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("duration: want milliseconds, like 1500: %w", err)
	}
	*d = Duration(v)
	return nil
}

// count updates the counters of direction dir under the status lock.
func (c *conn) count(dir profile.Side, fn func(*DirStatus)) {
	c.statMu.Lock()
	defer c.statMu.Unlock()
	if dir == profile.Client {
		fn(&c.stat.ClientToUpstream)
	} else {
		fn(&c.stat.UpstreamToClient)
	}
}

// Status returns the counters of every open connection and the last
// closed ones.
func (p *Proxy) Status() Status {
	now := Duration(p.since())
	p.mu.Lock()
	st := Status{Enabled: p.Enabled(), Attempts: p.attempts, Open: len(p.conns), Connections: append([]ConnStatus{}, p.ended...)}
	conns := make([]*conn, 0, len(p.conns))
	for c := range p.conns {
		conns = append(conns, c)
	}
	p.mu.Unlock()
	for _, c := range conns {
		c.statMu.Lock()
		st.Connections = append(st.Connections, c.stat)
		c.statMu.Unlock()
	}
	for i := range st.Connections {
		cs := &st.Connections[i]
		end := cs.ClosedAt
		if cs.State != "closed" {
			end = now
		}
		cs.OpenFor = end - cs.OpenedAt
	}
	slices.SortFunc(st.Connections, func(a, b ConnStatus) int { return a.Attempt - b.Attempt })
	return st
}
