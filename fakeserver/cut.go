package fakeserver

import (
	"time"

	"github.com/wschaos/wschaos/chaos"
	"github.com/wschaos/wschaos/internal/link"
	"github.com/wschaos/wschaos/profile"
	"github.com/wschaos/wschaos/transcript"
)

// cut ends or silences the connection as k says, on behalf of fault by.
func (c *conn) cut(k chaos.Cut, by string) {
	if !c.life.Cut(&c.faults, k, by, "server") {
		return
	}
	switch k.Kind {
	case chaos.CloseFrame:
		c.record(transcript.Entry{Kind: transcript.KindClose, Code: k.Code, Reason: k.Reason, By: profile.Server, Fault: by})
		c.writeClose(int(k.Code), k.Reason)
		c.closing()
	case chaos.FIN:
		c.record(transcript.Entry{Kind: transcript.KindClose, Code: profile.StatusAbnormalClosure, By: profile.Server, Fault: by, Note: "FIN"})
		c.closing()
		c.effect(func() {
			if cw, ok := c.ws.NetConn().(interface{ CloseWrite() error }); !ok || cw.CloseWrite() != nil {
				c.end() // no half close: drop the socket instead
			}
		})
	case chaos.RST:
		c.record(transcript.Entry{Kind: transcript.KindClose, Code: profile.StatusAbnormalClosure, By: profile.Server, Fault: by, Note: "RST"})
		c.effect(func() {
			if l, ok := c.ws.NetConn().(interface{ SetLinger(int) error }); ok {
				l.SetLinger(0) // close sends RST instead of FIN
			}
		})
		c.end()
	}
}

// closing waits for the client's half of the close: its close frame or
// its FIN ends the connection, or link.CloseGrace of real time does.
func (c *conn) closing() {
	c.life.State = link.Closing
	c.s.mu.Lock()
	if c.session != nil && c.session.live == c {
		c.session.live = nil // later events wait in the buffer for a resume
	}
	c.s.mu.Unlock()
	c.ws.SetReadDeadline(time.Now().Add(link.CloseGrace))
}
