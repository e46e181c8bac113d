package profile_test

import (
	"net/url"
	"strings"
	"testing"

	"github.com/wschaos/wschaos/profile"
)

const wsBase = "ws://localhost:8065/api/v4/websocket"

func TestResumeQueryURL(t *testing.T) {
	tests := []struct {
		name string
		base string
		q    profile.ResumeQuery
		want string
	}{
		{"first connect", wsBase, profile.ResumeQuery{},
			wsBase + "?connection_id=&sequence_number=0"},
		{"resume", wsBase, profile.ResumeQuery{ConnectionID: "abc123", SequenceNumber: 42},
			wsBase + "?connection_id=abc123&sequence_number=42"},
		{"after a close code", wsBase, profile.ResumeQuery{ConnectionID: "abc123", SequenceNumber: 42, DisconnectCode: profile.StatusSeqMismatch},
			wsBase + "?connection_id=abc123&disconnect_err_code=4001&sequence_number=42"},
		{"id escaped", wsBase, profile.ResumeQuery{ConnectionID: "a b&c=d"},
			wsBase + "?connection_id=a+b%26c%3Dd&sequence_number=0"},
		{"base query kept", wsBase + "?token=t1", profile.ResumeQuery{SequenceNumber: 1},
			wsBase + "?connection_id=&sequence_number=1&token=t1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.q.URL(tt.base)
			if err != nil || got != tt.want {
				t.Fatalf("URL(%q) = %q, %v; want %q", tt.base, got, err, tt.want)
			}
			u, err := url.Parse(got)
			if err != nil {
				t.Fatalf("url.Parse(%q): %v", got, err)
			}
			v := u.Query()
			if !v.Has("connection_id") || !v.Has("sequence_number") {
				t.Errorf("URL %q lacks connection_id or sequence_number", got)
			}
			if has := v.Has("disconnect_err_code"); has != (tt.q.DisconnectCode != 0) {
				t.Errorf("URL %q: disconnect_err_code present = %v, want it only for a non-zero code", got, has)
			}
			back, err := profile.ParseResumeQuery(v)
			if err != nil || back != tt.q {
				t.Errorf("ParseResumeQuery(%q) = %+v, %v; want %+v", u.RawQuery, back, err, tt.q)
			}
		})
	}
}

func TestResumeQueryBadBase(t *testing.T) {
	if got, err := (profile.ResumeQuery{}).URL("ws://host:port:bad/\x7f"); err == nil {
		t.Errorf("URL with a malformed base = %q, want an error", got)
	}
}

func TestParseResumeQuery(t *testing.T) {
	tests := []struct {
		raw     string
		want    profile.ResumeQuery
		errSays string // "" for no error
	}{
		{"", profile.ResumeQuery{}, ""},
		{"connection_id=&sequence_number=0", profile.ResumeQuery{}, ""},
		{"connection_id=abc&sequence_number=7", profile.ResumeQuery{ConnectionID: "abc", SequenceNumber: 7}, ""},
		{"connection_id=abc&sequence_number=7&disconnect_err_code=1006", profile.ResumeQuery{ConnectionID: "abc", SequenceNumber: 7, DisconnectCode: profile.StatusAbnormalClosure}, ""},
		{"sequence_number=9223372036854775807", profile.ResumeQuery{SequenceNumber: 1<<63 - 1}, ""},
		{"sequence_number=abc", profile.ResumeQuery{}, "sequence_number"},
		{"sequence_number=-1", profile.ResumeQuery{}, "sequence_number"},
		{"sequence_number=1.5", profile.ResumeQuery{}, "sequence_number"},
		{"sequence_number=9223372036854775808", profile.ResumeQuery{}, "sequence_number"},
		{"connection_id=abc&disconnect_err_code=close", profile.ResumeQuery{}, "disconnect_err_code"},
	}
	for _, tt := range tests {
		v, err := url.ParseQuery(tt.raw)
		if err != nil {
			t.Fatalf("url.ParseQuery(%q): %v", tt.raw, err)
		}
		got, err := profile.ParseResumeQuery(v)
		if tt.errSays != "" {
			if err == nil || !strings.Contains(err.Error(), tt.errSays) {
				t.Errorf("ParseResumeQuery(%q) = %+v, %v; want an error naming %s", tt.raw, got, err, tt.errSays)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("ParseResumeQuery(%q) = %+v, %v; want %+v", tt.raw, got, err, tt.want)
		}
	}
}
