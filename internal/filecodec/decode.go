// Package filecodec reads YAML (and JSON, which is YAML) into Go structs by
// their `yaml` tags, strictly: an unknown or misspelt key, a value of the
// wrong type or a negative duration is an error that names the line, never
// a silent default. It also writes such a struct back out, in its fields'
// order, as YAML for people or as JSON with durations in milliseconds for
// programs.
//
// It exists because profile files are hand-written by users who deserve
// "file:line: what is wrong" for every mistake, and the YAML library's own
// struct decoding reports neither every unknown key nor their lines.
package filecodec

import (
	"encoding"
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// Error is a mistake in a file, at a line (0 when the line is unknown).
type Error struct {
	Line int
	Msg  string
}

func (e *Error) Error() string {
	if e.Line <= 0 {
		return e.Msg
	}
	return fmt.Sprintf("%d: %s", e.Line, e.Msg)
}

// Errorf makes an Error at n's line.
func Errorf(n *yaml.Node, format string, args ...any) error {
	line := 0
	if n != nil {
		line = n.Line
	}
	return &Error{Line: line, Msg: fmt.Sprintf(format, args...)}
}

// FieldError is what a Validate method returns to blame one of its keys:
// the decoder reports it at that key's line.
type FieldError struct {
	Field string // the yaml key, as written in the file
	Msg   string
}

func (e *FieldError) Error() string { return e.Field + ": " + e.Msg }

// Validator is a struct that checks itself once decoded, for rules that
// span fields (a cap below the base, a mode without its interval).
type Validator interface{ Validate() error }

// Hook decodes a value of one type (an interface, typically) from its node
// by hand; the decoder calls it instead of decoding by reflection.
type Hook func(n *yaml.Node) (reflect.Value, error)

// Decoder holds the hooks for the types a file cannot describe by
// reflection alone.
type Decoder struct {
	Hooks map[reflect.Type]Hook
	// Millis reads durations as numbers of milliseconds, the form JSON
	// writes them in for programs; otherwise a duration is text with a
	// unit ("1.5s"), as people write it.
	Millis bool
}

// Parse reads YAML text into a document node.
func Parse(data []byte) (*yaml.Node, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, syntaxError(err)
	}
	if doc.Kind == 0 || len(doc.Content) == 0 {
		return nil, &Error{Line: 1, Msg: "the file is empty"}
	}
	return doc.Content[0], nil
}

// syntaxError turns the YAML library's "yaml: line N: msg" into an Error.
func syntaxError(err error) error {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	if rest, ok := strings.CutPrefix(msg, "line "); ok {
		if i := strings.Index(rest, ":"); i > 0 {
			if n, err := strconv.Atoi(rest[:i]); err == nil {
				return &Error{Line: n, Msg: strings.TrimSpace(rest[i+1:])}
			}
		}
	}
	return &Error{Msg: msg}
}

var (
	durationType  = reflect.TypeOf(time.Duration(0))
	rawType       = reflect.TypeOf(json.RawMessage(nil))
	unmarshalType = reflect.TypeOf((*encoding.TextUnmarshaler)(nil)).Elem()
)

// Decode fills the struct v points at from the mapping n.
func (d *Decoder) Decode(n *yaml.Node, v any) error {
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Pointer || rv.IsNil() {
		panic("filecodec: Decode needs a non-nil pointer")
	}
	return d.value(n, rv.Elem(), "", nil)
}

// DecodeFields fills the struct v points at from the mapping n, except the
// keys in skip, which the caller reads itself.
func (d *Decoder) DecodeFields(n *yaml.Node, v any, skip ...string) error {
	return d.structFields(n, reflect.ValueOf(v).Elem(), skip, nil)
}

// value decodes n into v; at is the key that names n, for errors about
// what n lacks (nil at the top).
func (d *Decoder) value(n *yaml.Node, v reflect.Value, what string, at *yaml.Node) error {
	if n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	if hook, ok := d.Hooks[v.Type()]; ok {
		got, err := hook(n)
		if err != nil {
			return err
		}
		v.Set(got)
		return nil
	}
	if v.Type() == rawType {
		var x any
		if err := n.Decode(&x); err != nil {
			return Errorf(n, "%s: %v", what, err)
		}
		b, err := json.Marshal(normalize(x))
		if err != nil {
			return Errorf(n, "%s: cannot be written as JSON: %v", what, err)
		}
		v.SetBytes(b)
		return nil
	}
	if v.Addr().Type().Implements(unmarshalType) {
		if n.Kind != yaml.ScalarNode {
			return Errorf(n, "%s: want a single value, got %s", what, kindName(n))
		}
		if err := v.Addr().Interface().(encoding.TextUnmarshaler).UnmarshalText([]byte(n.Value)); err != nil {
			return Errorf(n, "%s: %v", what, err)
		}
		return nil
	}
	if v.Type() == durationType {
		if d.Millis {
			return millis(n, v, what)
		}
		return duration(n, v, what)
	}
	switch v.Kind() {
	case reflect.Pointer:
		if isNull(n) {
			v.SetZero()
			return nil
		}
		p := reflect.New(v.Type().Elem())
		if err := d.value(n, p.Elem(), what, at); err != nil {
			return err
		}
		v.Set(p)
		return nil
	case reflect.Struct:
		return d.structFields(n, v, nil, at)
	case reflect.Slice:
		if n.Kind != yaml.SequenceNode {
			return Errorf(n, "%s: want a list, got %s", what, kindName(n))
		}
		s := reflect.MakeSlice(v.Type(), len(n.Content), len(n.Content))
		for i, item := range n.Content {
			if err := d.value(item, s.Index(i), fmt.Sprintf("%s[%d]", what, i), item); err != nil {
				return err
			}
		}
		v.Set(s)
		return nil
	case reflect.String:
		if n.Kind != yaml.ScalarNode || n.Tag == "!!null" {
			return Errorf(n, "%s: want a string, got %s", what, kindName(n))
		}
		v.SetString(n.Value)
		return nil
	case reflect.Bool:
		if n.Kind != yaml.ScalarNode || n.Tag != "!!bool" {
			return Errorf(n, "%s: want true or false, got %s", what, kindName(n))
		}
		v.SetBool(strings.EqualFold(n.Value, "true")) // YAML's core schema also reads True and TRUE
		return nil
	case reflect.Int, reflect.Int64:
		if n.Kind != yaml.ScalarNode || n.Tag != "!!int" {
			return Errorf(n, "%s: want a whole number, got %s", what, kindName(n))
		}
		i, err := strconv.ParseInt(n.Value, 0, 64)
		if err != nil || v.OverflowInt(i) {
			return Errorf(n, "%s: %q is not a whole number in range", what, n.Value)
		}
		if i < 0 {
			return Errorf(n, "%s: must not be negative, got %d", what, i)
		}
		v.SetInt(i)
		return nil
	case reflect.Float64:
		if n.Kind != yaml.ScalarNode || (n.Tag != "!!int" && n.Tag != "!!float") {
			return Errorf(n, "%s: want a number, got %s", what, kindName(n))
		}
		f, err := strconv.ParseFloat(n.Value, 64)
		if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
			return Errorf(n, "%s: %q is not a finite number", what, n.Value)
		}
		if f < 0 {
			return Errorf(n, "%s: must not be negative, got %v", what, f)
		}
		v.SetFloat(f)
		return nil
	}
	panic(fmt.Sprintf("filecodec: cannot decode into %v", v.Type()))
}

// duration reads "1.5s", "300ms" or a bare 0.
func duration(n *yaml.Node, v reflect.Value, what string) error {
	if n.Kind != yaml.ScalarNode || n.Tag == "!!null" {
		return Errorf(n, "%s: want a duration such as 1.5s or 300ms, got %s", what, kindName(n))
	}
	if n.Value == "0" {
		v.SetInt(0)
		return nil
	}
	dur, err := time.ParseDuration(n.Value)
	if err != nil {
		return Errorf(n, "%s: %q is not a duration: want a number with a unit, such as 1.5s or 300ms", what, n.Value)
	}
	if dur < 0 {
		return Errorf(n, "%s: must not be negative, got %s", what, n.Value)
	}
	v.SetInt(int64(dur))
	return nil
}

// millis reads a number of milliseconds.
func millis(n *yaml.Node, v reflect.Value, what string) error {
	if n.Kind != yaml.ScalarNode || (n.Tag != "!!int" && n.Tag != "!!float") {
		return Errorf(n, "%s: want a number of milliseconds, got %s", what, kindName(n))
	}
	f, err := strconv.ParseFloat(n.Value, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) || f < 0 || f > float64(math.MaxInt64)/float64(time.Millisecond) {
		return Errorf(n, "%s: %q is not a number of milliseconds in range", what, n.Value)
	}
	v.SetInt(int64(math.Round(f * float64(time.Millisecond))))
	return nil
}

// structFields decodes the mapping n into the struct v, key by key; the
// keys in skip are read by the caller. A missing key is blamed on at, the
// key that names the mapping, where there is one.
func (d *Decoder) structFields(n *yaml.Node, v reflect.Value, skip []string, at *yaml.Node) error {
	if n.Kind != yaml.MappingNode {
		return Errorf(n, "want a mapping of keys to values, got %s", kindName(n))
	}
	fields := Fields(v.Type())
	lines := map[string]*yaml.Node{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, val := n.Content[i], n.Content[i+1]
		if slices.Contains(skip, k.Value) {
			continue
		}
		if _, dup := lines[k.Value]; dup {
			return Errorf(k, "%s is given twice", k.Value)
		}
		lines[k.Value] = k
		f, ok := fields[k.Value]
		if !ok {
			known := append(keys(fields), skip...)
			slices.Sort(known)
			return Errorf(k, "unknown key %q%s; known keys: %s", k.Value, didYouMean(k.Value, known), strings.Join(known, ", "))
		}
		if err := d.value(val, v.FieldByIndex(f.Index), k.Value, k); err != nil {
			return err
		}
	}
	if val, ok := v.Addr().Interface().(Validator); ok {
		if err := val.Validate(); err != nil {
			if fe, ok := err.(*FieldError); ok {
				if k := lines[fe.Field]; k != nil {
					return Errorf(k, "%s: %s", fe.Field, fe.Msg)
				}
				if at != nil {
					return Errorf(at, "%s: %s: %s", at.Value, fe.Field, fe.Msg)
				}
				return Errorf(n, "%s: %s", fe.Field, fe.Msg)
			}
			if at != nil {
				return Errorf(at, "%s: %v", at.Value, err)
			}
			return Errorf(n, "%v", err)
		}
	}
	return nil
}

// Fields maps a struct type's yaml keys to its fields, in order; fields
// tagged "-" or untagged are not part of the file.
func Fields(t reflect.Type) map[string]reflect.StructField {
	out := map[string]reflect.StructField{}
	for _, f := range visibleFields(t) {
		out[key(f)] = f
	}
	return out
}

func visibleFields(t reflect.Type) []reflect.StructField {
	var out []reflect.StructField
	for _, f := range reflect.VisibleFields(t) {
		if !f.IsExported() || f.Anonymous {
			continue
		}
		if k := key(f); k != "" && k != "-" {
			out = append(out, f)
		}
	}
	return out
}

func key(f reflect.StructField) string {
	name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
	return name
}

func keys(fields map[string]reflect.StructField) []string {
	out := make([]string, 0, len(fields))
	for k := range fields {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

func isNull(n *yaml.Node) bool { return n.Kind == yaml.ScalarNode && n.Tag == "!!null" }

// kindName says what a node holds, for messages.
func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	}
	switch n.Tag {
	case "!!null":
		return "nothing"
	case "!!str":
		return fmt.Sprintf("the text %q", n.Value)
	case "!!bool":
		return "a boolean " + n.Value
	}
	return n.Value
}

// normalize makes a decoded YAML value JSON-marshallable (YAML allows maps
// with non-string keys).
func normalize(x any) any {
	switch t := x.(type) {
	case map[string]any:
		for k, v := range t {
			t[k] = normalize(v)
		}
	case map[any]any:
		m := map[string]any{}
		for k, v := range t {
			m[fmt.Sprint(k)] = normalize(v)
		}
		return m
	case []any:
		for i, v := range t {
			t[i] = normalize(v)
		}
	}
	return x
}

// didYouMean suggests the nearest known word, or "".
func didYouMean(word string, known []string) string {
	best, bestD := "", 3
	for _, k := range known {
		if d := distance(word, k); d < bestD {
			best, bestD = k, d
		}
	}
	if best == "" {
		return ""
	}
	return fmt.Sprintf(" (did you mean %q?)", best)
}

// DidYouMean is didYouMean for callers with their own word lists.
func DidYouMean(word string, known []string) string { return didYouMean(word, known) }

// distance is the Levenshtein distance between a and b.
func distance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
