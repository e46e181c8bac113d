package chaos

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
)

// MatchField applies the frame fault f to frames whose raw JSON has value
// at path: a dot-separated path of object keys ("event", "data.user_id").
// value is compared with the field as JSON text ("42", "true") or, for a
// string field, with the string itself ("posted"). It works without a
// profile, on any JSON frame; other frames never match. Like Match,
// which it builds on, it gates only frames and panics if f is not a frame
// fault.
func MatchField(path, value string, f Fault) Fault {
	mustFrame("MatchField", f)
	keys := strings.Split(path, ".")
	return wrap(&gate{name: "field=" + path + "=" + value, inner: f, where: func(fr Frame) bool { return fieldIs(fr.Data, keys, value) }})
}

// fieldIs reports whether the JSON in data has value at keys.
func fieldIs(data []byte, keys []string, value string) bool {
	raw := json.RawMessage(data)
	for _, k := range keys {
		var obj map[string]json.RawMessage
		if json.Unmarshal(raw, &obj) != nil {
			return false
		}
		var ok bool
		if raw, ok = obj[k]; !ok {
			return false
		}
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s == value
	}
	return bytes.Equal(bytes.TrimSpace(raw), []byte(value))
}

// ParseField reads a field selector "path=value" (or "path==value").
func ParseField(v string) (path, value string, err error) {
	path, value, ok := strings.Cut(v, "=")
	value = strings.TrimPrefix(value, "=")
	path, value = strings.TrimSpace(path), strings.TrimSpace(value)
	if !ok || path == "" || strings.Contains(path, "..") || strings.HasPrefix(path, ".") || strings.HasSuffix(path, ".") {
		return "", "", fmt.Errorf(`want PATH=VALUE, like event=posted or data.user_id=u1, got %q`, v)
	}
	return path, strings.Trim(value, `"`), nil
}
