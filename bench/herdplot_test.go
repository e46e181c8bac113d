package bench

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var (
	writePlot = flag.Bool("write-plot", false,
		"TestHerdPlot: run the herds and write docs/herd.svg (a few minutes)")
	plotClients = flag.Int("plot-clients", 5000, "TestHerdPlot: clients per herd")
	plotSeed    = flag.Uint64("plot-seed", 1, "TestHerdPlot: seed of the clients' jitter")
)

const (
	// plotOutage is the second condition of the plot: the server refuses
	// every reconnect for this long after the drop, as a restart would,
	// so the retries come in waves.
	plotOutage = 5 * time.Second
	// plotFile is where the plot goes, from this package's directory.
	plotFile = "../docs/herd.svg"
)

// TestHerdPlot runs a herd per policy, with the server back at once and
// with the server refusing for plotOutage, draws the reconnect attempts
// per 100 ms as docs/herd.svg, and prints the table BENCHMARKS.md quotes:
//
//	go test ./bench -run TestHerdPlot -v -timeout 30m -args -write-plot
func TestHerdPlot(t *testing.T) {
	if !*writePlot {
		t.Skip("run with -args -write-plot to draw docs/herd.svg")
	}
	outages := []time.Duration{0, plotOutage}
	n := herdSize(t, *plotClients)
	g := grid{
		title: fmt.Sprintf("Thundering herd: %d reference clients dropped at once", n),
		subtitle: fmt.Sprintf("Reconnect attempts per 100 ms of virtual time after the drop (close 1001 on every connection), "+
			"per backoff policy; seed %d, real loopback sockets, one shared virtual clock.", *plotSeed),
		note: "Each bar is one 100 ms step of the clock: an attempt due within a step is made at its end, " +
			"the bar's right edge. Each panel has its own count axis; its peak is printed.",
		columns: []string{"server accepts at once", fmt.Sprintf("server refuses (503) for %v", plotOutage)},
		xLabel:  "seconds after the drop (virtual)",
		yLabel:  "attempts / 100 ms",
	}
	var table strings.Builder
	table.WriteString("| policy | server | peak / 100 ms | at | attempts / client | median back | last back | wall |\n")
	table.WriteString("|---|---|---:|---|---:|---:|---:|---:|\n")
	for _, hp := range herdPolicies {
		g.rows = append(g.rows, hp.name)
		var row []histogram
		for _, outage := range outages {
			start := time.Now()
			r := runHerd(t, hp.policy, n, outage, *plotSeed)
			wall := time.Since(start)
			h := histogram{bin: herdStep, counts: r.bins()}
			server := "accepts"
			if outage > 0 {
				h.shade, h.shadeNote = outage, "refusing"
				server = fmt.Sprintf("refuses %v", outage)
			}
			row = append(row, h)
			peak, at := r.peak()
			fmt.Fprintf(&table, "| %s | %s | %d | %v–%v | %.2f | %v | %v | %.1f s |\n", hp.name, server, peak,
				time.Duration(at)*herdStep, time.Duration(at+1)*herdStep, float64(len(r.attempts))/float64(r.clients),
				r.backAt(0.5), r.backAt(1), wall.Seconds())
		}
		g.cells = append(g.cells, row)
	}
	if err := os.MkdirAll(filepath.Dir(plotFile), 0o755); err != nil {
		t.Fatal(err)
	}
	f, err := os.Create(plotFile)
	if err != nil {
		t.Fatal(err)
	}
	if err := g.writeSVG(f); err != nil {
		f.Close()
		t.Fatalf("failed to write %s: %v", plotFile, err)
	}
	if err := f.Close(); err != nil {
		t.Fatalf("failed to write %s: %v", plotFile, err)
	}
	fmt.Print(table.String())
}
