package conform

import (
	"context"
	"strings"
	"testing"

	"github.com/wschaos/wschaos/profile"
)

// A transcript on the real clock reads in milliseconds, its columns kept;
// other lines are left alone.
func TestRoundTimes(t *testing.T) {
	in := "+1.574123456s #1 dial /ws\n+2.85s     #1 refuse 503\n+4m1.0004s #2 open\n… 3 earlier entries not kept (Keep 5)\n"
	want := "+1.574s    #1 dial /ws\n+2.85s     #1 refuse 503\n+4m1s      #2 open\n… 3 earlier entries not kept (Keep 5)\n"
	if got := roundTimes(in); got != want {
		t.Errorf("roundTimes:\n%s\nwant:\n%s", got, want)
	}
}

// The result keeps what the scenario asked the client and the replies, in
// order, for the report to draw beside the transcript.
func TestResultRecordsTheCommands(t *testing.T) {
	f, err := LoadFile(libraryDir() + "/close.txt")
	if err != nil {
		t.Fatal(err)
	}
	r := RunOne(context.Background(), Config{Profile: profile.QueueProfile(), Virtual: true, Seed: 1}, f.Scenario(), Reference())
	if !r.Passed {
		t.Fatalf("close on the reference client: %s", r.Reason)
	}
	if len(r.Commands) != 2 || !strings.HasPrefix(r.Commands[0].Command, "connect ws://127.0.0.1:") ||
		r.Commands[1].Command != "close" || !r.Commands[0].OK || r.Commands[1].Reply != "ok" ||
		r.Commands[1].At < r.Commands[0].ReplyAt {
		t.Errorf("commands %+v", r.Commands)
	}
}
