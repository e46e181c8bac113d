package profile

import (
	"fmt"
	"slices"

	"github.com/wschaos/wschaos/internal/filecodec"
)

func fieldErr(field, format string, args ...any) error {
	return &filecodec.FieldError{Field: field, Msg: fmt.Sprintf(format, args...)}
}

// Validate checks what one part of a profile cannot check alone: the
// required parts, and that the envelope can carry what the rest needs.
func (p *Profile) Validate() error {
	switch {
	case p.Name == "":
		return fieldErr("name", "is required")
	case p.Codec == nil:
		return fieldErr("envelope", "is required: the codec of the messages and its keys")
	case p.Backoff == nil:
		return fieldErr("backoff", "is required: the family of the reconnect waits and its parameters")
	}
	_, canReply := p.Codec.Encode(Message{Kind: Reply, SeqReply: 1, Status: "OK"})
	hb := p.Heartbeat
	if (hb.Mode == HeartbeatClient) && hb.PongType == "" && canReply != nil {
		return fieldErr("heartbeat", "pong_type is required: the envelope has no replies to answer a ping with (%v)", canReply)
	}
	if p.Replies && canReply != nil {
		return fieldErr("replies", "the envelope cannot carry a reply: %v", canReply)
	}
	if p.Resume != nil && !carriesSeq(p.Codec) {
		return fieldErr("resume", "the envelope has no seq: events cannot be numbered")
	}
	if p.AckType != "" && p.SendType == "" {
		return fieldErr("ack_type", "needs send_type: the request it acknowledges")
	}
	return nil
}

// carriesSeq reports whether an event's seq survives the envelope.
func carriesSeq(c Codec) bool {
	f, err := c.Encode(Message{Kind: Event, Type: "x", Seq: 7, HasSeq: true})
	if err != nil {
		return false
	}
	m, err := c.Decode(f, Server)
	return err == nil && m.HasSeq && m.Seq == 7
}

// Validate checks the handshake has both halves.
func (h *Handshake) Validate() error {
	switch {
	case h.Type == "":
		return fieldErr("type", "is required: the client's first message")
	case h.ReplyType == "":
		return fieldErr("reply_type", "is required: the server message that makes the client connected")
	}
	return nil
}

var (
	heartbeatModes = []HeartbeatMode{HeartbeatNone, HeartbeatClient, HeartbeatServer, HeartbeatFrames}
	deadRules      = []DeadRule{DeadNextPing, DeadTimeout, DeadSilence}
)

// Validate checks the mode has what it needs, and nothing it ignores.
func (h *Heartbeat) Validate() error {
	if h.Mode == "" {
		return fieldErr("mode", "is required: one of none, client, server, frames")
	}
	if !slices.Contains(heartbeatModes, h.Mode) {
		return fieldErr("mode", "%q is not one of none, client, server, frames", h.Mode)
	}
	if h.Mode == HeartbeatNone {
		if h.Interval != 0 || h.PingType != "" || h.Dead != "" {
			return fieldErr("mode", "is none, yet other heartbeat keys are set")
		}
		return nil
	}
	switch {
	case h.Interval <= 0:
		return fieldErr("interval", "is required and must be more than 0 for mode %s", h.Mode)
	case h.Mode != HeartbeatFrames && h.PingType == "":
		return fieldErr("ping_type", "is required for mode %s: the ping message's type", h.Mode)
	case h.Mode == HeartbeatServer && h.PongType == "":
		return fieldErr("pong_type", "is required for mode server: the client's answer")
	case h.Mode == HeartbeatFrames && (h.PingType != "" || h.PongType != ""):
		return fieldErr("mode", "frames pings with control frames: ping_type and pong_type have no use")
	}
	if h.Mode == HeartbeatServer && h.Dead == "" {
		return nil // the client answers; it judges nothing
	}
	switch {
	case h.Dead == "":
		return fieldErr("dead", "is required for mode %s: next-ping, timeout or silence", h.Mode)
	case !slices.Contains(deadRules, h.Dead):
		return fieldErr("dead", "%q is not one of next-ping, timeout, silence", h.Dead)
	case h.Dead == DeadNextPing && h.Timeout != 0:
		return fieldErr("timeout", "has no use with dead: next-ping (the next ping is the deadline)")
	case h.Dead != DeadNextPing && h.Timeout <= 0:
		return fieldErr("timeout", "is required for dead: %s", h.Dead)
	case h.CloseCode == 0:
		return fieldErr("close_code", "is required: the code of the close on a dead link")
	}
	return nil
}

var reports = []Report{ReportFrame, ReportQuery, ReportBoth}

// Validate checks the report has its query parameter.
func (c *Close) Validate() error {
	switch {
	case c.Code == 0:
		return fieldErr("code", "is required: the intentional close's code, e.g. 1000, or none")
	case c.Report != "" && !slices.Contains(reports, c.Report):
		return fieldErr("report", "%q is not one of frame, query, both", c.Report)
	case c.InQuery() && c.Query == "":
		return fieldErr("query", "is required for report: %s: the connect URL's parameter", c.Report)
	case !c.InQuery() && c.Query != "":
		return fieldErr("query", "has no use with report: frame")
	}
	return nil
}

var queueFulls = []QueueFull{QueueError, QueueDropNewest, QueueDropOldest}

// Validate checks a bound has its rule and a disabled queue has neither.
func (q *Queue) Validate() error {
	switch {
	case !q.Enabled && (q.Limit != 0 || q.Full != ""):
		return fieldErr("enabled", "is false, yet limit or full is set")
	case q.Full != "" && !slices.Contains(queueFulls, q.Full):
		return fieldErr("full", "%q is not one of error, drop-newest, drop-oldest", q.Full)
	case q.Limit > 0 && q.Full == "":
		return fieldErr("full", "is required with a limit: error, drop-newest or drop-oldest")
	case q.Limit == 0 && q.Full != "":
		return fieldErr("limit", "is required with full: the queue's bound")
	}
	return nil
}

// Validate checks every part of the resume protocol is named.
func (r *Resume) Validate() error {
	for _, f := range []struct{ key, val string }{{"hello_type", r.HelloType}, {"id_field", r.IDField},
		{"id_param", r.IDParam}, {"seq_param", r.SeqParam}} {
		if f.val == "" {
			return fieldErr(f.key, "is required")
		}
	}
	switch {
	case r.BufferSize <= 0:
		return fieldErr("buffer_size", "is required and must be more than 0")
	case r.GapCloseCode == 0:
		return fieldErr("gap_close_code", "is required: the code of the close on a sequence gap")
	}
	return nil
}
