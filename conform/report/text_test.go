package report

import (
	"testing"
	"time"

	"github.com/wschaos/wschaos/conform"
)

func TestClean(t *testing.T) {
	for in, want := range map[string]string{
		"plain\ttext\r\n":          "plain\ttext\r\n",
		"\x1b[1;31mred\x1b[0m":     "red",
		"nul\x00 bell\x07 esc\x1b": "nul\uFFFD bell\uFFFD esc\uFFFD",
		"bad utf-8 \xff\xfe":       "bad utf-8 \uFFFD",
		"non-char \uFFFE\uFFFF":    "non-char \uFFFD\uFFFD",
		"emoji 🙂 and CJK 接続":       "emoji 🙂 and CJK 接続",
		"<script>&amp;</script>":   "<script>&amp;</script>", // escaping is the writers' job
	} {
		if got := clean(in); got != want {
			t.Errorf("clean(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestHuman(t *testing.T) {
	for d, want := range map[time.Duration]string{
		0:                             "0s",
		263_412_345:                   "263.4ms",
		1_021_499_999:                 "1.021s",
		400 * time.Microsecond:        "400µs",
		12_345:                        "12µs",
		3*time.Minute + 5*time.Second: "3m5s",
	} {
		if got := human(d); got != want {
			t.Errorf("human(%d) = %q, want %q", d, got, want)
		}
	}
}

func TestSettingsOfARun(t *testing.T) {
	rs := []conform.Result{passing(), failing()}
	if got := settingsOf(rs); got.Mode != "real time" || got.Scale != "0.25" || got.Tolerance != "early 50ms, late 300ms + 25% of the window's max" {
		t.Errorf("settings %+v", got)
	}
	rs[1].Virtual, rs[1].Scale, rs[1].Tolerance = true, 1, conform.Tolerance{}
	if got := settingsFor(rs[1]); got.Mode != "virtual time" || got.Tolerance != "none: waits checked exactly" {
		t.Errorf("virtual settings %+v", got)
	}
	if got := settingsOf(rs); got.Mode != "mixed" {
		t.Errorf("settings of scenarios that differ: %+v, want mixed", got)
	}
}
