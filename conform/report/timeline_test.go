package report

import (
	"math"
	"testing"
	"time"

	"github.com/wschaos/wschaos/conform"
)

func TestStepAndTickLabels(t *testing.T) {
	for _, c := range []struct {
		end   time.Duration
		step  time.Duration
		label string // of the third tick, 2·step
	}{
		{3200 * ms, 500 * ms, "1s"},
		{8500 * ms, time.Second, "2s"},
		{10 * time.Second, time.Second, "2s"},
		{11 * time.Second, 2 * time.Second, "4s"},
		{900 * ms, 100 * ms, "0.2s"},
		{90 * ms, 10 * ms, "20ms"},
		{2 * ms, 200 * time.Microsecond, "0.4ms"},
		{50 * time.Microsecond, 5 * time.Microsecond, "10µs"},
		{5 * time.Minute, 50 * time.Second, "100s"},
	} {
		s := step(c.end)
		if s != c.step {
			t.Errorf("step(%v) = %v, want %v", c.end, s, c.step)
			continue
		}
		if got := tickLabel(2*s, s); got != c.label {
			t.Errorf("tick 2 of %v: %q, want %q", c.end, got, c.label)
		}
		if got := tickLabel(0, s); got != "0" {
			t.Errorf("tick 0: %q", got)
		}
	}
}

// x is where the timeline puts t.
func x(tl timeline, t, end time.Duration) float64 {
	return tl.PlotLeft + float64(t)/float64(end)*tl.PlotWidth
}

func near(a, b float64) bool { return math.Abs(a-b) < 0.01 }

func TestTimelineRowsAndShapes(t *testing.T) {
	r := passing()
	tl := newTimeline(r)
	if len(tl.Rows) != 4 {
		t.Fatalf("%d rows, want one per attempt (4)", len(tl.Rows))
	}
	if tl.Ticks[len(tl.Ticks)-1].Label != "3s" || !near(tl.Ticks[0].X, tl.PlotLeft) {
		t.Errorf("ticks %+v, want 0 at the left to 3s", tl.Ticks)
	}
	first := tl.Rows[0]
	if first.Label != "#1" || len(first.Bars) != 1 || len(first.Marks) != 3 {
		t.Fatalf("row #1: %+v, want a bar and dial, fault, close", first)
	}
	if b := first.Bars[0]; !near(b.X+b.W, x(tl, 600*ms, r.End)) {
		t.Errorf("the open bar of #1 ends at %v, want its close at 600ms", b.X+b.W)
	}
	if c := first.Marks[2]; c.Kind != "close" || c.Label != "1006" {
		t.Errorf("close marker %+v, want code 1006", c)
	}
	if m := tl.Rows[1].Marks[1]; m.Kind != "refuse" || m.Label != "503" {
		t.Errorf("refuse marker %+v, want status 503", m)
	}
	w := tl.Rows[1].Waits[0]
	if !w.Point || !w.OK || !near(w.PointX, x(tl, 863*ms, r.End)) {
		t.Errorf("the wait before #2: %+v, want an ok point at its dial, 863ms", w)
	}
	if w.PointX < w.WideX || w.PointX > w.WideX+w.WideW {
		t.Errorf("an ok point at %v lies outside its checked band [%v, %v]", w.PointX, w.WideX, w.WideX+w.WideW)
	}
	if last := tl.Rows[3].Marks; last[len(last)-1].Left {
		t.Error("the close code at 3.1s of 3.2s is put left of its marker, over the bar, though the picture has room")
	}
}

func TestTimelineWaitsWithoutADial(t *testing.T) {
	r := failing()
	// Attempt 8: a wait the client never dialed for, past the end.
	r.Waits = append(r.Waits, conform.Wait{Attempt: 8, Failure: 7, From: 8 * time.Second, Min: time.Second, Max: time.Second, Lo: 950 * ms, Hi: 1550 * ms})
	tl := newTimeline(r)
	rows := map[string]row{}
	for _, rw := range tl.Rows {
		rows[rw.Label] = rw
	}
	gave := rows["#7"].Waits[0]
	if !gave.GaveUp || gave.OK || !gave.Point || gave.GaveUpLabel || !near(gave.FromX+gave.GaveUpW, tl.PlotRight) {
		t.Errorf("the gave-up wait: %+v, want a failed point in a band to the end, unlabelled", gave)
	}
	never := rows["#8"].Waits[0]
	if never.Point || never.OK {
		t.Errorf("the wait never dialed: %+v, want no point", never)
	}
	if !never.NoDialLeft || never.NoDialX > never.WideX {
		t.Errorf("the wait never dialed at the end: %+v, want its label left of the band", never)
	}
	if never.WideX+never.WideW > tl.PlotRight+0.01 {
		t.Errorf("a band past the end is drawn past the axis: %v > %v", never.WideX+never.WideW, tl.PlotRight)
	}
}

func TestTimelineOfNothing(t *testing.T) {
	tl := newTimeline(conform.Result{Scenario: "empty"})
	if len(tl.Rows) != 0 || len(tl.Ticks) == 0 || tl.Height <= 0 {
		t.Errorf("empty timeline: %+v, want an axis and no rows", tl)
	}
}
