package profile_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/url"
	"strings"
	"testing"

	"github.com/wschaos/wschaos/profile"
)

// Seed corpora with realistic frames are in testdata/fuzz/<FuzzName>/.

// canonical is raw JSON as json.Marshal re-emits it (compact, HTML-escaped),
// so a payload compares equal to itself after a round trip.
func canonical(t *testing.T, r json.RawMessage) string {
	t.Helper()
	if len(r) == 0 {
		return ""
	}
	var c, e bytes.Buffer
	if err := json.Compact(&c, r); err != nil {
		t.Fatalf("decoded raw JSON %q is not valid: %v", r, err)
	}
	json.HTMLEscape(&e, c.Bytes())
	return e.String()
}

// carried lists the fields m's envelope carries in a profile, for equality
// after a round trip; fields a kind's envelope has no place for are left out.
type carried struct {
	Kind                   profile.Kind
	Type, Status           string
	Seq, SeqReply          int64
	HasSeq                 bool
	Data, Error, Broadcast string
}

func typedFields(t *testing.T, m profile.Message) carried {
	return carried{Kind: m.Kind, Type: m.Type, Data: canonical(t, m.Data)}
}

func mattermostFields(t *testing.T, m profile.Message) carried {
	c := carried{Kind: m.Kind, Data: canonical(t, m.Data)}
	switch m.Kind {
	case profile.Event:
		c.Type, c.Seq, c.HasSeq, c.Broadcast = m.Type, m.Seq, m.HasSeq, canonical(t, m.Broadcast)
	case profile.Request:
		c.Type, c.Seq, c.HasSeq = m.Type, m.Seq, m.HasSeq
	case profile.Reply:
		c.Status, c.SeqReply, c.Error = m.Status, m.SeqReply, canonical(t, m.Error)
	}
	return c
}

// roundTrip checks one decoded frame: a failed Decode wraps ErrEnvelope; a
// successful one encodes, decodes back to the same carried fields, and its
// encoding is a fixed point.
func roundTrip(t *testing.T, c profile.Codec, frame []byte, from profile.Side, fields func(*testing.T, profile.Message) carried) {
	m, err := c.Decode(frame, from)
	if err != nil {
		if !errors.Is(err, profile.ErrEnvelope) {
			t.Fatalf("Decode(%q) error %q does not wrap ErrEnvelope", frame, err)
		}
		return
	}
	if from == profile.Client && m.Kind != profile.Request {
		t.Fatalf("Decode(%q) from the client = %v, want a request", frame, m.Kind)
	}
	if from == profile.Server && m.Kind == profile.Request {
		t.Fatalf("Decode(%q) from the server = a request", frame)
	}
	enc, err := c.Encode(m)
	if err != nil {
		t.Fatalf("Decode(%q) = %+v, which does not encode: %v", frame, m, err)
	}
	m2, err := c.Decode(enc, from)
	if err != nil {
		t.Fatalf("Encode(Decode(%q)) = %s, which does not decode: %v", frame, enc, err)
	}
	if a, b := fields(t, m), fields(t, m2); a != b {
		t.Fatalf("round trip of %q through %s changed the message:\n got %+v\nwant %+v", frame, enc, b, a)
	}
	if enc2, err := c.Encode(m2); err != nil || !bytes.Equal(enc, enc2) {
		t.Fatalf("encoding is not stable: %s then %s (%v)", enc, enc2, err)
	}
}

func side(fromServer bool) profile.Side {
	if fromServer {
		return profile.Server
	}
	return profile.Client
}

func FuzzTypedJSONDecode(f *testing.F) {
	f.Fuzz(func(t *testing.T, frame []byte, fromServer bool) {
		roundTrip(t, profile.TypedJSON, frame, side(fromServer), typedFields)
	})
}

func FuzzMattermostDecode(f *testing.F) {
	f.Fuzz(func(t *testing.T, frame []byte, fromServer bool) {
		roundTrip(t, profile.MattermostJSON, frame, side(fromServer), mattermostFields)
	})
}

// FuzzParseConnectQuery: a query mattermost's names parse rebuilds a URL
// that parses back to the same ConnectQuery; a rejected one names the
// parameter that is wrong.
func FuzzParseConnectQuery(f *testing.F) {
	f.Fuzz(func(t *testing.T, rawQuery string) {
		v, _ := url.ParseQuery(rawQuery) // the server reads r.URL.Query(), which drops bad pairs the same way
		q, err := mm.ParseConnectQuery(v)
		if err != nil {
			if !strings.Contains(err.Error(), "sequence_number") && !strings.Contains(err.Error(), "disconnect_err_code") {
				t.Fatalf("ParseConnectQuery(%q) error %q names no field", rawQuery, err)
			}
			return
		}
		if q.Seq < 0 {
			t.Fatalf("ParseConnectQuery(%q) = %+v, a negative sequence number", rawQuery, q)
		}
		s, err := mm.ConnectURL(wsBase, q)
		if err != nil {
			t.Fatalf("URL(%+v): %v", q, err)
		}
		u, err := url.Parse(s)
		if err != nil {
			t.Fatalf("URL(%+v) = %q, which does not parse: %v", q, s, err)
		}
		if u.Query().Has("disconnect_err_code") != (q.ReportedCode != 0) {
			t.Fatalf("URL(%+v) = %q: disconnect_err_code must appear exactly when non-zero", q, s)
		}
		back, err := mm.ParseConnectQuery(u.Query())
		if err != nil || back != q {
			t.Fatalf("ParseConnectQuery(URL(%+v) = %q) = %+v, %v", q, s, back, err)
		}
	})
}
