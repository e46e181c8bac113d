package wire

// Mailbox is the way into a connection's loop goroutine, which owns all of
// the connection's state: its reader hands it results, other goroutines
// hand it work, and both stop waiting once the loop has ended. The fake
// server and the proxy serve their connections this way.
type Mailbox[R any] struct {
	// In and Cmds are for the loop to select on; Done is closed by the
	// loop (End) when it returns.
	In   chan R
	Cmds chan Command
	Done chan struct{}
}

// Command is work for the loop: it runs it and then calls Finish.
type Command struct {
	Run  func()
	done chan struct{}
}

// Finish tells the goroutine that asked for the command that it has run.
func (c Command) Finish() { close(c.done) }

// NewMailbox returns an open mailbox.
func NewMailbox[R any]() Mailbox[R] {
	return Mailbox[R]{In: make(chan R), Cmds: make(chan Command), Done: make(chan struct{})}
}

// Deliver hands r to the loop; false once the loop has ended.
func (m Mailbox[R]) Deliver(r R) bool {
	select {
	case m.In <- r:
		return true
	case <-m.Done:
		return false
	}
}

// Do runs fn on the loop and waits for it; false if the loop has ended.
func (m Mailbox[R]) Do(fn func()) bool {
	cmd := Command{Run: fn, done: make(chan struct{})}
	select {
	case m.Cmds <- cmd:
	case <-m.Done:
		return false
	}
	<-cmd.done
	return true
}

// End marks the loop as ended: Deliver and Do stop waiting.
func (m Mailbox[R]) End() { close(m.Done) }
