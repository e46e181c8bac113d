package proxy

import (
	"maps"
	"slices"
)

// Summary is what a proxy did over its life, for a command to print when
// it stops: unlike Status it is not bounded to the last connections, and
// it counts what the faults did.
type Summary struct {
	// Attempts counts connection attempts; Connections those relayed
	// (upgraded on both sides), open or closed.
	Attempts    int
	Connections int
	// ClientToUpstream and UpstreamToClient sum every connection's
	// counters each way.
	ClientToUpstream DirStatus
	UpstreamToClient DirStatus
	// Faults counts, by fault, the times a fault (or the control API's
	// cut and disable) acted, sorted by name.
	Faults []FaultCount
	// ResetDisabled counts connections reset at accept while disabled.
	ResetDisabled int
}

// FaultCount is how often one fault acted.
type FaultCount struct {
	Fault string
	Times int
}

// Summary sums the proxy's connections so far, closed and open.
func (p *Proxy) Summary() Summary {
	p.mu.Lock()
	defer p.mu.Unlock()
	sum := Summary{Attempts: p.attempts, Connections: p.closedConns + len(p.conns), ResetDisabled: p.refusedDisabled,
		ClientToUpstream: p.totals[0], UpstreamToClient: p.totals[1]}
	for c := range p.conns { // p.mu before statMu, as nowhere takes them the other way
		c.statMu.Lock()
		sum.ClientToUpstream.add(c.stat.ClientToUpstream)
		sum.UpstreamToClient.add(c.stat.UpstreamToClient)
		c.statMu.Unlock()
	}
	p.actedMu.Lock()
	for _, k := range slices.Sorted(maps.Keys(p.acted)) {
		sum.Faults = append(sum.Faults, FaultCount{Fault: k, Times: p.acted[k]})
	}
	p.actedMu.Unlock()
	return sum
}

// countActed counts, by fault, the entries of es a fault made: what it
// did to a frame, a close or reset it made, a refusal or a stall.
func (p *Proxy) countActed(es []Entry) {
	p.actedMu.Lock()
	defer p.actedMu.Unlock()
	for _, e := range es {
		if e.Fault != "" {
			p.acted[e.Fault]++
		}
	}
}

// add adds o's counters to d.
func (d *DirStatus) add(o DirStatus) {
	d.Frames += o.Frames
	d.Bytes += o.Bytes
	d.Delivered += o.Delivered
	d.Dropped += o.Dropped
	d.Delayed += o.Delayed
}
