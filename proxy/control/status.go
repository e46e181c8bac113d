package control

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"time"

	"github.com/wschaos/wschaos/proxy"
)

// wireStatus reads GET /status as any proxy writes it. The API writes a
// connection's durations as numbers of milliseconds under names ending
// _ms; older proxies wrote Go duration strings without the suffix. Both
// are read here, so a client works with either proxy whatever
// proxy.Duration's own JSON is.
type wireStatus struct{ proxy.Status }

// connDurations names a connection's durations on the wire (without the
// _ms suffix) and where each goes.
var connDurations = []struct {
	name  string
	field func(*proxy.ConnStatus) *proxy.Duration
}{
	{"opened_at", func(c *proxy.ConnStatus) *proxy.Duration { return &c.OpenedAt }},
	{"closed_at", func(c *proxy.ConnStatus) *proxy.Duration { return &c.ClosedAt }},
	{"open_for", func(c *proxy.ConnStatus) *proxy.Duration { return &c.OpenFor }},
}

func (w *wireStatus) UnmarshalJSON(b []byte) error {
	var top map[string]json.RawMessage
	if err := json.Unmarshal(b, &top); err != nil {
		return err
	}
	var conns []map[string]json.RawMessage
	if raw, ok := top["connections"]; ok {
		if err := json.Unmarshal(raw, &conns); err != nil {
			return fmt.Errorf("connections: %w", err)
		}
		delete(top, "connections")
	}
	if err := remarshal(top, &w.Status); err != nil {
		return err
	}
	w.Connections = make([]proxy.ConnStatus, len(conns))
	for i, m := range conns {
		// The durations are taken out before the rest is decoded with
		// ConnStatus's own JSON, which then never sees them.
		ds := make([]time.Duration, len(connDurations))
		for j, d := range connDurations {
			v, err := takeDuration(m, d.name)
			if err != nil {
				return fmt.Errorf("connections[%d]: %w", i, err)
			}
			ds[j] = v
		}
		if err := remarshal(m, &w.Connections[i]); err != nil {
			return fmt.Errorf("connections[%d]: %w", i, err)
		}
		for j, d := range connDurations {
			*d.field(&w.Connections[i]) = proxy.Duration(ds[j])
		}
	}
	return nil
}

// takeDuration removes duration name from m, as NAME_ms (a number of
// milliseconds) or NAME (a Go duration string, or a number of
// milliseconds), and returns it; absent, it is 0.
func takeDuration(m map[string]json.RawMessage, name string) (time.Duration, error) {
	ms, hasMS := m[name+"_ms"]
	old, hasOld := m[name]
	delete(m, name+"_ms")
	delete(m, name)
	switch {
	case hasMS:
		return millis(name+"_ms", ms)
	case hasOld:
		var s string
		if json.Unmarshal(old, &s) != nil {
			return millis(name, old)
		}
		d, err := time.ParseDuration(s)
		if err != nil {
			return 0, fmt.Errorf("%s: %q is not a duration like 1.5s", name, s)
		}
		return d, nil
	}
	return 0, nil
}

// millis reads a JSON number of milliseconds, fractions allowed.
func millis(name string, raw json.RawMessage) (time.Duration, error) {
	var f float64
	if err := json.Unmarshal(raw, &f); err != nil || math.IsNaN(f) || math.Abs(f) > float64(math.MaxInt64/int64(time.Millisecond)) {
		return 0, fmt.Errorf("%s: %s is not a number of milliseconds", name, bytes.TrimSpace(raw))
	}
	return time.Duration(math.Round(f * float64(time.Millisecond))), nil
}

// remarshal decodes the fields left in m into out with out's own JSON.
func remarshal(m map[string]json.RawMessage, out any) error {
	b, err := json.Marshal(m)
	if err != nil {
		return err
	}
	return json.Unmarshal(b, out)
}
