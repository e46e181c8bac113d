package client

// State is where the client is in its connection life.
type State int

const (
	// StateDisconnected: not started, or closed on purpose.
	StateDisconnected State = iota
	// StateConnecting: the first attempt is under way.
	StateConnecting
	// StateConnected: a socket is open, past the profile's handshake
	// reply when it has one.
	StateConnected
	// StateReconnecting: waiting to retry, or retrying, after a failure.
	StateReconnecting
	// StateGaveUp: the backoff policy stopped retrying, or the server
	// closed with one of the profile's fatal codes; Reconnect restarts.
	StateGaveUp
	// StateError: a socket is open but the server reported an error
	// (profile ErrorType).
	StateError
)

func (s State) String() string {
	switch s {
	case StateConnecting:
		return "connecting"
	case StateConnected:
		return "connected"
	case StateReconnecting:
		return "reconnecting"
	case StateGaveUp:
		return "gave-up"
	case StateError:
		return "error"
	}
	return "disconnected"
}

// StateChange is one transition, with the error behind it if any.
type StateChange struct {
	From, To State
	Err      error
}

// setState records a transition and queues its notification.
func (c *Client) setState(to State, err error) {
	c.mu.Lock()
	from := c.state
	c.state = to
	c.mu.Unlock()
	if from == to && err == nil {
		return
	}
	c.log.Debug("state", "from", from, "to", to, "err", err)
	c.notifyState(StateChange{From: from, To: to, Err: err})
}
