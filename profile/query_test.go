package profile_test

import (
	"net/url"
	"strings"
	"testing"

	"github.com/wschaos/wschaos/profile"
)

const wsBase = "ws://localhost:8065/api/v4/websocket"

// mm names the connect query's parameters as mattermost does.
var mm = profile.MattermostProfile()

func TestConnectQueryURL(t *testing.T) {
	tests := []struct {
		name string
		base string
		q    profile.ConnectQuery
		want string
	}{
		{"first connect", wsBase, profile.ConnectQuery{},
			wsBase + "?connection_id=&sequence_number=0"},
		{"resume", wsBase, profile.ConnectQuery{ConnectionID: "abc123", Seq: 42},
			wsBase + "?connection_id=abc123&sequence_number=42"},
		{"after a close code", wsBase, profile.ConnectQuery{ConnectionID: "abc123", Seq: 42, ReportedCode: profile.StatusSeqMismatch},
			wsBase + "?connection_id=abc123&disconnect_err_code=4001&sequence_number=42"},
		{"id escaped", wsBase, profile.ConnectQuery{ConnectionID: "a b&c=d"},
			wsBase + "?connection_id=a+b%26c%3Dd&sequence_number=0"},
		{"base query kept", wsBase + "?token=t1", profile.ConnectQuery{Seq: 1},
			wsBase + "?connection_id=&sequence_number=1&token=t1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := mm.ConnectURL(tt.base, tt.q)
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
			if has := v.Has("disconnect_err_code"); has != (tt.q.ReportedCode != 0) {
				t.Errorf("URL %q: disconnect_err_code present = %v, want it only for a non-zero code", got, has)
			}
			back, err := mm.ParseConnectQuery(v)
			if err != nil || back != tt.q {
				t.Errorf("ParseConnectQuery(%q) = %+v, %v; want %+v", u.RawQuery, back, err, tt.q)
			}
		})
	}
}

func TestConnectQueryBadBase(t *testing.T) {
	if got, err := mm.ConnectURL("ws://host:port:bad/\x7f", profile.ConnectQuery{}); err == nil {
		t.Errorf("URL with a malformed base = %q, want an error", got)
	}
}

func TestParseConnectQuery(t *testing.T) {
	tests := []struct {
		raw     string
		want    profile.ConnectQuery
		errSays string // "" for no error
	}{
		{"", profile.ConnectQuery{}, ""},
		{"connection_id=&sequence_number=0", profile.ConnectQuery{}, ""},
		{"connection_id=abc&sequence_number=7", profile.ConnectQuery{ConnectionID: "abc", Seq: 7}, ""},
		{"connection_id=abc&sequence_number=7&disconnect_err_code=1006", profile.ConnectQuery{ConnectionID: "abc", Seq: 7, ReportedCode: profile.StatusAbnormalClosure}, ""},
		{"sequence_number=9223372036854775807", profile.ConnectQuery{Seq: 1<<63 - 1}, ""},
		{"sequence_number=abc", profile.ConnectQuery{}, "sequence_number"},
		{"sequence_number=-1", profile.ConnectQuery{}, "sequence_number"},
		{"sequence_number=1.5", profile.ConnectQuery{}, "sequence_number"},
		{"sequence_number=9223372036854775808", profile.ConnectQuery{}, "sequence_number"},
		{"connection_id=abc&disconnect_err_code=close", profile.ConnectQuery{}, "disconnect_err_code"},
	}
	for _, tt := range tests {
		v, err := url.ParseQuery(tt.raw)
		if err != nil {
			t.Fatalf("url.ParseQuery(%q): %v", tt.raw, err)
		}
		got, err := mm.ParseConnectQuery(v)
		if tt.errSays != "" {
			if err == nil || !strings.Contains(err.Error(), tt.errSays) {
				t.Errorf("ParseConnectQuery(%q) = %+v, %v; want an error naming %s", tt.raw, got, err, tt.errSays)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("ParseConnectQuery(%q) = %+v, %v; want %+v", tt.raw, got, err, tt.want)
		}
	}
}
