package spec_test

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wschaos/wschaos/chaos/spec"
)

var update = flag.Bool("update", false, "rewrite the fault tables of the docs from the registry")

const (
	tableBegin = "<!-- fault table: made by `go test ./chaos/spec -run TestDocs -update`; do not edit -->\n"
	tableEnd   = "<!-- end of fault table -->"
)

// The docs' fault tables are the registry's: a fault added, renamed or
// reworded fails this test until the docs are made again with -update.
func TestDocsFaultTablesAreTheRegistrys(t *testing.T) {
	want := spec.FaultTable()
	for _, doc := range []string{"README.md", "docs/scenarios.md"} {
		path := filepath.Join("..", "..", doc)
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		text := string(b)
		i := strings.Index(text, tableBegin)
		j := strings.Index(text, tableEnd)
		if i < 0 || j < i {
			t.Errorf("%s: no fault table between %q and %q", doc, strings.TrimSpace(tableBegin), tableEnd)
			continue
		}
		got := text[i+len(tableBegin) : j]
		if got == want {
			continue
		}
		if !*update {
			t.Errorf("%s: the fault table is stale; run go test ./chaos/spec -run TestDocs -update\ngot:\n%s\nwant:\n%s", doc, got, want)
			continue
		}
		text = text[:i+len(tableBegin)] + want + text[j:]
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func TestFaultTableNamesWhereEachActs(t *testing.T) {
	table := spec.FaultTable()
	for _, row := range []string{
		"| `refuse STATUS [retry-after=D]` | handshake |",
		"| `close-after D [code=N] [reason=TEXT]` | connection |",
		"| `drop` | frames |",
		"(fake server only",
	} {
		if !strings.Contains(table, row) {
			t.Errorf("table lacks %q:\n%s", row, table)
		}
	}
}
