package proxy_test

import (
	"strings"
	"testing"

	"github.com/wschaos/wschaos/proxy"
)

// FuzzReadSpecs: any faults file either reads or fails cleanly, and every
// spec it reads either builds or fails with an error; nothing panics.
func FuzzReadSpecs(f *testing.F) {
	f.Add(`[{"fault":"swallow-pongs"},{"fault":"drop","select":{"field":"event=posted","first":"1"}}]`)
	f.Add(`[{"fault":"refuse","args":[503],"select":{"attempts":"1-3"}}]`)
	f.Add(`[{"fault":"bandwidth","args":["1024"]},{"fault":"cut-after","args":["3","fin"]}]`)
	f.Add(`{"fault":"x"}`)
	f.Fuzz(func(t *testing.T, text string) {
		specs, err := proxy.ReadSpecs(strings.NewReader(text))
		if err != nil {
			return
		}
		for _, s := range specs {
			if fault, err := s.Build(); err == nil && fault == nil {
				t.Fatalf("%+v built nil without an error", s)
			}
		}
	})
}
