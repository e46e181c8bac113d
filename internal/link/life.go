package link

import (
	"fmt"

	"github.com/wschaos/wschaos/chaos"
)

// Life is where a connection is in its life, and which fault black-holed
// it.
type Life struct {
	State State
	// HoleBy is the fault that black-holed the connection.
	HoleBy string
	// OnSet, if set, hears of each change Set makes (the proxy's status).
	OnSet func(State)
}

// Set moves the connection to s.
func (l *Life) Set(s State) {
	l.State = s
	if l.OnSet != nil {
		l.OnSet(s)
	}
}

// Cut makes the part of cut k, on behalf of fault by, that both servers
// make alike, recording it through fs, and reports whether the server must
// still make the rest: a close frame, a FIN or an RST. A cut on a closing
// connection is not done; a black hole silences the connection; a close
// frame into a black hole is swallowed. side names the closer in that
// record: "server", "proxy".
func (l *Life) Cut(fs *Faults, k chaos.Cut, by, side string) bool {
	if l.State == Closing || l.State == Ended {
		fs.Record(by, k.String()+" not done: the connection is already closing", nil)
		return false
	}
	switch k.Kind {
	case chaos.BlackHole:
		if l.State != Hole {
			l.Set(Hole)
			l.HoleBy = by
			fs.Record(by, "black hole: nothing flows either way from now on", nil)
		}
		return false
	case chaos.CloseFrame:
		if l.State == Hole {
			fs.Record(l.HoleBy, fmt.Sprintf("swallowed %s close %d %q", side, k.Code, k.Reason), nil)
			return false
		}
	case chaos.FIN, chaos.RST:
	default:
		fs.Record(by, fmt.Sprintf("unknown cut kind %d: ignored", k.Kind), nil)
		return false
	}
	return true
}
