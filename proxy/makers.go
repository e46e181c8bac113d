package proxy

import (
	"github.com/wschaos/wschaos/chaos"
	"github.com/wschaos/wschaos/chaos/spec"
)

// builder reads FaultSpecs: the scenario files' vocabulary, plus the
// proxy's own faults (bandwidth, cut-after) and field selector, less the
// faults that need a server that owns its sessions. Built once, never
// changed.
var builder = newBuilder()

func newBuilder() *spec.Builder {
	b := spec.Default()
	b.Makers["bandwidth"] = makeBandwidth
	b.Makers["cut-after"] = makeCutAfter
	for _, s := range chaos.Spellings() {
		if s.OwnsSessions {
			b.Makers[s.Name] = needsSessions
		}
	}
	field := spec.Selector{Key: "field", Frames: true, Aim: matchField}
	b.Selectors = append([]spec.Selector{field}, b.Selectors...)
	return b
}

func makeBandwidth(args []string, _ map[string]string) (chaos.Fault, error) {
	n, err := chaos.IntArg(args, 0, "a rate in bytes per second")
	if err == nil && n < 1 {
		err = specErr("args[0]", "%d: want a positive rate in bytes per second", n)
	}
	if err != nil {
		return nil, err
	}
	return Bandwidth(int64(n)), nil
}

func makeCutAfter(args []string, sel map[string]string) (chaos.Fault, error) {
	n, err := chaos.CountArg(args, 0, "a frame count")
	if err != nil {
		return nil, err
	}
	k, err := chaos.CutArg(args, 1, sel, chaos.Cut{Kind: chaos.FIN})
	if err != nil {
		return nil, err
	}
	return CutAfterFrames(n, k), nil
}

// matchField is the field selector: "path=value".
func matchField(f chaos.Fault, v string) (chaos.Fault, error) {
	path, value, err := parseField(v)
	if err != nil {
		return nil, err
	}
	return MatchField(path, value, f), nil
}

// needsSessions refuses the faults that make the server start a new
// session: the proxy relays the upstream's sessions and cannot invent one.
func needsSessions([]string, map[string]string) (chaos.Fault, error) {
	return nil, specErr("fault", "needs a server that owns its sessions (the fake server); the proxy cannot make a new connection id")
}
