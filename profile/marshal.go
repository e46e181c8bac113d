package profile

import (
	"fmt"
	"reflect"

	"github.com/wschaos/wschaos/backoff"
	"github.com/wschaos/wschaos/internal/filecodec"
)

// Encode returns the profile in its file form, every key in the order the
// file format gives it: what `wschaos profile show` prints and what the
// adapter protocol's connect carries.
func Encode(p *Profile) (filecodec.Map, error) {
	e := &filecodec.Encoder{Hooks: map[reflect.Type]filecodec.EncodeHook{
		reflect.TypeOf((*Codec)(nil)).Elem(): func(v reflect.Value) (any, error) {
			c, _ := v.Interface().(Codec)
			name := CodecName(c)
			if name == "" {
				return nil, fmt.Errorf("codec %T is not registered (profile.RegisterCodec)", c)
			}
			return registered("codec", name, c)
		},
		reflect.TypeOf((*backoff.Policy)(nil)).Elem(): func(v reflect.Value) (any, error) {
			return encodeBackoff(v.Interface().(backoff.Policy), p)
		},
	}}
	return e.Encode(*p)
}

// registered writes a registered value as its name key, then its fields.
func registered(key, name string, v any) (filecodec.Map, error) {
	fields, err := (&filecodec.Encoder{}).Encode(v)
	if err != nil {
		return nil, err
	}
	return append(filecodec.Map{{Key: key, Value: name}}, fields...), nil
}

func encodeBackoff(pol backoff.Policy, p *Profile) (filecodec.Map, error) {
	var retries any = "unlimited"
	if l, ok := pol.(backoff.Limit); ok {
		pol, retries = l.Policy, l.Attempts
	}
	family := backoff.FamilyOf(pol)
	if family == "" {
		return nil, fmt.Errorf("backoff %T is not a registered family (backoff.Register)", pol)
	}
	m, err := registered("family", family, pol)
	if err != nil {
		return nil, err
	}
	return append(m, filecodec.KV{Key: "retries", Value: retries}, filecodec.KV{Key: "reset_after", Value: p.ResetAfter}), nil
}

// YAML is the profile as a YAML file reads.
func YAML(p *Profile) ([]byte, error) {
	m, err := Encode(p)
	if err != nil {
		return nil, err
	}
	return filecodec.YAML(m)
}

// JSON is the profile as one line of JSON, durations in milliseconds: the
// adapter protocol's form.
func JSON(p *Profile) ([]byte, error) {
	m, err := Encode(p)
	if err != nil {
		return nil, err
	}
	return filecodec.JSON(m)
}
