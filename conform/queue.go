package conform

import (
	"encoding/json"
	"slices"
	"time"

	"github.com/wschaos/wschaos/chaos"
	"github.com/wschaos/wschaos/fakeserver"
	"github.com/wschaos/wschaos/profile"
)

func queues(p *profile.Profile) bool { return p.Queue.Enabled && p.SendType != "" }

// text is the payload the queue scenarios send.
type text struct {
	Text string `json:"text"`
}

// sent lists, in arrival order, the texts of the profile's send messages
// the server received.
func sent(p *profile.Profile, es []fakeserver.Entry) []string {
	var out []string
	for _, e := range es {
		if e.Kind == fakeserver.KindRecv && e.Msg != nil && e.Msg.Type == p.SendType {
			out = append(out, textOf(e.Msg.Data))
		}
	}
	return out
}

// textOf reads the text the queue scenarios sent: {"text": …} as the
// message's data, or as the text of a plain-text frame (the text codec
// hands the frame over as a JSON string); anything else as it is.
func textOf(data json.RawMessage) string {
	var x text
	if json.Unmarshal(data, &x) == nil && x.Text != "" {
		return x.Text
	}
	var frame string
	if json.Unmarshal(data, &frame) == nil && json.Unmarshal([]byte(frame), &x) == nil && x.Text != "" {
		return x.Text
	}
	return string(data)
}

func isSend(p *profile.Profile) func(fakeserver.Entry) bool {
	return func(e fakeserver.Entry) bool { return e.Msg != nil && e.Msg.Type == p.SendType }
}

// queueWindow is how long, in profile time, the queue scenario keeps the
// client refused while it queues: room for the sends on the real clock
// even where the first wait is a few milliseconds (phoenix: 10 ms).
const queueWindow = time.Second

// queueRefusals is the fewest refusals whose waits add up to queueWindow
// at the scenario's scale.
func queueRefusals(t *T) int {
	p := t.Profile()
	var sum time.Duration
	for n := 1; n < maxResetRefusals; n++ {
		d, ok := wait(p, n)
		if !ok {
			return max(1, n-1)
		}
		if sum += d; sum >= time.Duration(float64(queueWindow)*t.scale) {
			return n
		}
	}
	return maxResetRefusals
}

var queueOrderScenario = Scenario{
	Name:    "queue-order",
	Checks:  "sends while disconnected are flushed on open in order, exactly once, before a send made on open, and never again",
	Applies: queues,
	Faults: func(t *T) []chaos.Fault {
		return []chaos.Fault{refuseFirst(queueRefusals(t))}
	},
	Run: func(t *T) {
		p := t.Profile()
		k := queueRefusals(t)
		t.Connect()
		t.AwaitCount("the refused attempt", 0, 1, fakeserver.KindRefuse, nil)
		want := []string{"queued-1", "queued-2", "queued-3", "after-open"}
		for _, s := range want[:3] {
			if err := t.Send(p.SendType, text{s}); err != nil {
				t.Fatalf("a send while disconnected was refused (%v); the profile queues it", err)
			}
		}
		// The application sends as soon as it hears of the open, as apps
		// do from their open handler: that send must not overtake the queue.
		var total time.Duration
		for n := 1; n <= k; n++ {
			d, _ := wait(p, n)
			total += d
		}
		afterOpen := t.SendOnConnected(total, p.SendType, text{want[3]})
		if ofKind(t.Entries(), fakeserver.KindOpen) > 0 {
			t.Fatalf("the client reconnected before the sends were queued: nothing checked (raise the scale)")
		}
		before := t.followRefusals(k)
		t.AwaitCount("the open", before, 1, fakeserver.KindOpen, nil)
		t.AwaitEvent("the connected state", 0, 1, isState(StateConnected))
		if err := <-afterOpen; err != nil {
			t.Fatalf("a send made on open failed: %v", err)
		}
		t.AwaitCount("the four messages", 0, len(want), fakeserver.KindRecv, isSend(p))
		// A new session must not get the old queue again.
		first, _ := wait(p, 1)
		t.Server().CutAll(chaos.Cut{Kind: chaos.CloseFrame, Code: profile.StatusGoingAway, Reason: "restart"})
		t.Settle()
		t.AwaitCount("the reconnect after a restart", first, 2, fakeserver.KindOpen, nil)
		t.Quiet(max(first, time.Duration(float64(queueWindow/10)*t.scale))) // room for a duplicate to show
		if got := sent(p, t.Entries()); !slices.Equal(got, want) {
			t.Errorf("the server received %q; want %q: the queue in order, once each, before the send made on open", got, want)
		}
	},
}
