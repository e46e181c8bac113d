package proxy

import (
	"github.com/wschaos/wschaos/chaos"
	"github.com/wschaos/wschaos/chaos/spec"
)

// builder reads FaultSpecs: the registered faults and selectors, less the
// faults that need a server that owns its sessions. Built once, never
// changed.
var builder = newBuilder()

func newBuilder() *spec.Builder {
	b := spec.Default()
	for _, s := range chaos.Spellings() {
		if s.OwnsSessions {
			b.Makers[s.Name] = needsSessions
		}
	}
	return b
}

// needsSessions refuses the faults that make the server start a new
// session: the proxy relays the upstream's sessions and cannot invent one.
func needsSessions([]string, map[string]string) (chaos.Fault, error) {
	return nil, specErr("fault", "needs a server that owns its sessions (the fake server); the proxy cannot make a new connection id")
}
