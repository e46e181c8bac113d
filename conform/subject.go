package conform

import (
	"context"
	"encoding/json"
	"math/rand/v2"
	"time"

	"github.com/jonboulle/clockwork"
	"github.com/wschaos/wschaos/profile"
)

// Subject is one client under test, seen through what an application does
// with it. A Subject serves one scenario; Run makes a fresh one for each.
type Subject interface {
	// Connect starts the client on url: it connects and from then on
	// reconnects on its own. It returns once the client has started, not
	// once the socket is open.
	Connect(ctx context.Context, url string) error
	// Send sends a message of type typ through the client's API. An error
	// means the client refused it (a full queue, not connected); nil means
	// it was sent or queued, and then it must not be lost.
	Send(ctx context.Context, typ string, payload json.RawMessage) error
	// Close closes the client on purpose and returns when it has.
	Close(ctx context.Context) error
}

// EventKind names what a client reported.
type EventKind string

const (
	// EventState: the connection state changed (Event.State).
	EventState EventKind = "state"
	// EventMessage: a server message reached the application.
	EventMessage EventKind = "message"
	// EventResync: the client said events were missed.
	EventResync EventKind = "resync"
	// EventError: the client reported an error (Event.Message).
	EventError EventKind = "error"
	// EventLog: free text worth showing in a report.
	EventLog EventKind = "log"
)

// The states a client reports, as named in the adapter protocol.
const (
	StateConnecting   = "connecting"
	StateConnected    = "connected"
	StateReconnecting = "reconnecting"
	StateGaveUp       = "gave-up"
	StateDisconnected = "disconnected"
	StateError        = "error"
)

// Event is one thing the client reported to its application.
type Event struct {
	Kind    EventKind       `json:"event"`
	State   string          `json:"state,omitempty"`
	Type    string          `json:"type,omitempty"`
	Payload json.RawMessage `json:"payload,omitempty"`
	Message string          `json:"message,omitempty"`
	// At is when the harness received it, on the scenario's clock since
	// the server started.
	At time.Duration `json:"at_ns,omitempty"`
}

// Env is what a Factory builds a Subject from.
type Env struct {
	// Profile is the contract to follow, with its timing already scaled.
	Profile *profile.Profile
	// Scale is the factor the profile's durations were multiplied by (1
	// in virtual time), as the adapter protocol's connect command sends it.
	Scale float64
	// Clock must drive every timer of the client. In virtual time it is a
	// fake clock the scenario steps; the client must report a state (Emit)
	// only once the timer that state waits on is armed, and nothing it
	// does may wait on the real clock: a wait for its next effect ends as
	// soon as client and server are idle.
	Clock clockwork.Clock
	// Rand is a seeded source for jitter, so a run replays.
	Rand *rand.Rand
	// Emit reports an event; safe for concurrent use.
	Emit func(Event)
}

// Factory makes a fresh Subject for one scenario.
type Factory func(Env) (Subject, error)
