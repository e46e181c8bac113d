package client_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"strings"
	"testing"

	"github.com/wschaos/wschaos/client"
	"github.com/wschaos/wschaos/profile"
)

func boundedQueue(limit int, full profile.QueueFull) *profile.Profile {
	p := profile.QueueProfile()
	p.Queue.Limit, p.Queue.Full = limit, full
	return p
}

// TestQueueFull: a full queue refuses (error), drops the new send
// (drop-newest) or the oldest queued one (drop-oldest), as the profile
// says; a drop is logged at Warn and counted.
func TestQueueFull(t *testing.T) {
	for _, tc := range []struct {
		full    profile.QueueFull
		err     error  // of the third send
		flushed string // what the next open flushes
		dropped int
	}{
		{profile.QueueError, client.ErrQueueFull, "a b", 0},
		{profile.QueueDropNewest, nil, "a b", 1},
		{profile.QueueDropOldest, nil, "b c", 1},
	} {
		t.Run(string(tc.full), func(t *testing.T) {
			pr := newPeer(t)
			var logs bytes.Buffer
			r := newRig(t, pr.url(), boundedQueue(2, tc.full), func(o *client.Options) {
				o.Logger = slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelWarn}))
			})
			r.send("message.send", "a")
			r.send("message.send", "b")
			if err := r.c.Send(context.Background(), "message.send", "c"); !errors.Is(err, tc.err) {
				t.Fatalf("the send past the limit returned %v; want %v", err, tc.err)
			}
			if r.c.Queued() != 2 || r.c.Dropped() != tc.dropped {
				t.Fatalf("queued %d, dropped %d; want 2 and %d", r.c.Queued(), r.c.Dropped(), tc.dropped)
			}
			if warned := strings.Contains(logs.String(), "level=WARN"); warned != (tc.dropped > 0) {
				t.Fatalf("a drop is logged at Warn, nothing else is; the log: %q", logs.String())
			}
			pc := connect(t, pr, r)
			var got []string
			for range 2 {
				var text string
				json.Unmarshal(decode(t, profile.QueueProfile(), pc.next()).Data, &text)
				got = append(got, text)
			}
			if strings.Join(got, " ") != tc.flushed {
				t.Fatalf("the open flushed %q; want %q", got, tc.flushed)
			}
		})
	}
}

// TestQueueUnboundedOrDisabled: limit 0 queues without bound (phoenix); a
// profile without a queue refuses sends while not connected (mattermost).
func TestQueueUnboundedOrDisabled(t *testing.T) {
	r := newRig(t, "ws://127.0.0.1:1/never", profile.ByName("phoenix"))
	for range 1000 {
		r.send("new_msg", "x")
	}
	if r.c.Queued() != 1000 || r.c.Dropped() != 0 {
		t.Fatalf("phoenix queued %d and dropped %d of 1000; want all queued", r.c.Queued(), r.c.Dropped())
	}
	r = newRig(t, "ws://127.0.0.1:1/never", profile.MattermostProfile())
	if err := r.c.Send(context.Background(), "typing", nil); !errors.Is(err, client.ErrNotConnected) {
		t.Fatalf("mattermost's send while not connected returned %v; want ErrNotConnected", err)
	}
}
