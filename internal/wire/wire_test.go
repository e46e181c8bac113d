package wire_test

import (
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/wschaos/wschaos/chaos"
	"github.com/wschaos/wschaos/internal/wire"
	"github.com/wschaos/wschaos/profile"
	"github.com/wschaos/wschaos/vclock"
)

func TestDelaysKeepOrderAndArmOnlyWhileWaiting(t *testing.T) {
	clock := vclock.New()
	q := wire.NewDelays[string](clock.For("conn"))
	q.Arm()
	if clock.Pending("conn") != 0 || q.C() != nil {
		t.Fatal("an empty queue armed a timer")
	}
	q.Add(2*time.Second, "late")
	q.Add(time.Second, "first")
	q.Add(time.Second, "second") // same time: after the one added before
	q.Arm()
	if clock.Pending("conn") != 1 {
		t.Fatalf("pending timers = %d, want 1 for the whole queue", clock.Pending("conn"))
	}
	if _, ok := q.Due(); ok {
		t.Fatal("something was due before its time")
	}
	if d, _ := clock.AdvanceToNext(); d != time.Second {
		t.Fatalf("timer armed for %v, want the head's 1s", d)
	}
	<-q.C()
	q.Fired()
	var got []string
	for v, ok := q.Due(); ok; v, ok = q.Due() {
		got = append(got, v)
	}
	if len(got) != 2 || got[0] != "first" || got[1] != "second" {
		t.Fatalf("due at 1s: %q, want [first second]", got)
	}
	q.Arm()
	if left := q.Drop(); len(left) != 1 || left[0] != "late" || clock.Pending("conn") != 0 {
		t.Fatalf("Drop = %q with %d timers, want [late] and none", left, clock.Pending("conn"))
	}
}

func TestActionSaysWhatAFaultDid(t *testing.T) {
	m := &profile.Message{Kind: profile.Event, Type: "posted", Seq: 3, HasSeq: true}
	in := chaos.Frame{Dir: profile.Server, Index: 3, Op: websocket.TextMessage, Data: []byte("x"), Msg: m}
	delayed := in
	delayed.Delay = time.Second
	extra := chaos.Frame{Dir: profile.Server, Index: 9, Op: websocket.TextMessage}
	for _, tc := range []struct {
		out  []chaos.Frame
		want string
	}{
		{[]chaos.Frame{in}, ""},
		{nil, "dropped server frame #3 (event posted seq=3)"},
		{[]chaos.Frame{in, in}, "duplicated server frame #3 (event posted seq=3) (2 copies)"},
		{[]chaos.Frame{delayed}, "delayed server frame #3 (event posted seq=3) by 1s"},
		{[]chaos.Frame{extra, in}, "added server frame #9 (text) before server frame #3 (event posted seq=3)"},
	} {
		if got := wire.Action(in, tc.out); got != tc.want {
			t.Errorf("Action(%d frames) = %q, want %q", len(tc.out), got, tc.want)
		}
	}
}

func TestFrameTextQuotesWhatIsNotOneLineOfText(t *testing.T) {
	if got := wire.FrameText(websocket.TextMessage, `{"a":1}`); got != `{"a":1}` {
		t.Errorf("plain text: %q", got)
	}
	if got := wire.FrameText(websocket.BinaryMessage, "\xff\x00"); got != `binary "\xff\x00"` {
		t.Errorf("binary: %q", got)
	}
	if got := wire.FrameText(websocket.TextMessage, "a\nb"); got != `text "a\nb"` {
		t.Errorf("two lines: %q", got)
	}
}
