package fakeserver_test

import (
	"errors"
	"net/url"
	"strings"
	"testing"

	"github.com/gorilla/websocket"
	"github.com/wschaos/wschaos/fakeserver"
	"github.com/wschaos/wschaos/profile"
)

// withQuery is s.URL with the query v.
func withQuery(s *fakeserver.Server, v url.Values) string { return s.URL + "?" + v.Encode() }

// TestResumeReadsTheProfilesNames: the connect query and the hello use the
// names the profile gives them, not mattermost's.
func TestResumeReadsTheProfilesNames(t *testing.T) {
	p := profile.MattermostProfile()
	p.Resume.IDParam, p.Resume.SeqParam, p.Resume.IDField = "cid", "next", "id"
	s, _ := newServer(t, p)

	ws := dial(t, withQuery(s, url.Values{"cid": {""}, "next": {"0"}}))
	hello := read(t, ws, p)
	if hello.Type != "hello" || hello.Field("id") != "conn-1" || hello.Field("connection_id") != "" {
		t.Fatalf("hello = %v %s; want the id under \"id\" only", hello, hello.Data)
	}
	for range 2 {
		s.Emit("e", nil)
	}
	read(t, ws, p)
	read(t, ws, p)
	ws.Close()
	waitLine(t, s, "#1 close 1006 by client")

	ws2 := dial(t, withQuery(s, url.Values{"cid": {"conn-1"}, "next": {"3"}}))
	waitLine(t, s, "#2 open session=conn-1 resumed: replaying from seq 3")
	s.Emit("e", nil)
	if m := read(t, ws2, p); m.Type != "e" || m.Seq != 3 {
		t.Fatalf("got %v, want e seq=3 on the resumed session", m)
	}
	ws2.Close()
	waitLine(t, s, "#2 close 1006 by client")

	// mattermost's own names mean nothing to this profile: a new session.
	dial(t, withQuery(s, url.Values{"connection_id": {"conn-1"}, "sequence_number": {"4"}}))
	waitLine(t, s, "#3 open session=conn-2")
}

func TestReportedCodeIsInTheDialEntry(t *testing.T) {
	p := profile.MattermostProfile() // report: query, query: disconnect_err_code
	s, _ := newServer(t, p)
	ws := dial(t, withQuery(s, url.Values{"connection_id": {""}, "disconnect_err_code": {"4001"}, "sequence_number": {"0"}}))
	read(t, ws, p)
	e := waitLine(t, s, "#1 dial")
	if e.ReportedCode != profile.StatusSeqMismatch {
		t.Errorf("ReportedCode = %d, want 4001", e.ReportedCode)
	}
	if want := "#1 dial /ws?connection_id=&disconnect_err_code=4001&sequence_number=0 (reports 4001)"; !strings.HasSuffix(e.String(), want) {
		t.Errorf("dial line %q, want it to end %q", e.String(), want)
	}

	dial(t, withQuery(s, url.Values{"connection_id": {""}, "sequence_number": {"0"}}))
	e = waitLine(t, s, "#2 dial")
	if e.ReportedCode != 0 || strings.Contains(e.String(), "reports") {
		t.Errorf("dial without a code: %q, ReportedCode %d; want nothing reported", e.String(), e.ReportedCode)
	}
}

func TestReportedCodeFollowsTheProfile(t *testing.T) {
	t.Run("the profile's parameter name", func(t *testing.T) {
		p := profile.MattermostProfile()
		p.Close.Query = "lastcode"
		s, _ := newServer(t, p)
		dial(t, withQuery(s, url.Values{"lastcode": {"1006"}, "disconnect_err_code": {"4000"}}))
		if e := waitLine(t, s, "#1 dial"); e.ReportedCode != profile.StatusAbnormalClosure {
			t.Errorf("ReportedCode = %d, want 1006 from lastcode", e.ReportedCode)
		}
	})
	t.Run("report both", func(t *testing.T) {
		p := profile.QueueProfile()
		p.Close.Report, p.Close.Query = profile.ReportBoth, "code"
		s, _ := newServer(t, p)
		dial(t, withQuery(s, url.Values{"code": {"4000"}}))
		if e := waitLine(t, s, "#1 dial"); e.ReportedCode != profile.StatusPingTimeout {
			t.Errorf("ReportedCode = %d, want 4000", e.ReportedCode)
		}
	})
	t.Run("report frame reads no query", func(t *testing.T) {
		p := profile.QueueProfile()
		s, _ := newServer(t, p)
		dial(t, withQuery(s, url.Values{"disconnect_err_code": {"4000"}}))
		if e := waitLine(t, s, "#1 dial"); e.ReportedCode != 0 {
			t.Errorf("ReportedCode = %d, want 0: the queue profile reports codes in the frame", e.ReportedCode)
		}
	})
}

func TestBadReportedCodeIsRefusedWith400(t *testing.T) {
	for _, code := range []string{"x", "0", "5000"} {
		t.Run(code, func(t *testing.T) {
			s, _ := newServer(t, profile.MattermostProfile())
			_, resp, err := websocket.DefaultDialer.DialContext(ctx(t), withQuery(s, url.Values{"disconnect_err_code": {code}}), nil)
			if !errors.Is(err, websocket.ErrBadHandshake) || resp.StatusCode != 400 {
				t.Fatalf("dial: %v; want 400", err)
			}
			l := waitLine(t, s, "refuse 400")
			if want := `bad connect query: disconnect_err_code "` + code + `" is not a close code`; !strings.Contains(l.Note, want) {
				t.Errorf("refusal note %q, want %q", l.Note, want)
			}
		})
	}
}
