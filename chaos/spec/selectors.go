package spec

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/wschaos/wschaos/chaos"
	"github.com/wschaos/wschaos/profile"
)

// defaultSelectors are the selectors of the chaos package, narrowest
// first.
func defaultSelectors() []Selector {
	return []Selector{
		{Key: "field", Frames: true, Aim: field},
		{Key: "type", Frames: true, Aim: func(f chaos.Fault, v string) (chaos.Fault, error) { return chaos.Type(v, f), nil }},
		{Key: "index", Frames: true, Aim: index},
		{Key: "dir", Frames: true, Aim: dir},
		{Key: "every", Aim: counted(chaos.EveryNth)},
		{Key: "prob", Aim: prob},
		{Key: "first", Aim: counted(chaos.FirstN)},
		{Key: "from", Aim: counted(chaos.FromAttempt)},
		{Key: "attempts", Aim: attempts},
		{Key: "during", Aim: during},
	}
}

// sides are the values of the dir selector.
var sides = map[string]profile.Side{"client": profile.Client, "server": profile.Server}

// field reads PATH=VALUE: frames whose JSON has VALUE at PATH, a
// selector that needs no profile.
func field(f chaos.Fault, v string) (chaos.Fault, error) {
	path, value, err := chaos.ParseField(v)
	if err != nil {
		return nil, err
	}
	return chaos.MatchField(path, value, f), nil
}

func index(f chaos.Fault, v string) (chaos.Fault, error) {
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		return nil, fmt.Errorf("%q: want a frame number from 1", v)
	}
	return chaos.Index(n, f), nil
}

func dir(f chaos.Fault, v string) (chaos.Fault, error) {
	side, ok := sides[v]
	if !ok {
		return nil, fmt.Errorf(`%q: want "client" or "server"`, v)
	}
	return chaos.Dir(side, f), nil
}

func prob(f chaos.Fault, v string) (chaos.Fault, error) {
	p, err := strconv.ParseFloat(v, 64)
	if err != nil || !(p >= 0 && p <= 1) { // NaN too
		return nil, fmt.Errorf("%q: want a probability in [0, 1]", v)
	}
	return chaos.Probability(p, f), nil
}

// counted makes a selector whose value is a count from 1.
func counted(sel func(int, chaos.Fault) chaos.Fault) func(chaos.Fault, string) (chaos.Fault, error) {
	return func(f chaos.Fault, v string) (chaos.Fault, error) {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return nil, fmt.Errorf("%q: want a positive count", v)
		}
		return sel(n, f), nil
	}
}

// attempts reads "2", "1,3" or "2-4"; a range is kept as its ends, so
// "1-1000000000" costs no more than "1-2".
func attempts(f chaos.Fault, v string) (chaos.Fault, error) {
	spans, err := chaos.ParseSpans(v)
	if err != nil {
		return nil, err
	}
	return chaos.InAttempts(spans, f), nil
}

// during reads FROM..TO, or FROM.. for a window with no end.
func during(f chaos.Fault, v string) (chaos.Fault, error) {
	a, b, ok := strings.Cut(v, "..")
	from, err1 := chaos.ParseDuration(a)
	if ok && err1 == nil && b == "" {
		return chaos.During(from, 0, f), nil
	}
	to, err2 := chaos.ParseDuration(b)
	if !ok || err1 != nil || err2 != nil || to <= from {
		return nil, fmt.Errorf("%q: want FROM..TO, two durations like 10s..1m, or FROM.. for no end", v)
	}
	return chaos.During(from, to, f), nil
}
