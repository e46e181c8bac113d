package fakeserver

// A loop turn (a client frame, a timer, a command) is atomic as the client
// sees it: the turn records its entries and arms its timers, then
// publishes the entries, and only then do its frames, closes and cuts
// reach the socket. So whatever the client does in answer to a turn (and
// whatever a spec that saw it do so reads in the transcript) comes after
// every entry of that turn is in the transcript, stamped with the virtual
// time the turn ran at: a spec that steps the clock on seeing an effect
// cannot land in the middle of a turn and stamp its end later.

// effect queues a socket operation for the end of this turn.
func (c *conn) effect(fn func()) { c.effects = append(c.effects, fn) }

// finishTurn ends a loop turn: due work, timers armed, entries published,
// then the socket operations in the order the turn asked for them, then
// what those recorded in turn (a write that failed).
func (c *conn) finishTurn() {
	c.runDue()
	c.publish()
	for len(c.effects) > 0 {
		fx := c.effects[0]
		c.effects = c.effects[1:]
		fx()
	}
	c.publish()
}
