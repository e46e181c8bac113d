package link

import (
	"math/rand/v2"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/jonboulle/clockwork"
	"github.com/wschaos/wschaos/chaos"
	"github.com/wschaos/wschaos/internal/wire"
	"github.com/wschaos/wschaos/transcript"
)

// Door is the handshake side of the engine: it puts an attempt through
// the handshake faults, answers the refusals, stalls and resets they
// decide, and records them, the same way in both servers.
type Door struct {
	// Who names the server in its HTTP answers: "fakeserver".
	Who   string
	Clock clockwork.Clock
	// Done is closed when the server closes: a stall ends then.
	Done <-chan struct{}
	// Closed reports whether the server is closing.
	Closed func() bool
	Since  func() time.Duration
	Record func(...transcript.Entry)
	Logf   func(attempt int, format string, args ...any)
}

// Handshakes puts attempt a through faults in order, and reports whether
// it goes on to the upgrade; if not, it has been answered and recorded.
func (d *Door) Handshakes(w http.ResponseWriter, r *http.Request, faults []chaos.HandshakeFault, a *chaos.Attempt) bool {
	for _, f := range faults {
		a.At = d.Since()
		if ref := f.Handshake(a); ref != nil && !d.refusal(w, r, a.N, f.String(), ref) {
			return false
		}
	}
	return true
}

// refusal carries out what a handshake fault decided, and reports whether
// the attempt goes on to the next fault and the upgrade.
func (d *Door) refusal(w http.ResponseWriter, r *http.Request, n int, fault string, ref *chaos.Refusal) bool {
	if ref.Stall != 0 && !d.stall(r, n, fault, ref.Stall) {
		return false
	}
	switch {
	case ref.Reset:
		d.Record(transcript.Entry{Attempt: n, Kind: transcript.KindReset, Fault: fault})
		if err := wire.Reset(w, d.Who); err != nil {
			d.Logf(n, "reset: %v", err)
		}
		return false
	case ref.Status != 0:
		d.Refuse(w, n, ref.Status, fault, "", ref.RetryAfter)
		return false
	}
	return true
}

// stall holds the handshake dur of virtual time (dur < 0: until the
// client gives up or the server closes), and reports whether it may go on.
func (d *Door) stall(r *http.Request, n int, fault string, dur time.Duration) bool {
	e := transcript.Entry{Attempt: n, Kind: transcript.KindStall, Fault: fault, Note: "for " + dur.String()}
	var fire <-chan time.Time
	if dur > 0 {
		t := d.Clock.NewTimer(dur)
		defer t.Stop()
		fire = t.Chan()
	} else {
		e.Note = "until the client gives up"
	}
	d.Record(e)
	select {
	case <-fire:
		return true
	case <-d.Done:
	case <-r.Context().Done():
		if !d.Closed() {
			d.Record(transcript.Entry{Attempt: n, Kind: transcript.KindNote, Note: "stalled handshake: client gave up"})
		}
	}
	return false
}

// Refuse answers the attempt with an HTTP status, and records it.
func (d *Door) Refuse(w http.ResponseWriter, n, status int, fault, note string, retryAfter time.Duration) {
	d.Record(transcript.Entry{Attempt: n, Kind: transcript.KindRefuse, Status: status, Fault: fault, Note: note})
	wire.Refuse(w, d.Who, status, fault, note, retryAfter)
}

// NoteUnserved records a connection net/http closed without a request
// reaching the handler (garbage, a slow-loris client), unless there is
// nothing to say or the server is closing. headerWait is how long a
// client had for its request headers.
func (d *Door) NoteUnserved(nc net.Conn, headerWait time.Duration) {
	if d.Closed() {
		return
	}
	note, status, ok := wire.Unserved(nc, headerWait)
	if !ok {
		return
	}
	e := transcript.Entry{Kind: transcript.KindNote, Note: note}
	if status != 0 {
		e.Kind, e.Status = transcript.KindRefuse, status
	}
	d.Record(e)
}

// Or is d, or def when d is not positive: a tunable a test may shorten.
func Or(d, def time.Duration) time.Duration {
	if d > 0 {
		return d
	}
	return def
}

// Enter lets attempt r in: it counts it in *attempts and in wg (the
// caller calls wg.Done when done with it), under mu, and returns its
// number and a rand seeded with seed and that number, so a run with the
// same seed makes the same random choices. If *closed, it answers 503 and
// reports false.
func (d *Door) Enter(w http.ResponseWriter, r *http.Request, mu sync.Locker, closed *bool, attempts *int, wg *sync.WaitGroup, seed uint64) (int, *rand.Rand, bool) {
	wire.MarkServed(r)
	mu.Lock()
	if *closed {
		mu.Unlock()
		http.Error(w, d.Who+": closed", http.StatusServiceUnavailable)
		return 0, nil, false
	}
	*attempts++
	n := *attempts
	wg.Add(1)
	mu.Unlock()
	return n, rand.New(rand.NewPCG(seed, uint64(n))), true
}

// Track is a net/http ConnState hook that counts net/http's own
// connection goroutines into wg, so a server's Close waits for those too:
// from the moment Serve accepts a connection (Serve is still counted then,
// so the Add is safe) until it is closed or hijacked (an upgraded
// connection is then counted by whoever serves it). A connection closed
// before any request reached the handler is bad input, and noted as such;
// headerWait is how long a client had for its request headers.
func (d *Door) Track(wg *sync.WaitGroup, headerWait time.Duration) func(net.Conn, http.ConnState) {
	return func(nc net.Conn, state http.ConnState) {
		switch state {
		case http.StateNew:
			wg.Add(1)
		case http.StateClosed:
			d.NoteUnserved(nc, headerWait)
			wg.Done()
		case http.StateHijacked:
			wg.Done()
		}
	}
}
