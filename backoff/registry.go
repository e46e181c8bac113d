package backoff

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"time"

	"github.com/wschaos/wschaos/internal/filecodec"
)

// A family is a Policy type a profile file can name: `family: exponential`
// and the type's `yaml`-tagged fields as its parameters. Each family
// registers itself in its own file; the registry is filled at init and
// only read after.
var families = map[string]func() Policy{}

// Register makes a family available to profile files by name. new returns
// a pointer to a zero value of the policy's type, whose exported fields
// with `yaml` tags are the family's parameters; a Validate() error method
// on that pointer checks them. Call it from an init function.
func Register(family string, new func() Policy) {
	if _, dup := families[family]; dup {
		panic("backoff: family " + family + " registered twice")
	}
	families[family] = new
}

// New returns a fresh pointer to the zero value of a family, and whether
// the family exists.
func New(family string) (Policy, bool) {
	f, ok := families[family]
	if !ok {
		return nil, false
	}
	return f(), true
}

// Families lists the registered family names, sorted.
func Families() []string {
	out := make([]string, 0, len(families))
	for k := range families {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// FamilyOf returns the registered name of p's type, "" for a policy no
// file can name (Limit, or a Go user's own type not registered).
func FamilyOf(p Policy) string {
	t := reflect.TypeOf(p)
	if t == nil {
		return ""
	}
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	for name, f := range families {
		if reflect.TypeOf(f()).Elem() == t {
			return name
		}
	}
	return ""
}

// PerClient is a policy with draws made once per client (a random minimum
// delay): ForClient makes them and returns the policy that client follows.
type PerClient interface {
	ForClient(rng *rand.Rand) Policy
}

// ForClient resolves p's per-client draws, if it has any.
func ForClient(p Policy, rng *rand.Rand) Policy {
	if pc, ok := p.(PerClient); ok {
		return pc.ForClient(rng)
	}
	return p
}

// Scale returns p with every duration multiplied by f: the same schedule,
// faster. It works on any struct policy by its fields, including a Limit's
// inner policy; a policy of another kind is an error, not a guess.
func Scale(p Policy, f float64) (Policy, error) {
	v := reflect.ValueOf(p)
	cp := reflect.New(v.Type()).Elem()
	cp.Set(v)
	if err := scaleValue(cp, f); err != nil {
		return nil, fmt.Errorf("cannot scale backoff %T: %w", p, err)
	}
	return cp.Interface().(Policy), nil
}

var durationType = reflect.TypeOf(time.Duration(0))

func scaleValue(v reflect.Value, f float64) error {
	if v.Type() == durationType {
		v.SetInt(int64(float64(v.Int()) * f))
		return nil
	}
	switch v.Kind() {
	case reflect.Struct:
		for i := range v.NumField() {
			if !v.Type().Field(i).IsExported() {
				return fmt.Errorf("unexported field %s", v.Type().Field(i).Name)
			}
			if err := scaleValue(v.Field(i), f); err != nil {
				return err
			}
		}
	case reflect.Slice:
		s := reflect.MakeSlice(v.Type(), v.Len(), v.Len())
		reflect.Copy(s, v)
		for i := range s.Len() {
			if err := scaleValue(s.Index(i), f); err != nil {
				return err
			}
		}
		v.Set(s)
	case reflect.Interface:
		if v.IsNil() {
			return nil
		}
		inner, ok := v.Interface().(Policy)
		if !ok {
			return fmt.Errorf("field of type %s", v.Type())
		}
		scaled, err := Scale(inner, f)
		if err != nil {
			return err
		}
		v.Set(reflect.ValueOf(scaled))
	case reflect.Pointer, reflect.Map, reflect.Func, reflect.Chan:
		return fmt.Errorf("field of kind %s", v.Kind())
	}
	return nil
}

func fieldErr(field, format string, args ...any) error {
	return &filecodec.FieldError{Field: field, Msg: fmt.Sprintf(format, args...)}
}
