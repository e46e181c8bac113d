package conform

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// serveCalibrating is a test adapter that offers only calibrate: it
// sleeps out each timer, late by late, then dials as the protocol says.
func serveCalibrating(late time.Duration) int {
	fmt.Println(`{"event":"ready","protocol":2,"client":"calibrating","commands":["calibrate"]}`)
	sc := bufio.NewScanner(os.Stdin)
	for sc.Scan() {
		var c struct {
			ID     int
			Cmd    string
			URL    string
			Timers []float64
		}
		json.Unmarshal(sc.Bytes(), &c)
		if c.Cmd != "calibrate" {
			fmt.Printf("{\"reply\":%d,\"ok\":false,\"error\":\"only calibrate\"}\n", c.ID)
			continue
		}
		t0 := time.Now()
		fired := make([]float64, len(c.Timers))
		var wg sync.WaitGroup
		for i, d := range c.Timers {
			wg.Go(func() {
				time.Sleep(time.Duration(d*float64(time.Millisecond)) + late)
				fired[i] = float64(time.Since(t0)) / float64(time.Millisecond)
				ws, _, err := websocket.DefaultDialer.Dial(fmt.Sprintf("%s?timer=%d", c.URL, i), nil)
				if err == nil {
					ws.Close()
				}
			})
		}
		wg.Wait()
		data, _ := json.Marshal(map[string]any{"reply": c.ID, "ok": true, "fired": fired})
		fmt.Println(string(data))
	}
	return 0
}

// Timers that fire late widen the margins by about as much: the late
// margin is additive, with no ratio; a prompt adapter gets margins far
// tighter than the fixed defaults.
func TestCalibrateLateTimersWidenMargins(t *testing.T) {
	if testing.Short() {
		t.Skip("real time")
	}
	t.Parallel()
	prompt, err := testAdapter(t, "calibrate").Calibrate(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	late, err := testAdapter(t, "calibrate-late").Calibrate(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	if prompt.Samples != calibrateTimers || len(prompt.Late) != calibrateTimers {
		t.Errorf("%d samples, %d lateness figures; want %d", prompt.Samples, len(prompt.Late), calibrateTimers)
	}
	if late.Timer.P50 < calibrateLate || prompt.Timer.P50 >= calibrateLate {
		t.Errorf("timer lateness p50: %v late, %v prompt; the late adapter sleeps %v more", late.Timer.P50, prompt.Timer.P50, calibrateLate)
	}
	pt, lt := prompt.Tolerance(), late.Tolerance()
	if lt.LateRatio != 0 || pt.LateRatio != 0 || pt.Late != DefaultTolerance.Late {
		t.Errorf("late margins %v (ratio %v) late, %v (ratio %v) prompt: want them additive, the prompt one at the floor %v",
			lt.Late, lt.LateRatio, pt.Late, pt.LateRatio, DefaultTolerance.Late)
	}
	if pt.Early >= DefaultTolerance.Early {
		t.Errorf("a prompt adapter's early margin %v is not tighter than the default %v", pt.Early, DefaultTolerance.Early)
	}
	// Above the floor, the late margin grows with the lateness measured.
	if lt.Late < 3*calibrateLate || lt.Late <= pt.Late {
		t.Errorf("late margin %v for timers %v late, %v for prompt ones: want at least three times the lateness", lt.Late, calibrateLate, pt.Late)
	}
	tm := TimingFor(ctx(t), testAdapter(t, "calibrate-late"), nil)
	if tm.Source != "calibrated" || tm.Calibration == nil || !strings.Contains(tm.String(), "(calibrated)") ||
		!strings.Contains(tm.String(), "timer lateness p50 ") {
		t.Errorf("timing of a calibrating adapter: %+v\n%s", tm, tm)
	}
}

// calibrateLate is how late the calibrate-late test adapter's timers
// fire: enough to lift the late margin above its floor.
const calibrateLate = 200 * time.Millisecond

// An adapter without calibrate gets the fixed defaults, and the timing
// says they are a fallback and why; tolerance flags win over both.
func TestCalibrateFallsBackToTheDefaults(t *testing.T) {
	a := testAdapter(t, "reference") // ServeAdapter: no calibrate
	if _, err := a.Calibrate(ctx(t)); !errors.Is(err, ErrNotSupported) {
		t.Fatalf("calibrate on an adapter without it: %v, want ErrNotSupported", err)
	}
	tm := TimingFor(ctx(t), a, nil)
	if tm.Source != "defaults" || tm.Tolerance != DefaultTolerance || tm.Calibration != nil {
		t.Errorf("timing %+v, want the defaults", tm)
	}
	if want := "(the fixed defaults, a fallback): the adapter offers no calibrate command"; !strings.Contains(tm.String(), want) {
		t.Errorf("timing says %q, want %q", tm, want)
	}
	flags := Tolerance{Early: time.Millisecond, Late: time.Second}
	if tm := TimingFor(ctx(t), testAdapter(t, "calibrate"), &flags); tm.Source != "flags" || tm.Tolerance != flags || tm.Calibration != nil {
		t.Errorf("timing with flags given: %+v", tm)
	}
}
