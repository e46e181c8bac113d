package proxy_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/wschaos/wschaos/proxy"
)

// /status wrote durations as Go strings ("1m30s") under names that did not
// say the unit: a tool had to parse Go's format to add two of them. They
// are milliseconds now, numbers, under names ending in _ms, and read back.
func TestStatusDurationsAreMillisecondNumbers(t *testing.T) {
	cs := proxy.ConnStatus{Attempt: 1, State: "closed",
		OpenedAt: proxy.Duration(1500 * time.Millisecond), ClosedAt: proxy.Duration(90 * time.Second),
		OpenFor: proxy.Duration(88500*time.Millisecond + 250*time.Microsecond)}
	b, err := json.Marshal(cs)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"opened_at_ms":1500,`, `"closed_at_ms":90000,`, `"open_for_ms":88500.25,`} {
		if !strings.Contains(string(b), want) {
			t.Errorf("status JSON %s lacks %s", b, want)
		}
	}
	var back proxy.ConnStatus
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if back.OpenedAt != cs.OpenedAt || back.ClosedAt != cs.ClosedAt || back.OpenFor != cs.OpenFor {
		t.Errorf("read back %+v, want %+v", back, cs)
	}
	var old proxy.Duration
	if err := json.Unmarshal([]byte(`"1m30s"`), &old); err != nil || old != proxy.Duration(90*time.Second) {
		t.Errorf("a Go duration string reads as %v, %v; want 1m30s", old, err)
	}
	if err := json.Unmarshal([]byte(`true`), &old); err == nil || !strings.Contains(err.Error(), "want milliseconds") {
		t.Errorf("a bool reads with error %v, want one asking for milliseconds", err)
	}
}
