package fakeserver

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/gorilla/websocket"
	"github.com/wschaos/wschaos/chaos"
	"github.com/wschaos/wschaos/internal/link"
	"github.com/wschaos/wschaos/profile"
	"github.com/wschaos/wschaos/transcript"
)

// serveHTTP takes one connection attempt from request to upgrade, through
// the handshake faults, then hands the connection to a goroutine of its
// own and returns: net/http's deep handler stack and the request then go,
// and a held connection costs only what it uses.
func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	n, rng, ok := s.door().Enter(w, r, &s.mu, &s.closed, &s.attempts, &s.wg, s.Seed)
	if !ok {
		return
	}
	defer s.wg.Done()
	query := r.URL.Query()
	// The reported code is part of the dial's record, whatever becomes of
	// the attempt: it is about the connection before this one.
	cq, qErr := s.Profile.ParseConnectQuery(query)
	s.record(transcript.Entry{Attempt: n, Kind: transcript.KindDial, URL: r.URL.RequestURI(), ReportedCode: cq.ReportedCode})
	u := *r.URL
	a := &chaos.Attempt{N: n, URL: &u, Rand: rng}
	if !s.door().Handshakes(w, r, s.handshakes, a) {
		return
	}

	if proto := s.Profile.Connect.Subprotocol; proto != "" && !slices.Contains(websocket.Subprotocols(r), proto) {
		// A server of the protocol (graphql-ws's) refuses a client that
		// does not speak it, before any frame.
		s.refuse(w, n, http.StatusBadRequest, "", fmt.Sprintf("subprotocol %s missing (offered: %s)", proto, offered(r)), 0)
		return
	}
	if qErr != nil {
		s.refuse(w, n, http.StatusBadRequest, "", "bad connect query: "+qErr.Error(), 0)
		return
	}
	var q *profile.ConnectQuery // nil without sessions
	if s.Profile.Resume != nil {
		q = &cq
	}
	up := websocket.Upgrader{
		HandshakeTimeout: link.WriteWait,
		// Small read buffers, and write buffers only while writing: an
		// idle connection holds neither net/http's 4 KiB buffers nor its
		// own.
		ReadBufferSize:  readBufferSize,
		WriteBufferPool: &s.writeBuffers,
		CheckOrigin:     func(*http.Request) bool { return true },
		// The profile's subprotocol, offered (checked above), is selected.
		Subprotocols: subprotocols(s.Profile),
		Error: func(w http.ResponseWriter, _ *http.Request, status int, reason error) {
			s.refuse(w, n, status, "", "not upgraded: "+reason.Error(), 0)
		},
	}
	s.mu.Lock()
	s.upgrading++
	s.mu.Unlock()
	ws, err := up.Upgrade(w, r, nil)
	if err != nil {
		s.upgraded()
		return // answered and recorded by up.Error
	}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		s.serveConn(ws, n, rng, q)
	}()
}

// subprotocols is what the server speaks: the profile's subprotocol, or
// none (gorilla then selects none of what a client offers).
func subprotocols(p *profile.Profile) []string {
	if p.Connect.Subprotocol == "" {
		return nil
	}
	return []string{p.Connect.Subprotocol}
}

// offered lists the subprotocols r offers, for a refusal's note, cut
// short: the header is the client's to make as long as it likes.
func offered(r *http.Request) string {
	const most = 100
	s := strings.Join(websocket.Subprotocols(r), ", ")
	switch {
	case s == "":
		return "none"
	case len(s) > most:
		return strings.ToValidUTF8(s[:most], "") + "…"
	}
	return s
}

func (s *Server) isClosed() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closed
}

// door is the engine's handshake side, on this server.
func (s *Server) door() *link.Door {
	return &link.Door{Who: "fakeserver", Clock: s.Clock, Done: s.done, Closed: s.isClosed, Since: s.since,
		Record: func(es ...transcript.Entry) {
			for _, e := range es {
				s.record(e)
			}
		},
		Logf: s.logf}
}

// refuse answers the attempt with an HTTP status, and records it.
func (s *Server) refuse(w http.ResponseWriter, n, status int, fault, note string, retryAfter time.Duration) {
	s.door().Refuse(w, n, status, fault, note, retryAfter)
}
