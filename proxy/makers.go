package proxy

import (
	"fmt"

	"github.com/wschaos/wschaos/chaos"
	"github.com/wschaos/wschaos/chaos/spec"
	"github.com/wschaos/wschaos/profile"
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
	b.Makers["new-session-on-resume"] = needsSessions
	b.Makers["new-hello-after"] = needsSessions
	field := spec.Selector{Key: "field", Frames: true, Aim: matchField}
	b.Selectors = append([]spec.Selector{field}, b.Selectors...)
	return b
}

func makeBandwidth(args []string, _ map[string]string) (chaos.Fault, error) {
	n, err := spec.IntArg(args, 0, "a rate in bytes per second")
	if err == nil && n < 1 {
		err = specErr("args[0]", "%d: want a positive rate in bytes per second", n)
	}
	if err != nil {
		return nil, err
	}
	return Bandwidth(int64(n)), nil
}

func makeCutAfter(args []string, sel map[string]string) (chaos.Fault, error) {
	n, err := spec.IntArg(args, 0, "a frame count")
	if err == nil && n < 1 {
		err = specErr("args[0]", "%d: want a frame count from 1", n)
	}
	if err != nil {
		return nil, err
	}
	k, err := cutArg(args, 1, sel)
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

// cutArg reads how a cut-after cuts: args[i] "fin" (the default), "rst" or
// "black-hole", or a close frame with select code (and reason).
func cutArg(args []string, i int, sel map[string]string) (chaos.Cut, error) {
	if _, ok := sel["code"]; ok {
		code, err := spec.CloseCode(sel, profile.StatusGoingAway)
		if err != nil {
			return chaos.Cut{}, err
		}
		reason, err := spec.CloseReason(sel)
		return chaos.Cut{Kind: chaos.CloseFrame, Code: code, Reason: reason}, err
	}
	kind := "fin"
	if len(args) > i {
		kind = args[i]
	}
	switch kind {
	case "fin":
		return chaos.Cut{Kind: chaos.FIN}, nil
	case "rst":
		return chaos.Cut{Kind: chaos.RST}, nil
	case "black-hole":
		return chaos.Cut{Kind: chaos.BlackHole}, nil
	}
	return chaos.Cut{}, specErr(fmt.Sprintf("args[%d]", i), `%q: want "fin", "rst" or "black-hole" (or select code=N for a close frame)`, kind)
}
