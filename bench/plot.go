package bench

import (
	"bufio"
	"fmt"
	"io"
	"math"
	"strings"
	"time"
)

// histogram is one panel of a grid: counts per bin of virtual time.
type histogram struct {
	bin    time.Duration
	counts []int
	// shade, when positive, greys [0, shade) of the panel's time axis
	// and says why in shadeNote.
	shade     time.Duration
	shadeNote string
}

// grid is small multiples of histograms: one row per subject, one column
// per condition, each column on its own time axis and each panel on its
// own count axis (its peak is printed beside it, so panels compare by
// number, and shape is never flattened by another panel's peak).
type grid struct {
	title, subtitle, note string
	columns               []string
	rows                  []string
	cells                 [][]histogram // [row][column]
	xLabel, yLabel        string
}

// Layout of a grid, in pixels.
const (
	plotLabelWidth  = 190 // row names, left of the panels
	plotPanelWidth  = 430
	plotPanelHeight = 86
	plotGapX        = 56  // between columns: room for the next count axis
	plotGapY        = 44  // between rows: room for the time axis
	plotTop         = 108 // title, subtitle, note and column heads
	plotBottom      = 8
	plotFont        = "font-family=\"Helvetica, Arial, sans-serif\""
	plotBarColour   = "#2f6690"
	plotShadeColour = "#f3d9d9"
)

// writeSVG draws g as a standalone SVG document.
func (g grid) writeSVG(w io.Writer) error {
	bw := bufio.NewWriter(w)
	width := plotLabelWidth + len(g.columns)*(plotPanelWidth+plotGapX)
	height := plotTop + len(g.rows)*(plotPanelHeight+plotGapY) + plotBottom
	fmt.Fprintf(bw, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" %s font-size="12">`+"\n",
		width, height, width, height, plotFont)
	fmt.Fprintf(bw, `<rect width="%d" height="%d" fill="white"/>`+"\n", width, height)
	fmt.Fprintf(bw, `<text x="16" y="28" font-size="18" font-weight="bold">%s</text>`+"\n", esc(g.title))
	fmt.Fprintf(bw, `<text x="16" y="50" fill="#444">%s</text>`+"\n", esc(g.subtitle))
	fmt.Fprintf(bw, `<text x="16" y="66" fill="#444">%s</text>`+"\n", esc(g.note))
	for c, name := range g.columns {
		x := plotLabelWidth + c*(plotPanelWidth+plotGapX)
		fmt.Fprintf(bw, `<text x="%d" y="%d" font-size="14" font-weight="bold">%s</text>`+"\n", x, plotTop-16, esc(name))
	}
	spans := g.spans()
	for r, name := range g.rows {
		y := plotTop + r*(plotPanelHeight+plotGapY)
		fmt.Fprintf(bw, `<text x="16" y="%d" font-size="13">%s</text>`+"\n", y+plotPanelHeight/2, esc(name))
		for c := range g.columns {
			x := plotLabelWidth + c*(plotPanelWidth+plotGapX)
			g.cells[r][c].draw(bw, x, y, spans[c], r == len(g.rows)-1, g.xLabel, g.yLabel)
		}
	}
	fmt.Fprintln(bw, "</svg>")
	return bw.Flush()
}

// spans is each column's time axis: the latest bin of any of its panels,
// rounded up to a whole tick.
func (g grid) spans() []time.Duration {
	out := make([]time.Duration, len(g.columns))
	for c := range g.columns {
		for r := range g.rows {
			h := g.cells[r][c]
			out[c] = max(out[c], time.Duration(len(h.counts))*h.bin, h.shade)
		}
		tick := timeTick(out[c])
		out[c] = (out[c] + tick - 1) / tick * tick
	}
	return out
}

// draw draws one panel with its top-left corner at (x, y), its time axis
// spanning span; labels says whether to name the axes under it.
func (h histogram) draw(w io.Writer, x, y int, span time.Duration, labels bool, xLabel, yLabel string) {
	peak, at := 0, 0
	for i, n := range h.counts {
		if n > peak {
			peak, at = n, i
		}
	}
	top := niceCeil(peak)
	px := func(t time.Duration) float64 { return float64(x) + float64(plotPanelWidth)*float64(t)/float64(span) }
	py := func(n int) float64 {
		return float64(y+plotPanelHeight) - float64(plotPanelHeight)*float64(n)/float64(top)
	}
	base := y + plotPanelHeight

	if h.shade > 0 {
		fmt.Fprintf(w, `<rect x="%d" y="%d" width="%.1f" height="%d" fill="%s"/>`+"\n",
			x, y, px(h.shade)-float64(x), plotPanelHeight, plotShadeColour)
		fmt.Fprintf(w, `<text x="%d" y="%d" font-size="10" fill="#a33">%s</text>`+"\n", x+4, y+12, esc(h.shadeNote))
	}
	for i, n := range h.counts {
		if n == 0 {
			continue
		}
		x0, x1 := px(time.Duration(i)*h.bin), px(time.Duration(i+1)*h.bin)
		fmt.Fprintf(w, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="%s"/>`+"\n",
			x0, py(n), max(x1-x0-0.3, 0.6), py(0)-py(n), plotBarColour)
	}
	// Axes: counts on the left (0 and the top), time below.
	fmt.Fprintf(w, `<path d="M%d %d V%d H%d" fill="none" stroke="#333"/>`+"\n", x, y, base, x+plotPanelWidth)
	fmt.Fprintf(w, `<text x="%d" y="%d" text-anchor="end" font-size="10">%d</text>`+"\n", x-4, y+4, top)
	fmt.Fprintf(w, `<text x="%d" y="%d" text-anchor="end" font-size="10">0</text>`+"\n", x-4, base+4)
	tick := timeTick(span)
	for t := time.Duration(0); t <= span; t += tick {
		fmt.Fprintf(w, `<path d="M%.1f %d v4" stroke="#333"/>`+"\n", px(t), base)
		fmt.Fprintf(w, `<text x="%.1f" y="%d" text-anchor="middle" font-size="10">%g</text>`+"\n", px(t), base+15, t.Seconds())
	}
	if peak > 0 {
		fmt.Fprintf(w, `<text x="%d" y="%d" text-anchor="end" font-size="11" fill="#222">peak %d at %v–%v</text>`+"\n",
			x+plotPanelWidth, y+12, peak, time.Duration(at)*h.bin, time.Duration(at+1)*h.bin)
	}
	if labels {
		fmt.Fprintf(w, `<text x="%d" y="%d" text-anchor="middle" font-size="11" fill="#444">%s</text>`+"\n",
			x+plotPanelWidth/2, base+30, esc(xLabel))
		fmt.Fprintf(w, `<text x="%d" y="%d" font-size="11" fill="#444">%s</text>`+"\n", x, base+30, esc(yLabel))
	}
}

// timeTick is the spacing of time-axis ticks: about ten along span.
func timeTick(span time.Duration) time.Duration {
	for _, t := range []time.Duration{500 * time.Millisecond, time.Second, 2 * time.Second, 5 * time.Second, 10 * time.Second} {
		if span <= 12*t {
			return t
		}
	}
	return time.Minute
}

// niceCeil rounds n up to 1, 2 or 5 times a power of ten (at least 1),
// so a count axis ends on a round number.
func niceCeil(n int) int {
	if n <= 1 {
		return 1
	}
	p := math.Pow(10, math.Floor(math.Log10(float64(n))))
	for _, m := range []float64{1, 2, 5, 10} {
		if float64(n) <= m*p {
			return int(m * p)
		}
	}
	return int(10 * p)
}

// esc escapes text for SVG character data and attribute values.
var esc = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;").Replace
