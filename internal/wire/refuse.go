package wire

import (
	"fmt"
	"math"
	"net/http"
	"strconv"
	"time"
)

// Refuse answers a handshake with an HTTP status instead of an upgrade:
// a Retry-After in whole seconds when retryAfter is set, the connection
// closed after the answer, and a body that says who refused and why.
func Refuse(w http.ResponseWriter, who string, status int, fault, note string, retryAfter time.Duration) {
	if retryAfter > 0 {
		w.Header().Set("Retry-After", strconv.FormatInt(int64(math.Ceil(retryAfter.Seconds())), 10))
	}
	w.Header().Set("Connection", "close")
	body := who + ": refused"
	if fault != "" {
		body += " by fault " + fault
	}
	if note != "" {
		body += ": " + note
	}
	http.Error(w, body, status)
}

// Reset drops a handshake's TCP connection with an RST and no answer. If
// the connection cannot be taken over it answers 500 and says why.
func Reset(w http.ResponseWriter, who string) error {
	nc, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		http.Error(w, who+": reset", http.StatusInternalServerError)
		return fmt.Errorf("cannot hijack, answered 500 instead: %w", err)
	}
	if l, ok := nc.(interface{ SetLinger(int) error }); ok {
		l.SetLinger(0) // close sends RST instead of FIN
	}
	return nc.Close()
}
