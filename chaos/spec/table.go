package spec

import (
	"fmt"
	"strings"

	"github.com/wschaos/wschaos/chaos"
)

// FaultTable writes the registered faults as a Markdown table: the words,
// where each acts, and what it does. The README and docs/scenarios.md carry
// it between markers, made by `go test ./chaos/spec -run TestDocs -update`
// and checked by the same test, so the docs cannot fall behind a fault.
func FaultTable() string {
	var b strings.Builder
	b.WriteString("| fault | acts on | what it does |\n|---|---|---|\n")
	for _, s := range chaos.Spellings() {
		words := s.Name
		if s.Usage != "" {
			words += " " + s.Usage
		}
		doc := s.Doc
		if s.OwnsSessions {
			doc += " (fake server only: the proxy relays the upstream's sessions)"
		}
		fmt.Fprintf(&b, "| `%s` | %s | %s |\n", strings.ReplaceAll(words, "|", `\|`), actsOn(s), strings.ReplaceAll(doc, "|", `\|`))
	}
	return b.String()
}

// actsOn names the capabilities of the fault s's example builds.
func actsOn(s chaos.Spelling) string {
	name, args, opts := Words(strings.Fields(s.Example))
	f, err := Default().Build(name, args, opts)
	if err != nil {
		return "?"
	}
	var on []string
	if _, ok := f.(chaos.HandshakeFault); ok {
		on = append(on, "handshake")
	}
	if _, ok := f.(chaos.ConnFault); ok {
		on = append(on, "connection")
	}
	if _, ok := f.(chaos.FrameFault); ok {
		on = append(on, "frames")
	}
	return strings.Join(on, ", ")
}
