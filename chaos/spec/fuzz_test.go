package spec_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/wschaos/wschaos/chaos/spec"
)

// FuzzBuild: any words either build a fault or fail with an *Error naming
// a field; nothing panics.
func FuzzBuild(f *testing.F) {
	for _, s := range []string{"refuse 503 attempts=1-3", "delay-pongs 29.999s every=2", "close-after 10s code=1001 reason=x",
		"drop type=posted index=3 dir=server prob=0.5", "stall forever during=1s..2s", "seq-gap 3 first=1 from=2"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, line string) {
		name, args, sel := spec.Words(strings.Fields(line))
		if name == "" {
			return
		}
		fault, err := spec.Default().Build(name, args, sel)
		if err != nil {
			var se *spec.Error
			if !errors.As(err, &se) || se.Field == "" {
				t.Fatalf("error %v names no field", err)
			}
			return
		}
		if fault == nil || fault.String() == "" {
			t.Fatalf("%q built a fault with no name", line)
		}
	})
}
