package profile_test

import (
	"reflect"
	"testing"
	"time"

	"github.com/wschaos/wschaos/backoff"
	"github.com/wschaos/wschaos/profile"
)

func TestPingPong(t *testing.T) {
	tests := []struct {
		name      string
		p         *profile.Profile
		seq       int64
		pingFrame string // the ping on the wire
		pongFrame string // the server's answer on the wire
	}{
		{"queue", profile.QueueProfile(), 1, `{"type":"ping"}`, `{"type":"pong"}`},
		{"mattermost", profile.MattermostProfile(), 1, `{"action":"ping","seq":1}`, `{"status":"OK","seq_reply":1,"data":{"text":"pong"}}`},
		{"mattermost seq 0", profile.MattermostProfile(), 0, `{"action":"ping","seq":0}`, `{"status":"OK","seq_reply":0,"data":{"text":"pong"}}`},
		{"mattermost seq 41", profile.MattermostProfile(), 41, `{"action":"ping","seq":41}`, `{"status":"OK","seq_reply":41,"data":{"text":"pong"}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ping := tt.p.Ping(tt.seq)
			if ping.Kind != profile.Request || ping.Type != "ping" || ping.Seq != tt.seq || !ping.HasSeq {
				t.Errorf("Ping(%d) = %+v, want a ping request with seq %d", tt.seq, ping, tt.seq)
			}
			frame, err := tt.p.Codec.Encode(ping)
			if err != nil || string(frame) != tt.pingFrame {
				t.Errorf("Encode(Ping(%d)) = %s, %v; want %s", tt.seq, frame, err, tt.pingFrame)
			}
			// The server decodes the ping off the wire and answers it.
			got, err := tt.p.Codec.Decode(frame, profile.Client)
			if err != nil {
				t.Fatalf("Decode(%s) from the client: %v", frame, err)
			}
			pong := tt.p.Pong(got)
			frame, err = tt.p.Codec.Encode(pong)
			if err != nil || string(frame) != tt.pongFrame {
				t.Errorf("Encode(Pong) = %s, %v; want %s", frame, err, tt.pongFrame)
			}
			// The client decodes the pong off the wire and matches it.
			back, err := tt.p.Codec.Decode(frame, profile.Server)
			if err != nil {
				t.Fatalf("Decode(%s) from the server: %v", frame, err)
			}
			if !tt.p.IsPong(back, tt.seq) {
				t.Errorf("IsPong(%+v, %d) = false, want true", back, tt.seq)
			}
		})
	}
}

func TestIsPong(t *testing.T) {
	queue, mm := profile.QueueProfile(), profile.MattermostProfile()
	tests := []struct {
		name string
		p    *profile.Profile
		m    profile.Message
		seq  int64
		want bool
	}{
		{"queue pong", queue, profile.Message{Kind: profile.Event, Type: "pong"}, 7, true},
		{"queue pong carries no id", queue, profile.Message{Kind: profile.Event, Type: "pong", Seq: 3, HasSeq: true}, 7, true},
		{"queue other event", queue, profile.Message{Kind: profile.Event, Type: "message.received"}, 7, false},
		{"queue pong request", queue, profile.Message{Kind: profile.Request, Type: "pong"}, 7, false},
		{"queue reply", queue, profile.Message{Kind: profile.Reply, SeqReply: 7}, 7, false},
		{"mattermost reply", mm, profile.Message{Kind: profile.Reply, Status: "OK", SeqReply: 7}, 7, true},
		{"mattermost reply to another request", mm, profile.Message{Kind: profile.Reply, Status: "OK", SeqReply: 6}, 7, false},
		{"mattermost event with that seq", mm, profile.Message{Kind: profile.Event, Type: "pong", Seq: 7, HasSeq: true}, 7, false},
	}
	for _, tt := range tests {
		if got := tt.p.IsPong(tt.m, tt.seq); got != tt.want {
			t.Errorf("%s: IsPong(%+v, %d) = %v, want %v", tt.name, tt.m, tt.seq, got, tt.want)
		}
	}
}

// TestShippedProfiles pins the contract SPEC.md states for each profile.
func TestShippedProfiles(t *testing.T) {
	q := profile.QueueProfile()
	if q.Name != "queue" || q.Heartbeat.Interval != 30*time.Second || q.Heartbeat.OnOpen ||
		q.Heartbeat.PingType != "ping" || q.Heartbeat.PongType != "pong" || !q.Queue.Enabled ||
		q.Resume != nil || q.Replies || q.ErrorType != "error" {
		t.Errorf("QueueProfile() = %+v, not the queue profile's contract", q)
	}
	if q.Codec != profile.Codec(profile.TypedJSON) {
		t.Errorf("QueueProfile().Codec = %T, want TypedJSON", q.Codec)
	}

	m := profile.MattermostProfile()
	if m.Name != "mattermost" || m.Heartbeat.Interval != 30*time.Second || !m.Heartbeat.OnOpen ||
		m.Heartbeat.CloseCode != profile.StatusPingTimeout || !m.Heartbeat.ResetFailures ||
		m.Queue.Enabled || !m.Replies {
		t.Errorf("MattermostProfile() = %+v, not the webapp client's contract", m)
	}
	if r := m.Resume; r == nil || r.HelloType != "hello" || r.BufferSize != 128 ||
		r.GapCloseCode != profile.StatusSeqMismatch || !r.ResetFailures {
		t.Errorf("MattermostProfile().Resume = %+v, want hello, 128, 4001, reset", r)
	}
	if m.Codec != profile.Codec(profile.MattermostJSON) {
		t.Errorf("MattermostProfile().Codec = %T, want MattermostJSON", m.Codec)
	}
	if m.Backoff != backoff.Policy(backoff.MattermostDefaults) {
		t.Errorf("MattermostProfile().Backoff = %#v, want MattermostDefaults", m.Backoff)
	}
	if profile.StatusPingTimeout != 4000 || profile.StatusSeqMismatch != 4001 {
		t.Errorf("close codes = %d, %d; want 4000, 4001", profile.StatusPingTimeout, profile.StatusSeqMismatch)
	}
}

func TestByNameReturnsFreshCopies(t *testing.T) {
	names := profile.Names()
	if len(names) < 5 || names[0] != "queue" || names[1] != "mattermost" {
		t.Fatalf("Names() = %v, want queue, mattermost, then the others", names)
	}
	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			a, b, want := profile.ByName(name), profile.ByName(name), profile.ByName(name)
			if a == nil || a.Name != name {
				t.Fatalf("ByName(%q) = %+v", name, a)
			}
			if a == b {
				t.Fatalf("ByName(%q) returned the same pointer twice", name)
			}
			a.Name = "changed"
			a.Heartbeat.Interval = time.Hour
			a.Queue.Limit = 1
			a.Replies = !a.Replies
			a.Backoff = backoff.Steps{Delays: []time.Duration{time.Hour}}
			if a.Resume != nil {
				a.Resume.BufferSize = 1
				a.Resume.HelloType = "changed"
			}
			a.Close.Fatal = append(a.Close.Fatal, profile.CodeRange{Lo: 4999, Hi: 4999})
			if !reflect.DeepEqual(b, want) {
				t.Errorf("mutating one copy changed another:\n%+v\nwant\n%+v", b, want)
			}
		})
	}
	if p := profile.ByName("discord"); p != nil {
		t.Errorf("ByName(%q) = %+v, want nil", "discord", p)
	}
}

func TestSideAndKindStrings(t *testing.T) {
	tests := []struct{ got, want string }{
		{profile.Client.String(), "client"},
		{profile.Server.String(), "server"},
		{profile.Event.String(), "event"},
		{profile.Request.String(), "request"},
		{profile.Reply.String(), "reply"},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("String() = %q, want %q", tt.got, tt.want)
		}
	}
}
