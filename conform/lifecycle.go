package conform

import (
	"fmt"
	"time"

	"github.com/wschaos/wschaos/profile"
	"github.com/wschaos/wschaos/transcript"
)

// codeName says a close code as a person reads it.
func codeName(c profile.StatusCode) string {
	switch c {
	case profile.StatusNoStatus:
		return "no code (1005)"
	case profile.StatusAbnormalClosure:
		return "no close frame (1006)"
	}
	return fmt.Sprint(int(c))
}

// isPing matches the client's heartbeat, whether the server saw it or a
// fault swallowed it.
func isPing(p *profile.Profile) func(transcript.Entry) bool {
	return func(e transcript.Entry) bool {
		return (e.Kind == transcript.KindRecv || e.Kind == transcript.KindFault) &&
			e.Msg != nil && e.Msg.Kind == profile.Request && e.Msg.Type == p.Heartbeat.PingType
	}
}

// isPong matches the server's answer to a heartbeat ping.
func isPong(p *profile.Profile) func(transcript.Entry) bool {
	return func(e transcript.Entry) bool { return e.Msg != nil && p.IsPong(*e.Msg, e.Msg.SeqReply) }
}

// pongLag is how late the heartbeat scenario has the server answer pings:
// under the timeout rule, 60 % of the timeout; otherwise not at all.
func pongLag(p *profile.Profile) time.Duration {
	if p.Heartbeat.Dead != profile.DeadTimeout {
		return 0
	}
	return p.Heartbeat.Timeout * 6 / 10
}

// deadWithin is how long after it dies a link is noticed at the latest,
// by the profile's dead rule, and the rule in words.
func deadWithin(p *profile.Profile) (time.Duration, string) {
	hb := p.Heartbeat
	first := hb.Interval // the first ping, unless it goes on open
	if hb.OnOpen {
		first = 0
	}
	switch hb.Dead {
	case profile.DeadTimeout:
		return first + hb.Timeout, fmt.Sprintf("no answer within %v of a ping", hb.Timeout)
	case profile.DeadSilence:
		return hb.Timeout, fmt.Sprintf("nothing from the server for %v", hb.Timeout)
	}
	return first + hb.Interval, "a ping still unanswered when the next is due"
}

// reportedWhere says where the profile reports an error close's code.
func reportedWhere(p *profile.Profile) string {
	switch p.Close.Report {
	case profile.ReportQuery:
		return "reported as " + p.Close.Query + " on the next connect"
	case profile.ReportBoth:
		return "in the close frame and as " + p.Close.Query + " on the next connect"
	}
	return "in the close frame"
}
