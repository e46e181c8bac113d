package profile

import (
	"bytes"
	"encoding"
	"encoding/json"
	"fmt"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"go.yaml.in/yaml/v3"

	"github.com/wschaos/wschaos/backoff"
	"github.com/wschaos/wschaos/internal/filecodec"
)

const schemaFile = "profile.schema.json"

// compileSchema compiles profile.schema.json, checking it against the
// draft 2020-12 meta-schema on the way.
func compileSchema(t *testing.T) *jsonschema.Schema {
	t.Helper()
	f, err := os.Open(schemaFile)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	doc, err := jsonschema.UnmarshalJSON(f)
	if err != nil {
		t.Fatalf("%s is not JSON: %v", schemaFile, err)
	}
	c := jsonschema.NewCompiler()
	if err := c.AddResource(schemaFile, doc); err != nil {
		t.Fatal(err)
	}
	sch, err := c.Compile(schemaFile)
	if err != nil {
		t.Fatalf("%s does not compile: %v", schemaFile, err)
	}
	return sch
}

// instance reads a YAML (or JSON) profile file as the JSON value a schema
// validator sees.
func instance(text string) (any, error) {
	var v any
	if err := yaml.Unmarshal([]byte(text), &v); err != nil {
		return nil, err
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	return jsonschema.UnmarshalJSON(bytes.NewReader(b))
}

func validate(t *testing.T, sch *jsonschema.Schema, text string) error {
	t.Helper()
	v, err := instance(text)
	if err != nil {
		t.Fatalf("not YAML: %v\n%s", err, text)
	}
	return sch.Validate(v)
}

// Every shipped profile, as its file reads and as YAML writes it, is
// valid by the schema; so are the other good files.
func TestSchemaAcceptsEveryShippedProfile(t *testing.T) {
	sch := compileSchema(t)
	for _, name := range Names() {
		src, _ := ShippedSource(name)
		if err := validate(t, sch, string(src)); err != nil {
			t.Errorf("profiles/%s.yaml: %v", name, err)
		}
		y, err := YAML(ByName(name))
		if err != nil {
			t.Fatal(err)
		}
		if err := validate(t, sch, string(y)); err != nil {
			t.Errorf("YAML(%s): %v\n%s", name, err, y)
		}
	}
	for _, gf := range goodFiles {
		if err := validate(t, sch, gf.text); err != nil {
			t.Errorf("%s: %v", gf.name, err)
		}
	}
}

// The schema refuses every bad file the loader refuses that a schema can
// express: unknown keys, wrong types, values outside an enum or a range,
// missing keys.
func TestSchemaRefusesBadFiles(t *testing.T) {
	sch := compileSchema(t)
	if err := validate(t, sch, validFile); err != nil {
		t.Fatalf("the valid file every bad file breaks: %v", err)
	}
	for _, bf := range badFiles(t) {
		if !bf.schema {
			continue
		}
		if err := validate(t, sch, bf.text); err == nil {
			t.Errorf("%s: the schema accepts what the loader refuses (%s):\n%s", bf.name, bf.want, bf.text)
		}
	}
}

// TestSchemaHasEveryKeyTheLoaderReads walks the structs the loader fills,
// and the registered codecs and backoff families, against the schema's
// properties, both ways, so the two cannot drift apart: a key added to a
// struct and not to the schema fails here, and so does a schema key the
// loader would refuse.
func TestSchemaHasEveryKeyTheLoaderReads(t *testing.T) {
	raw, err := os.ReadFile(schemaFile)
	if err != nil {
		t.Fatal(err)
	}
	var root map[string]any
	if err := json.Unmarshal(raw, &root); err != nil {
		t.Fatal(err)
	}
	s := &schemaWalk{t: t, root: root}
	s.object("profile", root, reflect.TypeOf(Profile{}))

	rest := fieldKeys(reflect.TypeOf(backoffRest{}))
	s.registry("envelope", "codec", CodecNames(), func(name string) (reflect.Type, []string) {
		return reflect.TypeOf(codecs[name]()).Elem(), nil
	})
	s.registry("backoff", "family", backoff.Families(), func(name string) (reflect.Type, []string) {
		p, _ := backoff.New(name)
		return reflect.TypeOf(p).Elem(), rest
	})

	for _, e := range []struct {
		where string
		got   any
		want  []string
	}{
		{"heartbeat.mode", s.at("$defs", "heartbeat", "properties", "mode", "enum"), strs(heartbeatModes)},
		{"heartbeat.dead", s.at("$defs", "heartbeat", "properties", "dead", "enum"), strs(deadRules)},
		{"close.report", s.at("$defs", "close", "properties", "report", "enum"), strs(reports)},
		{"queue.full", s.at("$defs", "queue", "properties", "full", "enum"), strs(queueFulls)},
		{"backoff jitter", s.at("$defs", "backoff-exponential", "properties", "jitter", "enum"),
			strs([]backoff.Jitter{backoff.JitterNone, backoff.JitterFull, backoff.JitterEqual, backoff.JitterRatio})},
		{"json-array fields", s.at("$defs", "envelope-json-array", "properties", "fields", "items", "enum"), arrayRoles},
	} {
		if got := anyStrings(e.got); !slices.Equal(got, e.want) {
			t.Errorf("%s: the schema's enum is %v, the loader's %v", e.where, got, e.want)
		}
	}
}

// schemaWalk finds the schema of each struct the loader reads.
type schemaWalk struct {
	t    *testing.T
	root map[string]any
}

// at follows keys from the root; nil if any is missing.
func (s *schemaWalk) at(keys ...string) any {
	var v any = s.root
	for _, k := range keys {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[k]
	}
	return v
}

// resolve follows $ref, and picks the object branch of an anyOf with null.
func (s *schemaWalk) resolve(v any) map[string]any {
	m, _ := v.(map[string]any)
	for m != nil {
		if ref, ok := m["$ref"].(string); ok {
			m, _ = s.at(strings.Split(strings.TrimPrefix(ref, "#/"), "/")...).(map[string]any)
			continue
		}
		if alts, ok := m["anyOf"].([]any); ok && m["properties"] == nil {
			var obj map[string]any
			for _, a := range alts {
				if r := s.resolve(a); r != nil && r["type"] == "object" {
					obj = r
				}
			}
			return obj
		}
		return m
	}
	return nil
}

var (
	durationType     = reflect.TypeOf(time.Duration(0))
	textUnmarshaler  = reflect.TypeOf((*encoding.TextUnmarshaler)(nil)).Elem()
	codecInterface   = reflect.TypeOf((*Codec)(nil)).Elem()
	backoffInterface = reflect.TypeOf((*backoff.Policy)(nil)).Elem()
)

// object checks the schema obj has exactly the keys of struct typ, plus
// extra, and recurses into each field that is itself a struct.
func (s *schemaWalk) object(where string, obj map[string]any, typ reflect.Type, extra ...string) {
	if obj == nil {
		s.t.Errorf("%s: no object schema for %v", where, typ)
		return
	}
	if obj["additionalProperties"] != false {
		s.t.Errorf("%s: the schema allows unknown keys; the loader refuses them", where)
	}
	props, _ := obj["properties"].(map[string]any)
	want := append(fieldKeys(typ), extra...)
	slices.Sort(want)
	got := make([]string, 0, len(props))
	for k := range props {
		got = append(got, k)
	}
	slices.Sort(got)
	for _, k := range want {
		if _, ok := props[k]; !ok {
			s.t.Errorf("%s: the loader reads %q, the schema does not have it", where, k)
		}
	}
	for _, k := range got {
		if !slices.Contains(want, k) {
			s.t.Errorf("%s: the schema has %q, the loader refuses it", where, k)
		}
	}
	for k, f := range filecodec.Fields(typ) {
		ft := f.Type
		if ft.Kind() == reflect.Pointer {
			ft = ft.Elem()
		}
		if ft.Kind() != reflect.Struct || ft == durationType || reflect.PointerTo(ft).Implements(textUnmarshaler) {
			continue
		}
		s.object(where+"."+k, s.resolve(props[k]), ft)
	}
	if where == "profile" {
		for _, k := range []string{"envelope", "backoff"} {
			if ft := filecodec.Fields(typ)[k].Type; ft != codecInterface && ft != backoffInterface {
				s.t.Errorf("%s: %s is a %v, not the registry interface this test expects", where, k, ft)
			}
		}
	}
}

// registry checks a section read from a registry (codec, family): its
// names are the enum, each has an if/then to its own definition
// "<section>-<name>", and that definition is the registered type's keys.
func (s *schemaWalk) registry(section, key string, names []string, typeOf func(string) (reflect.Type, []string)) {
	def := s.resolve(s.at("properties", section))
	if def == nil {
		s.t.Fatalf("no schema for %s", section)
	}
	if got := anyStrings(s.at("$defs", section, "properties", key, "enum")); !slices.Equal(got, names) {
		s.t.Errorf("%s.%s: the schema's enum is %v, the registry's %v", section, key, got, names)
	}
	branches := map[string]string{}
	for _, b := range def["allOf"].([]any) {
		bm := b.(map[string]any)
		name, _ := s.resolveAt(bm, "if", "properties", key, "const").(string)
		ref, _ := s.resolveAt(bm, "then", "$ref").(string)
		branches[name] = ref
	}
	for _, name := range names {
		defName := section + "-" + name
		if branches[name] != "#/$defs/"+defName {
			s.t.Errorf("%s: no if %s: %s then $ref #/$defs/%s", section, key, name, defName)
		}
		typ, extra := typeOf(name)
		obj := s.resolve(s.at("$defs", defName))
		s.object(defName, obj, typ, append([]string{key}, extra...)...)
		if c := s.resolveAt(obj, "properties", key, "const"); c != name {
			s.t.Errorf("%s: %s is %v in its own definition, want %q", defName, key, c, name)
		}
	}
}

func (s *schemaWalk) resolveAt(m map[string]any, keys ...string) any {
	var v any = m
	for _, k := range keys {
		mm, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = mm[k]
	}
	return v
}

func fieldKeys(t reflect.Type) []string {
	var out []string
	for k := range filecodec.Fields(t) {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

func strs[S ~string](xs []S) []string {
	out := make([]string, len(xs))
	for i, x := range xs {
		out[i] = string(x)
	}
	return out
}

func anyStrings(v any) []string {
	xs, _ := v.([]any)
	out := make([]string, len(xs))
	for i, x := range xs {
		out[i] = fmt.Sprint(x)
	}
	return out
}
