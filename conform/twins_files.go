package conform

import (
	"time"

	"github.com/wschaos/wschaos/backoff"
	"github.com/wschaos/wschaos/internal/flaw"
	"github.com/wschaos/wschaos/profile"
)

// The twins of the conformance files (the library's files written for
// every profile), kept apart from the bug files' twins. Each is the
// reference client with the one bug a conformance file was first proven
// against.
func init() {
	for name, tw := range map[string]Twin{
		"ignores-fatal-codes": flawed("reconnects after a close code the profile calls fatal", flaw.Set{IgnoreFatalCodes: true}),
		"no-server-pongs":     flawed("never answers the server's pings", flaw.Set{NoServerPongs: true}),
		"pings-half-as-often": misconfigured("pings half as often as the profile says", func(p *profile.Profile) { p.Heartbeat.Interval *= 2 }),
		"no-ping-on-open":     misconfigured("does not ping on open", func(p *profile.Profile) { p.Heartbeat.OnOpen = false }),
		"backoff-factor-3": misconfigured("backs off by a factor of 3 instead of the profile's", func(p *profile.Profile) {
			p.Backoff = backoff.Limit{Policy: backoff.Exponential{Base: time.Second, Factor: 3}, Attempts: 5}
		}),
		"resets-despite-uptime":  flawed("resets its failure count on every open, despite the profile's uptime rule", flaw.Set{ResetOnOpenDespiteUptime: true}),
		"ignores-server-errors":  misconfigured("ignores the server's error messages", func(p *profile.Profile) { p.ErrorType = "" }),
		"connected-before-reply": flawed("says connected before the server's handshake reply", flaw.Set{NoHandshakeWait: true}),
	} {
		twins[name] = tw
	}
}

// More requirements a file may name in "# requires:", for the
// conformance files: rules only some profiles have.
func init() {
	for name, why := range map[string]func(p *profile.Profile) string{
		"handshake": func(p *profile.Profile) string {
			return unless(p.Connect.Handshake != nil, "profile %s has no handshake message", p.Name)
		},
		"server-ping": func(p *profile.Profile) string {
			return unless(p.Heartbeat.Mode == profile.HeartbeatServer, "profile %s's server sends no pings", p.Name)
		},
		"client-pings": func(p *profile.Profile) string {
			return unless(p.Heartbeat.Mode == profile.HeartbeatClient, "profile %s's client sends no ping messages", p.Name)
		},
		"dead-rule": func(p *profile.Profile) string {
			return unless(p.Heartbeat.Dead != "", "profile %s has no rule for a dead link", p.Name)
		},
		"reset-on-open": func(p *profile.Profile) string {
			return unless(p.ResetAfter == 0, "profile %s resets its failure count only after %v up", p.Name, p.ResetAfter)
		},
		"reset-after-uptime": func(p *profile.Profile) string {
			return unless(p.ResetAfter > 0, "profile %s resets its failure count on every open", p.Name)
		},
		"error-type": func(p *profile.Profile) string {
			return unless(p.ErrorType != "", "profile %s has no server error message", p.Name)
		},
		"fatal-code": func(p *profile.Profile) string {
			return unless(len(p.Close.Fatal) > 0, "profile %s has no fatal close code", p.Name)
		},
	} {
		requirements[name] = why
	}
}
