package report

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/wschaos/wschaos/conform"
)

// The timeline picture's geometry, in SVG units: pixels when the picture
// is shown at its natural size. Inside a row, shapes are drawn in the
// row's own coordinates (0 at its top, 15 its centre line); the
// template holds those fixed offsets, this file the positions in time.
const (
	tlWidth  = 1000 // the page's content column
	tlLabelW = 64   // left of the plot: the attempt labels ("#12", "server")
	tlRightW = 40   // right of the plot: half the last tick label, a close code
	tlTop    = 8    // above the first row
	tlRowH   = 30   // one connection attempt
	tlAxisH  = 40   // below the rows: axis line, ticks, labels and the unit
	tlMinW   = 2    // an open of no time still shows
	tlWinW   = 4    // a window of one instant shows on both sides of the reconnect line on it
	tlLabelR = 36   // room a close code or status needs right of its marker
	tlGaveUp = 60   // the narrowest gave-up band that has room for its label
	tlNoDial = 50   // room "no dial" needs right of its band
	tlCharW  = 5.5  // one character of a command's 9px label
)

// timeline is everything the timeline template draws for one scenario.
type timeline struct {
	Width, Height       float64
	PlotLeft, PlotRight float64
	PlotWidth, AxisY    float64
	Top                 float64
	Ticks               []tick
	Rows                []row
	End                 string
}

// row is one connection attempt, drawn back to front: its wait before it
// dialed, the open connection, then the point events.
type row struct {
	Attempt int
	Label   string
	Y       float64
	Shade   bool // every other row, so a long row is easy to follow
	Waits   []waitShape
	Bars    []bar
	Marks   []marker
	// Commands: the client row's commands, each from when it was given
	// to its reply.
	Commands []commandShape
}

// commandShape is one command given to the client: a diamond when it
// was sent, a line to its reply, a dot at the reply, red if refused.
type commandShape struct {
	X, ReplyX float64
	Label     string // the command's verb: connect, send, close
	OK        bool
	Title     string
}

// bar is an open connection, from its open to its close (or the end).
type bar struct {
	X, W  float64
	Title string
}

// marker is one instant of the transcript. Kind is its class in the
// picture: dial, refuse, close or fault.
type marker struct {
	Kind  string
	X     float64
	Label string // the status of a refuse, the code of a close
	Left  bool   // put Label left of the marker: no room on the right
	Title string
}

// waitShape is one judged reconnect wait: the checked bounds [Lo, Hi]
// (Wide), the profile's window [Min, Max] (Win), both after From, and the
// point the client actually dialed.
type waitShape struct {
	FromX        float64
	WideX, WideW float64
	WinX, WinW   float64
	PointX       float64
	Point        bool // the client dialed: there is a point to draw
	OK           bool
	NoDialX      float64 // where "no dial" is written when the client never dialed
	NoDialLeft   bool    // no room right of the band: write it left, ending at NoDialX
	GaveUp       bool    // no dial was due: the band is the rest of the run
	GaveUpW      float64 // the width of that band
	GaveUpLabel  bool    // the band is wide enough to say so, and no dial is in the way
	Title        string
}

// newTimeline lays out r's marks and waits on a time axis from 0 to r.End
// (further, if a mark lies beyond it).
func newTimeline(r conform.Result) timeline {
	end := timelineEnd(r)
	tl := timeline{
		Width:    tlWidth,
		PlotLeft: tlLabelW, PlotRight: tlWidth - tlRightW, Top: tlTop,
		End: human(end),
	}
	tl.PlotWidth = tl.PlotRight - tl.PlotLeft
	x := func(t time.Duration) float64 {
		t = min(max(t, 0), end)
		return tl.PlotLeft + float64(t)/float64(end)*tl.PlotWidth
	}
	if len(r.Commands) > 0 {
		tl.Rows = append(tl.Rows, commandRow(r.Commands, x))
	}
	for _, a := range attempts(r) {
		rw := row{Attempt: a, Label: fmt.Sprintf("#%d", a)}
		if a == 0 {
			rw.Label = "server"
		}
		rw.Bars, rw.Marks = connection(r.Marks, a, end, x, tl.Width)
		for _, w := range r.Waits {
			if w.Attempt == a {
				rw.Waits = append(rw.Waits, waitOf(w, dialed(r.Marks, a), end, x))
			}
		}
		tl.Rows = append(tl.Rows, rw)
	}
	for i := range tl.Rows {
		tl.Rows[i].Y, tl.Rows[i].Shade = tlTop+float64(i)*tlRowH, i%2 == 1
	}
	tl.AxisY = tlTop + float64(len(tl.Rows))*tlRowH
	tl.Height = tl.AxisY + tlAxisH
	s := step(end)
	for t := time.Duration(0); t <= end; t += s {
		tl.Ticks = append(tl.Ticks, tick{X: x(t), Label: tickLabel(t, s)})
	}
	return tl
}

// commandRow is the row of the commands given to the client, above the
// attempts they led to: what the application asked for, beside what went
// over the wire.
func commandRow(cs []conform.Command, x func(time.Duration) float64) row {
	rw := row{Attempt: -1, Label: "client"}
	labelEnd := -1.0 // where the last label drawn ends: labels never overlap
	for _, c := range cs {
		verb, _, _ := strings.Cut(c.Command, " ")
		title := fmt.Sprintf("+%s %s\n→ %s, after %s", human(c.At), c.Command, c.Reply, human(c.ReplyAt-c.At))
		sh := commandShape{X: x(c.At), ReplyX: x(c.ReplyAt), OK: c.OK, Title: clean(title)}
		if w := tlCharW * float64(len(verb)); sh.X-w/2 > labelEnd {
			sh.Label, labelEnd = clean(verb), sh.X+w/2+tlCharW
		}
		rw.Commands = append(rw.Commands, sh)
	}
	return rw
}

// timelineEnd is the instant the axis ends at: r.End, stretched to the
// last mark if one lies beyond it, and never zero.
func timelineEnd(r conform.Result) time.Duration {
	end := r.End
	for _, m := range r.Marks {
		end = max(end, m.At)
	}
	for _, c := range r.Commands {
		end = max(end, c.ReplyAt)
	}
	if end <= 0 {
		end = time.Second
	}
	return end
}

// drawn says which transcript kinds the picture shows, and as what.
// Frames sent and received are left out: there can be hundreds, and the
// transcript lists them.
var drawn = map[string]string{
	"dial": "dial", "refuse": "refuse", "close": "close",
	"fault": "fault", "stall": "fault", "reset": "fault",
}

// attempts returns the rows to draw: every attempt with a drawn mark or a
// wait, in order; 0 stands for server-wide marks.
func attempts(r conform.Result) []int {
	var as []int
	for _, m := range r.Marks {
		if _, ok := drawn[m.Kind]; ok || m.Kind == "open" {
			as = append(as, m.Attempt)
		}
	}
	for _, w := range r.Waits {
		as = append(as, w.Attempt)
	}
	slices.Sort(as)
	return slices.Compact(as)
}

// connection returns attempt a's open bars and markers.
func connection(ms []conform.Mark, a int, end time.Duration, x func(time.Duration) float64, right float64) ([]bar, []marker) {
	var bars []bar
	var marks []marker
	for i, m := range ms {
		if m.Attempt != a {
			continue
		}
		if m.Kind == "open" {
			until, title := end, strings.TrimSpace(m.Text)+"\nstill open at the end"
			if c, ok := closeAfter(ms[i+1:], a); ok {
				until, title = c.At, strings.TrimSpace(m.Text)+"\n"+strings.TrimSpace(c.Text)
			}
			bars = append(bars, bar{X: x(m.At), W: max(x(until)-x(m.At), tlMinW), Title: clean(title)})
			continue
		}
		kind, ok := drawn[m.Kind]
		if !ok {
			continue
		}
		mk := marker{Kind: kind, X: x(m.At), Title: clean(strings.TrimSpace(m.Text))}
		if kind == "refuse" || kind == "close" {
			mk.Label = clean(wordAfter(m.Text, m.Kind))
			mk.Left = right-mk.X < tlLabelR
		}
		marks = append(marks, mk)
	}
	return bars, marks
}

// closeAfter finds the close of attempt a among the marks after its open.
func closeAfter(ms []conform.Mark, a int) (conform.Mark, bool) {
	for _, m := range ms {
		if m.Attempt == a && m.Kind == "close" {
			return m, true
		}
	}
	return conform.Mark{}, false
}

// dialed reports whether attempt a dialed at all.
func dialed(ms []conform.Mark, a int) bool {
	return slices.ContainsFunc(ms, func(m conform.Mark) bool { return m.Attempt == a && m.Kind == "dial" })
}

// wordAfter returns the word that follows kind in a transcript line: the
// status of "refuse 503", the code of "close 1006 by server".
func wordAfter(text, kind string) string {
	f := strings.Fields(text)
	if i := slices.Index(f, kind); i >= 0 && i+1 < len(f) {
		return f[i+1]
	}
	return ""
}

func waitOf(w conform.Wait, dialed bool, end time.Duration, x func(time.Duration) float64) waitShape {
	s := waitShape{
		FromX:  x(w.From),
		PointX: x(w.From + w.Waited),
		Point:  dialed,
		OK:     w.OK,
		GaveUp: w.GaveUp,
		Title:  clean(waitTitle(w, dialed)),
	}
	s.WideX, s.WideW = span(x(w.From+w.Lo), x(w.From+w.Hi), tlMinW, x(end))
	s.WinX, s.WinW = span(x(w.From+w.Min), x(w.From+w.Max), tlWinW, x(end))
	s.NoDialX = s.WideX + s.WideW + 6
	if s.NoDialX+tlNoDial > tlWidth {
		s.NoDialX, s.NoDialLeft = s.WideX-6, true
	}
	if w.GaveUp {
		s.GaveUpW = max(x(end)-s.FromX, tlMinW)
		s.GaveUpLabel = s.GaveUpW >= tlGaveUp && !dialed
	}
	return s
}

// span returns the x and width of the band from a to b, at least minW wide
// (widened about its middle) and kept left of right, the end of the axis.
func span(a, b, minW, right float64) (float64, float64) {
	if w := b - a; w < minW {
		a -= (minW - w) / 2
		b = a + minW
	}
	if b > right {
		a, b = a-(b-right), right
	}
	return a, b - a
}

func waitTitle(w conform.Wait, dialed bool) string {
	var b strings.Builder
	fmt.Fprintf(&b, "attempt #%d, after failure %d at %s\n", w.Attempt, w.Failure, human(w.From))
	switch {
	case w.GaveUp:
		b.WriteString("the profile had given up: no dial due\n")
	default:
		fmt.Fprintf(&b, "window %s, checked %s\n", window(w.Min, w.Max), window(w.Lo, w.Hi))
	}
	if dialed {
		fmt.Fprintf(&b, "waited %s: ", human(w.Waited))
	} else {
		b.WriteString("never dialed: ")
	}
	b.WriteString(verdict(w.OK))
	if w.Note != "" {
		b.WriteString("\n" + w.Note)
	}
	return b.String()
}

func verdict(ok bool) string {
	if ok {
		return "ok"
	}
	return "FAIL"
}
