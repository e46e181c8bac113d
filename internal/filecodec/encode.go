package filecodec

import (
	"bytes"
	"encoding"
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"time"

	"go.yaml.in/yaml/v3"
)

// Map is an ordered mapping, as a file writes it.
type Map []KV

// KV is one key of a Map.
type KV struct {
	Key   string
	Value any // a scalar, time.Duration, json.RawMessage, Map or []any
}

// Get returns the value of key k, or nil.
func (m Map) Get(k string) any {
	for _, kv := range m {
		if kv.Key == k {
			return kv.Value
		}
	}
	return nil
}

// EncodeHook writes a value of one type by hand (an interface field).
type EncodeHook func(v reflect.Value) (any, error)

// Encoder holds the hooks for types not written by reflection.
type Encoder struct {
	Hooks map[reflect.Type]EncodeHook
}

var marshalType = reflect.TypeOf((*encoding.TextMarshaler)(nil)).Elem()

// Encode turns a struct into a Map, field by field in declaration order.
// Fields tagged `omitempty` are left out when zero.
func (e *Encoder) Encode(v any) (Map, error) {
	got, err := e.value(reflect.ValueOf(v))
	if err != nil {
		return nil, err
	}
	m, ok := got.(Map)
	if !ok {
		return nil, fmt.Errorf("filecodec: %T is not a struct", v)
	}
	return m, nil
}

func (e *Encoder) value(v reflect.Value) (any, error) {
	if hook, ok := e.Hooks[v.Type()]; ok {
		return hook(v)
	}
	if v.Type() == rawType {
		return json.RawMessage(v.Bytes()), nil
	}
	if v.Type() == durationType {
		return time.Duration(v.Int()), nil
	}
	if v.Type().Implements(marshalType) && v.Kind() != reflect.Pointer {
		b, err := v.Interface().(encoding.TextMarshaler).MarshalText()
		if err != nil {
			return nil, err
		}
		return textScalar(string(b)), nil
	}
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if v.IsNil() {
			return nil, nil
		}
		return e.value(v.Elem())
	case reflect.Struct:
		var m Map
		for _, f := range visibleFields(v.Type()) {
			fv := v.FieldByIndex(f.Index)
			if omitEmpty(f) && fv.IsZero() {
				continue
			}
			x, err := e.value(fv)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", key(f), err)
			}
			m = append(m, KV{key(f), x})
		}
		return m, nil
	case reflect.Slice:
		out := make([]any, v.Len())
		for i := range out {
			x, err := e.value(v.Index(i))
			if err != nil {
				return nil, err
			}
			out[i] = x
		}
		return out, nil
	}
	return v.Interface(), nil
}

// textScalar keeps a TextMarshaler's number a number ("1000", not "\"1000\"").
func textScalar(s string) any {
	if i, err := strconv.ParseInt(s, 10, 64); err == nil {
		return i
	}
	return s
}

func omitEmpty(f reflect.StructField) bool {
	_, opts, _ := cutTag(f.Tag.Get("yaml"))
	return opts == "omitempty"
}

func cutTag(tag string) (string, string, bool) {
	for i := range tag {
		if tag[i] == ',' {
			return tag[:i], tag[i+1:], true
		}
	}
	return tag, "", false
}

// YAML writes a Map as YAML text; durations as "1.5s".
func YAML(m Map) ([]byte, error) {
	n := yamlNode(m)
	var b bytes.Buffer
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(n); err != nil {
		return nil, err
	}
	return b.Bytes(), enc.Close()
}

func yamlNode(x any) *yaml.Node {
	switch t := x.(type) {
	case Map:
		n := &yaml.Node{Kind: yaml.MappingNode}
		for _, kv := range t {
			n.Content = append(n.Content, &yaml.Node{Kind: yaml.ScalarNode, Value: kv.Key}, yamlNode(kv.Value))
		}
		return n
	case []any:
		n := &yaml.Node{Kind: yaml.SequenceNode, Style: yaml.FlowStyle}
		for _, v := range t {
			c := yamlNode(v)
			if c.Kind != yaml.ScalarNode {
				n.Style = 0
			}
			n.Content = append(n.Content, c)
		}
		return n
	case time.Duration:
		return &yaml.Node{Kind: yaml.ScalarNode, Value: FormatDuration(t)}
	case json.RawMessage:
		dec := json.NewDecoder(bytes.NewReader(t))
		dec.UseNumber() // a number is written as it was, not through float64
		var v any
		if len(t) == 0 || dec.Decode(&v) != nil {
			return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!null", Value: "null"}
		}
		n := jsonNode(v)
		n.Style |= yaml.FlowStyle
		return n
	case nil:
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!null", Value: "null"}
	}
	var n yaml.Node
	n.Encode(x)
	return &n
}

// jsonNode writes a value decoded from JSON (numbers as json.Number) as a
// YAML node, keys in sorted order as JSON writes them.
func jsonNode(v any) *yaml.Node {
	switch t := v.(type) {
	case json.Number:
		tag := "!!int"
		if _, err := t.Int64(); err != nil {
			tag = "!!float"
		}
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: tag, Value: t.String()}
	case map[string]any:
		n := &yaml.Node{Kind: yaml.MappingNode}
		ks := make([]string, 0, len(t))
		for k := range t {
			ks = append(ks, k)
		}
		slices.Sort(ks)
		for _, k := range ks {
			n.Content = append(n.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: k}, jsonNode(t[k]))
		}
		return n
	case []any:
		n := &yaml.Node{Kind: yaml.SequenceNode}
		for _, x := range t {
			n.Content = append(n.Content, jsonNode(x))
		}
		return n
	}
	var n yaml.Node
	n.Encode(v)
	return &n
}

// FormatDuration writes d the way a person would type it: 1.5s, 300ms, 5m0s
// becomes 5m.
func FormatDuration(d time.Duration) string {
	if d == 0 {
		return "0s"
	}
	s := d.String()
	for _, suffix := range []string{"m0s", "h0m"} {
		if len(s) > len(suffix) && s[len(s)-len(suffix):] == suffix {
			s = s[:len(s)-len(suffix)+1]
		}
	}
	return s
}

// JSON writes a Map as one line of JSON for a program: durations are
// numbers of milliseconds.
func JSON(m Map) ([]byte, error) {
	var b bytes.Buffer
	if err := writeJSON(&b, m); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

func writeJSON(b *bytes.Buffer, x any) error {
	switch t := x.(type) {
	case Map:
		b.WriteByte('{')
		for i, kv := range t {
			if i > 0 {
				b.WriteByte(',')
			}
			k, _ := json.Marshal(kv.Key)
			b.Write(k)
			b.WriteByte(':')
			if err := writeJSON(b, kv.Value); err != nil {
				return err
			}
		}
		b.WriteByte('}')
		return nil
	case []any:
		b.WriteByte('[')
		for i, v := range t {
			if i > 0 {
				b.WriteByte(',')
			}
			if err := writeJSON(b, v); err != nil {
				return err
			}
		}
		b.WriteByte(']')
		return nil
	case time.Duration:
		b.WriteString(strconv.FormatFloat(float64(t)/float64(time.Millisecond), 'f', -1, 64))
		return nil
	case json.RawMessage:
		if len(t) == 0 {
			b.WriteString("null")
			return nil
		}
		return json.Compact(b, t)
	}
	out, err := json.Marshal(x)
	if err != nil {
		return err
	}
	b.Write(out)
	return nil
}
