package profile

import (
	"embed"
	"errors"
	"fmt"
	"os"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/wschaos/wschaos/backoff"
	"github.com/wschaos/wschaos/internal/filecodec"
)

// shipped holds the profiles wschaos ships, one file each, in the format
// any user's profile file has.
//
//go:embed profiles/*.yaml
var shipped embed.FS

// Names lists the shipped profiles, "queue" and "mattermost" first.
func Names() []string {
	entries, err := shipped.ReadDir("profiles")
	if err != nil {
		panic(err)
	}
	names := []string{"queue", "mattermost"}
	for _, e := range entries {
		if n := strings.TrimSuffix(e.Name(), ".yaml"); !slices.Contains(names, n) {
			names = append(names, n)
		}
	}
	return names
}

// ByName returns a fresh copy of a shipped profile, or nil.
func ByName(name string) *Profile {
	data, err := shipped.ReadFile("profiles/" + name + ".yaml")
	if err != nil || strings.ContainsAny(name, "/\\") {
		return nil
	}
	p, err := Parse(data, "profiles/"+name+".yaml")
	if err != nil {
		panic(fmt.Sprintf("profile: shipped profile %s is broken: %v", name, err))
	}
	return p
}

// ShippedSource returns the file a shipped profile is read from.
func ShippedSource(name string) ([]byte, bool) {
	data, err := shipped.ReadFile("profiles/" + name + ".yaml")
	return data, err == nil
}

// QueueProfile returns the shipped profile "queue".
func QueueProfile() *Profile { return ByName("queue") }

// MattermostProfile returns the shipped profile "mattermost".
func MattermostProfile() *Profile { return ByName("mattermost") }

// Resolve returns a shipped profile by name, or reads a profile file: what
// --profile NAME|FILE means on every command.
func Resolve(nameOrFile string) (*Profile, error) {
	if p := ByName(nameOrFile); p != nil {
		return p, nil
	}
	if _, err := os.Stat(nameOrFile); err == nil || strings.ContainsAny(nameOrFile, "/\\.") {
		return Load(nameOrFile)
	}
	return nil, fmt.Errorf("unknown profile %q%s: want one of %s, or a profile file's path",
		nameOrFile, filecodec.DidYouMean(nameOrFile, Names()), strings.Join(Names(), ", "))
}

// Load reads a profile file (YAML or JSON). Every error reads
// "file:line: what is wrong".
func Load(file string) (*Profile, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("cannot read profile: %w", err)
	}
	return Parse(data, file)
}

// Parse reads a profile from data; file names it in errors.
func Parse(data []byte, file string) (*Profile, error) {
	p, err := parse(data, false)
	if err != nil {
		var fe *filecodec.Error
		if errors.As(err, &fe) && fe.Line > 0 {
			return nil, fmt.Errorf("%s:%d: %s", file, fe.Line, fe.Msg)
		}
		return nil, fmt.Errorf("%s: %v", file, err)
	}
	return p, nil
}

// DecodeJSON reads a profile in the adapter protocol's form (JSON, every
// duration a number of milliseconds), as JSON writes it.
func DecodeJSON(data []byte) (*Profile, error) {
	p, err := parse(data, true)
	var fe *filecodec.Error
	if errors.As(err, &fe) {
		return nil, errors.New(fe.Msg) // one line of JSON: no line to name
	}
	return p, err
}

func parse(data []byte, millis bool) (*Profile, error) {
	root, err := filecodec.Parse(data)
	if err != nil {
		return nil, err
	}
	p := &Profile{}
	d := &filecodec.Decoder{Millis: millis, Hooks: map[reflect.Type]filecodec.Hook{
		reflect.TypeOf((*Codec)(nil)).Elem(): decodeCodec,
		reflect.TypeOf((*backoff.Policy)(nil)).Elem(): func(n *yaml.Node) (reflect.Value, error) {
			pol, err := decodeBackoff(n, p, millis)
			return reflect.ValueOf(&pol).Elem(), err
		},
	}}
	if err := d.Decode(root, p); err != nil {
		return nil, err
	}
	return p, nil
}

// pick finds the key naming a registered type (codec, family) and
// returns its value.
func pick(n *yaml.Node, key string, known []string, what string) (string, error) {
	if n.Kind != yaml.MappingNode {
		return "", filecodec.Errorf(n, "%s: want a mapping with %q, got something else", what, key)
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			v := n.Content[i+1]
			if !slices.Contains(known, v.Value) {
				return "", filecodec.Errorf(v, "%s: unknown %s %q%s; known: %s", what, key, v.Value,
					filecodec.DidYouMean(v.Value, known), strings.Join(known, ", "))
			}
			return v.Value, nil
		}
	}
	return "", filecodec.Errorf(n, "%s: %s is required (one of %s)", what, key, strings.Join(known, ", "))
}

func decodeCodec(n *yaml.Node) (reflect.Value, error) {
	name, err := pick(n, "codec", CodecNames(), "envelope")
	if err != nil {
		return reflect.Value{}, err
	}
	ptr := codecs[name]()
	d := &filecodec.Decoder{} // codecs have no durations
	if err := d.DecodeFields(n, ptr, "codec"); err != nil {
		return reflect.Value{}, err
	}
	c := reflect.ValueOf(ptr).Elem().Interface().(Codec)
	return reflect.ValueOf(&c).Elem(), nil
}

// retries is a count of reconnects, or "unlimited".
type retries struct {
	n   int
	set bool
}

func (r *retries) UnmarshalText(b []byte) error {
	s := string(b)
	if s == "unlimited" {
		*r = retries{}
		return nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 {
		return fmt.Errorf("%q: want a whole number of reconnects, or unlimited", s)
	}
	*r = retries{n: n, set: true}
	return nil
}

// backoffRest are the backoff keys that belong to no family.
type backoffRest struct {
	Retries    retries       `yaml:"retries"`
	ResetAfter time.Duration `yaml:"reset_after"`
}

// decodeBackoff reads `family`, the family's parameters, and the keys every
// family shares: retries (a Limit around it) and reset_after (p.ResetAfter).
func decodeBackoff(n *yaml.Node, p *Profile, millis bool) (backoff.Policy, error) {
	family, err := pick(n, "family", backoff.Families(), "backoff")
	if err != nil {
		return nil, err
	}
	ptr, _ := backoff.New(family)
	d := &filecodec.Decoder{Millis: millis}
	if err := d.DecodeFields(n, ptr, "family", "retries", "reset_after"); err != nil {
		return nil, err
	}
	pol := reflect.ValueOf(ptr).Elem().Interface().(backoff.Policy)
	sub := &yaml.Node{Kind: yaml.MappingNode, Line: n.Line}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if k := n.Content[i].Value; k == "retries" || k == "reset_after" {
			sub.Content = append(sub.Content, n.Content[i], n.Content[i+1])
		}
	}
	var rest backoffRest
	if err := d.Decode(sub, &rest); err != nil {
		return nil, err
	}
	p.ResetAfter = rest.ResetAfter
	if rest.Retries.set {
		pol = backoff.Limit{Policy: pol, Attempts: rest.Retries.n}
	}
	return pol, nil
}
