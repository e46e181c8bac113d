package bench

import (
	"bytes"
	"encoding/xml"
	"io"
	"strings"
	"testing"
	"time"
)

func TestGridSVG(t *testing.T) {
	g := grid{
		title: "a & b", subtitle: "<sub>", columns: []string{"one", "two"}, rows: []string{"r1", "r2"},
		cells: [][]histogram{
			{{bin: 100 * time.Millisecond, counts: []int{0, 3, 7}}, {bin: time.Second, counts: []int{1}, shade: 2 * time.Second, shadeNote: "down"}},
			{{bin: 100 * time.Millisecond}, {bin: time.Second, counts: []int{0, 0, 120}}},
		},
		xLabel: "seconds", yLabel: "per bin",
	}
	var buf bytes.Buffer
	if err := g.writeSVG(&buf); err != nil {
		t.Fatal(err)
	}
	svg := buf.String()
	d := xml.NewDecoder(strings.NewReader(svg))
	for {
		if _, err := d.Token(); err == io.EOF {
			break
		} else if err != nil {
			t.Fatalf("not well-formed XML: %v", err)
		}
	}
	for _, want := range []string{"a &amp; b", "&lt;sub&gt;", "peak 7 at 200ms–300ms", "peak 120 at 2s–3s", ">down<"} {
		if !strings.Contains(svg, want) {
			t.Errorf("SVG lacks %q", want)
		}
	}
}

func TestNiceCeil(t *testing.T) {
	for n, want := range map[int]int{0: 1, 1: 1, 2: 2, 3: 5, 7: 10, 10: 10, 11: 20, 281: 500, 1285: 2000, 5000: 5000} {
		if got := niceCeil(n); got != want {
			t.Errorf("niceCeil(%d) = %d, want %d", n, got, want)
		}
	}
}

func TestPercentile(t *testing.T) {
	ds := []time.Duration{5, 1, 4, 2, 3}
	for p, want := range map[float64]time.Duration{0.2: 1, 0.5: 3, 0.99: 5, 1: 5} {
		if got := percentile(ds, p); got != want {
			t.Errorf("percentile(%v) = %v, want %v", p, got, want)
		}
	}
}
