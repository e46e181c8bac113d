package report

import (
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/wschaos/wschaos/conform"
)

// colors matches a terminal color or cursor sequence (ESC [ ... final
// byte). Adapters often log to stderr through libraries that color their
// output; in a report the sequences are noise, and XML 1.0 forbids ESC.
var colors = regexp.MustCompile("\x1b\\[[0-?]*[ -/]*[@-~]")

// clean makes text from the client safe for both XML 1.0 and HTML: it drops
// color sequences, turns invalid UTF-8 and every character XML 1.0 forbids
// (control characters other than tab, newline and carriage return, and the
// non-characters U+FFFE, U+FFFF) into U+FFFD.
func clean(s string) string {
	s = colors.ReplaceAllString(strings.ToValidUTF8(s, "\uFFFD"), "")
	return strings.Map(func(r rune) rune {
		if allowedInXML(r) {
			return r
		}
		return '\uFFFD'
	}, s)
}

// allowedInXML is the Char production of XML 1.0.
func allowedInXML(r rune) bool {
	switch {
	case r == '\t' || r == '\n' || r == '\r':
		return true
	case r >= 0x20 && r <= 0xD7FF, r >= 0xE000 && r <= 0xFFFD, r >= 0x10000 && r <= 0x10FFFF:
		return true
	}
	return false
}

// human formats d for a reader: to the millisecond above a second, to a
// tenth of a millisecond above a millisecond, since finer digits are timer
// noise in real time and clutter in virtual time.
func human(d time.Duration) string {
	switch a := d.Abs(); {
	case a >= time.Second:
		return d.Round(time.Millisecond).String()
	case a >= time.Millisecond:
		return d.Round(100 * time.Microsecond).String()
	}
	return d.Round(time.Microsecond).String()
}

// seconds formats d as JUnit's time attribute wants it: seconds with a
// decimal point.
func seconds(d time.Duration) string { return fmt.Sprintf("%.3f", d.Seconds()) }

// window formats a closed range of durations, one value when it is a point.
func window(lo, hi time.Duration) string {
	if lo == hi {
		return human(lo)
	}
	return "[" + human(lo) + ", " + human(hi) + "]"
}

// settings are the run's timing settings as a header shows them: scale,
// tolerance and whether time was virtual. Every scenario of a run shares
// them; if they do not, the header says so rather than showing one.
type settings struct {
	Mode, Scale, Tolerance string
}

func settingsOf(rs []conform.Result) settings {
	if len(rs) == 0 {
		return settings{"-", "-", "-"}
	}
	first := rs[0]
	for _, r := range rs[1:] {
		if r.Virtual != first.Virtual || r.Scale != first.Scale || r.Tolerance != first.Tolerance {
			return settings{"mixed", "mixed (see each scenario)", "mixed (see each scenario)"}
		}
	}
	return settingsFor(first)
}

func settingsFor(r conform.Result) settings {
	s := settings{Mode: "real time", Scale: fmt.Sprintf("%g", r.Scale), Tolerance: tolerance(r.Tolerance)}
	if r.Virtual {
		s.Mode = "virtual time"
	}
	return s
}

func tolerance(t conform.Tolerance) string {
	if t == (conform.Tolerance{}) {
		return "none: waits checked exactly"
	}
	return fmt.Sprintf("early %s, late %s + %g%% of the window's max", human(t.Early), human(t.Late), t.LateRatio*100)
}
