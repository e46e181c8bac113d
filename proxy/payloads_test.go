package proxy

import (
	"bytes"
	"testing"
)

// The transcript's copies of small payloads share an allocation, and
// each keeps its bytes when the buffer it came from is reused and more
// payloads follow it into the slab.
func TestPayloadsShareSlabsAndKeepTheirBytes(t *testing.T) {
	var p payloads
	buf := make([]byte, 1024)
	var kept []string
	for i := range 200 {
		for j := range buf {
			buf[j] = byte('a' + i%26)
		}
		kept = append(kept, p.text(buf))
	}
	for i, s := range kept {
		if s != string(bytes.Repeat([]byte{byte('a' + i%26)}, 1024)) {
			t.Fatalf("payload %d changed after later ones: %.8q...", i, s)
		}
	}
	allocs := testing.AllocsPerRun(64, func() { p.text(buf) })
	if allocs > 1.0/16 {
		t.Errorf("%.3f allocations per 1 KiB payload, want one per slab (%d payloads)", allocs, slabSize/1024)
	}
	if big := make([]byte, slabSize); p.text(big) != string(big) {
		t.Error("a big payload was not copied whole")
	}
	if p.text(nil) != "" {
		t.Error("an empty payload is not empty")
	}
}
