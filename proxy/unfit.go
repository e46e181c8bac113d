package proxy

import (
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/wschaos/wschaos/chaos"
	"github.com/wschaos/wschaos/profile"
)

// UnfitError is a fault spec that is well formed but cannot act under the
// proxy's profile: accepting it would install a fault that silently never
// fires. The control API answers it 422, naming the fault and the profile
// feature it needs.
type UnfitError struct {
	// Field is the part of the spec to blame: "fault" or "select.type".
	Field string
	Msg   string
}

func (e *UnfitError) Error() string { return e.Field + ": " + e.Msg }

// StatusCode is the control API's answer to it.
func (e *UnfitError) StatusCode() int { return http.StatusUnprocessableEntity }

// seqFaults act on server events by their sequence number.
var seqFaults = map[string]bool{"seq-gap": true, "seq-duplicate": true, "seq-swap": true}

// pongFaults act on the upstream's answers to heartbeat pings: with a
// profile whose heartbeat is messages, on those; otherwise on WebSocket
// pong control frames only.
var pongFaults = map[string]bool{"swallow-pongs": true, "delay-pongs": true, "flood-before-pongs": true}

// eventFaults make up server events (Link.Event), which the proxy can do
// only in a profile's envelope, and only where the upstream does not
// number its events (a resuming profile's seqs cannot be invented).
var eventFaults = map[string]bool{"flood-before-pongs": true}

// checkSessions refuses a fault only a server that owns its sessions can
// make, whatever its arguments: no profile makes the proxy able to.
func checkSessions(spec FaultSpec) error {
	for _, s := range chaos.Spellings() {
		if s.Name == spec.Fault && s.OwnsSessions {
			return &UnfitError{"fault", fmt.Sprintf("%s needs a server that owns its sessions (the fake server, wschaos serve): the proxy relays the upstream's sessions and cannot start a new one", spec.Fault)}
		}
	}
	return nil
}

// checkFit refuses a well-formed spec that cannot act under pr (nil: no
// profile, so frames are opaque).
func checkFit(pr *profile.Profile, spec FaultSpec) error {
	name := spec.Fault
	prof := "no --profile, so frames are opaque"
	if pr != nil {
		prof = fmt.Sprintf("the proxy's profile %q", pr.Name)
	}
	switch {
	case seqFaults[name] && !carriesSeq(pr):
		return &UnfitError{"fault", fmt.Sprintf("%s acts on server events by their sequence number, and %s: start the proxy with a profile whose events carry seq (e.g. --profile mattermost)", name, noSeq(pr))}
	case eventFaults[name] && pr == nil:
		return &UnfitError{"fault", fmt.Sprintf("%s sends made-up events, which needs a profile's envelope to write them in; there is %s: start the proxy with --profile", name, prof)}
	case eventFaults[name] && pr.Resume != nil:
		return &UnfitError{"fault", fmt.Sprintf("%s sends made-up events, and under %s the upstream numbers every event of a session: an event it did not number would break the session", name, prof)}
	}
	if typ, ok := spec.Select["type"]; ok && pr == nil {
		return &UnfitError{"select.type", fmt.Sprintf("type=%s selects frames by message type, which needs a profile to decode them; there is %s: start the proxy with --profile, or select by field=PATH=VALUE, which reads raw JSON", typ, prof)}
	}
	return nil
}

// noSeq says, for a refusal, why pr gives no sequence numbers.
func noSeq(pr *profile.Profile) string {
	if pr == nil {
		return "with no --profile frames are opaque"
	}
	return fmt.Sprintf("the proxy's profile %q has none in its envelope", pr.Name)
}

// fitNote says, for a fault that is accepted but acts on less than its
// name suggests, what it acts on under pr; "" when it acts as named.
func fitNote(pr *profile.Profile, spec FaultSpec) string {
	if !pongFaults[spec.Fault] || heartbeatMessages(pr) {
		return ""
	}
	why := "there is no --profile"
	if pr != nil {
		why = fmt.Sprintf("the profile %q has no heartbeat messages", pr.Name)
	}
	return fmt.Sprintf("acts on WebSocket pong control frames only: %s", why)
}

// heartbeatMessages reports whether pr's heartbeat is messages the proxy
// can tell apart (and so pongs beyond control frames).
func heartbeatMessages(pr *profile.Profile) bool {
	return pr != nil && pr.Heartbeat.Enabled() && pr.Heartbeat.Mode != profile.HeartbeatFrames
}

// carriesSeq reports whether pr's envelope gives server events sequence
// numbers: an event with one, encoded and decoded again, keeps it. Asking
// the codec, rather than reading its settings, works for any codec a
// profile file can name.
func carriesSeq(pr *profile.Profile) bool {
	if pr == nil || pr.Codec == nil {
		return false
	}
	probe := profile.Message{Kind: profile.Event, Type: "probe", Seq: 7, HasSeq: true, Data: json.RawMessage(`{}`)}
	b, err := pr.Codec.Encode(probe)
	if err != nil {
		return false
	}
	m, err := pr.Codec.Decode(b, profile.Server)
	return err == nil && m.Kind == profile.Event && m.HasSeq && m.Seq == 7
}
