package proxy

import (
	"github.com/wschaos/wschaos/chaos"
	"github.com/wschaos/wschaos/internal/link"
	"github.com/wschaos/wschaos/profile"
	"github.com/wschaos/wschaos/transcript"
)

// cutBy names the control API's cuts in the transcript, as a fault's
// name would: what made the cut.
const (
	cutBy     = "cut"
	disableBy = "disable"
)

// CutKinds are the kinds a CutSpec may name, in the order docs list them.
var CutKinds = []string{"rst", "fin", "black-hole", "code"}

// Cut makes, once, the cut spec describes on every connection open now,
// in attempt order, and returns how many it ended (or black-holed).
// Nothing stays installed: the client's next connection is relayed as
// usual, which is what a test that means "the network dropped now" wants
// and what a cut-after fault, which cuts every connection, is not.
func (p *Proxy) Cut(spec CutSpec) (CutResult, error) {
	k, err := spec.cut()
	if err != nil {
		return CutResult{}, err
	}
	return CutResult{Cut: p.cutOpen(k, cutBy)}, nil
}

// cut is the chaos.Cut spec describes; a *SpecError names the bad field.
func (spec CutSpec) cut() (chaos.Cut, error) {
	switch spec.Kind {
	case "rst":
		return chaos.Cut{Kind: chaos.RST}, nil
	case "fin":
		return chaos.Cut{Kind: chaos.FIN}, nil
	case "black-hole":
		return chaos.Cut{Kind: chaos.BlackHole}, nil
	case "code":
		if spec.Code == 0 {
			return chaos.Cut{}, specErr("code", `kind "code" needs a close code, e.g. {"kind":"code","code":1012}`)
		}
		if !chaos.ValidCloseCode(spec.Code) {
			return chaos.Cut{}, specErr("code", "%d: want a close code a client may receive: 1000-1003, 1007-1013 or 3000-4999", spec.Code)
		}
		if len(spec.Reason) > MaxCloseReason {
			return chaos.Cut{}, specErr("reason", "%d bytes: a close frame carries a reason of at most %d", len(spec.Reason), MaxCloseReason)
		}
		return chaos.Cut{Kind: chaos.CloseFrame, Code: profile.StatusCode(spec.Code), Reason: spec.Reason}, nil
	case "":
		return chaos.Cut{}, specErr("kind", `missing: want one of "rst", "fin", "black-hole", "code"`)
	}
	return chaos.Cut{}, specErr("kind", `%.40q: want one of "rst", "fin", "black-hole", "code"`, spec.Kind)
}

// cutOpen cuts every open connection with k, on behalf of by, and counts
// those it acted on: a connection already closing is left to finish, and
// a black hole counts only where it silenced an open one.
func (p *Proxy) cutOpen(k chaos.Cut, by string) int {
	n := 0
	for _, c := range p.openConns() {
		c.do(func() {
			if c.life.State == link.Open || c.life.State == link.Hole && k.Kind != chaos.BlackHole {
				n++
			}
			c.cut(k, by)
		})
	}
	return n
}

// Disable cuts every open connection with an RST and resets each new one
// as soon as it is accepted, until Enable; it returns how many it cut.
//
// The port stays bound while disabled: a closed listener lets another
// program take the port, so Enable could fail, and the proxy's URL would
// change under the test. A client sees what a crashed server gives it,
// a connection reset, and tries again on its schedule.
func (p *Proxy) Disable() int {
	p.disabled.Store(true)
	return p.cutOpen(chaos.Cut{Kind: chaos.RST}, disableBy)
}

// Enable accepts clients again after Disable.
func (p *Proxy) Enable() { p.disabled.Store(false) }

// Enabled reports whether the proxy accepts clients: not disabled.
func (p *Proxy) Enabled() bool { return !p.disabled.Load() }

// resetDisabled resets a connection the listener accepted while the proxy
// is disabled, and notes it; false leaves it to be served.
func (p *Proxy) resetDisabled(nc interface{ Close() error }) bool {
	if p.Enabled() {
		return false
	}
	if l, ok := nc.(interface{ SetLinger(int) error }); ok {
		l.SetLinger(0) // close sends RST instead of FIN
	}
	nc.Close()
	p.mu.Lock()
	p.refusedDisabled++
	p.mu.Unlock()
	p.record(Entry{Kind: transcript.KindNote, Note: "connection reset at accept: the proxy is disabled (POST /enable)"})
	return true
}
