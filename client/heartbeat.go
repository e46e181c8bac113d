package client

import (
	"context"
	"time"

	"github.com/gorilla/websocket"
	"github.com/jonboulle/clockwork"

	"github.com/wschaos/wschaos/profile"
)

// heartbeat is the liveness state of one socket. It lives and dies with
// serve, so nothing of it carries into the next connection.
type heartbeat struct {
	p           *profile.Profile
	outstanding bool  // a ping is unanswered
	seq         int64 // the id of that ping
	// pongTimer exists only under flaw PongTimeout.
	pongTimer clockwork.Timer
}

func (c *Client) newHeartbeat() *heartbeat {
	if c.flaws.StaleHeartbeat && c.staleHB != nil {
		return c.staleHB
	}
	hb := &heartbeat{p: c.p}
	if c.flaws.PongTimeout > 0 {
		hb.pongTimer = c.clock.NewTimer(c.flaws.PongTimeout)
		stopTimer(hb.pongTimer)
	}
	return hb
}

func (h *heartbeat) answered() {
	h.outstanding = false
	if h.pongTimer != nil {
		stopTimer(h.pongTimer)
	}
}

func (h *heartbeat) isPong(m profile.Message) bool {
	return h.outstanding && h.p.Heartbeat.Mode != profile.HeartbeatFrames && h.p.IsPong(m, h.seq)
}

// deadline fires when a flawed pong timeout runs out; nil otherwise.
func (h *heartbeat) deadline() <-chan time.Time {
	if h.pongTimer == nil {
		return nil
	}
	return h.pongTimer.Chan()
}

func (h *heartbeat) stop() {
	if h.pongTimer != nil {
		stopTimer(h.pongTimer)
	}
}

// ping sends one heartbeat and marks it unanswered.
func (c *Client) ping(conn *websocket.Conn, h *heartbeat) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	h.outstanding = true
	if h.pongTimer != nil {
		h.pongTimer.Reset(c.flaws.PongTimeout)
	}
	if c.p.Heartbeat.Mode == profile.HeartbeatFrames {
		return conn.WriteControl(websocket.PingMessage, nil, time.Now().Add(writeWait))
	}
	h.seq = c.reqSeq
	m := c.p.Ping(h.seq)
	m.HasSeq = false // writeLocked stamps the id and advances reqSeq
	return c.writeLocked(context.Background(), m)
}
