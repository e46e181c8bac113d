package profile

import (
	"fmt"
	"slices"
	"time"

	"github.com/wschaos/wschaos/backoff"
)

// Clone returns a deep copy of p: nothing the copy holds is shared.
func (p *Profile) Clone() *Profile {
	cp := *p
	if p.Resume != nil {
		r := *p.Resume
		cp.Resume = &r
	}
	if h := p.Connect.Handshake; h != nil {
		hc := *h
		hc.Data = slices.Clone(h.Data)
		cp.Connect.Handshake = &hc
	}
	cp.Close.Fatal = slices.Clone(p.Close.Fatal)
	return &cp
}

// Scaled returns a copy of p with every duration multiplied by f: the same
// contract, faster (f < 1) or slower. A real client run by the harness gets
// the scaled profile, so a 30 s heartbeat takes 7.5 s at 0.25.
func (p *Profile) Scaled(f float64) (*Profile, error) {
	if f <= 0 || f > 10 {
		return nil, fmt.Errorf("scale %v: want a factor in (0, 10]", f)
	}
	cp := p.Clone()
	b, err := backoff.Scale(p.Backoff, f)
	if err != nil {
		return nil, fmt.Errorf("profile %s: %w", p.Name, err)
	}
	cp.Backoff = b
	by := func(d *time.Duration) { *d = time.Duration(float64(*d) * f) }
	by(&cp.Connect.Timeout)
	by(&cp.ResetAfter)
	by(&cp.Heartbeat.Interval)
	by(&cp.Heartbeat.Timeout)
	return cp, nil
}
