package proxy

import (
	"strings"
	"testing"

	"github.com/wschaos/wschaos/chaos"
)

// A new seq or pong fault must be classified here, or the proxy would
// accept it where it can never act.
func TestEverySeqAndPongFaultIsClassified(t *testing.T) {
	for _, s := range chaos.Spellings() {
		if strings.HasPrefix(s.Name, "seq-") && !seqFaults[s.Name] {
			t.Errorf("%s is not in seqFaults", s.Name)
		}
		if strings.Contains(s.Name, "pong") && !pongFaults[s.Name] {
			t.Errorf("%s is not in pongFaults", s.Name)
		}
	}
}
