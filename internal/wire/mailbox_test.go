package wire

import "testing"

func TestMailboxHandsWorkToTheLoopUntilItEnds(t *testing.T) {
	m := NewMailbox[int]()
	got := make(chan int, 1)
	loopDone := make(chan struct{})
	go func() { // the loop: one result, one command, then it ends
		defer close(loopDone)
		got <- <-m.In
		cmd := <-m.Cmds
		cmd.Run()
		cmd.Finish()
		m.End()
	}()
	if !m.Deliver(7) || <-got != 7 {
		t.Fatal("the loop did not take the result")
	}
	ran := false
	if !m.Do(func() { ran = true }) || !ran {
		t.Fatal("Do returned before its work ran on the loop")
	}
	<-loopDone
	if m.Deliver(8) {
		t.Error("Deliver after the loop ended reported success")
	}
	if m.Do(func() { t.Error("work ran after the loop ended") }) {
		t.Error("Do after the loop ended reported success")
	}
}
