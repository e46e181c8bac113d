// Package fakeserver is a scriptable fake WebSocket server for testing
// reconnecting clients, shaped like net/http/httptest: configure a Server
// between NewUnstartedServer and Start, point the client at URL, Close it.
//
// The server plays a protocol profile (subprotocol, handshake message,
// pongs or its own pings, acks, replies, hello and resume), injects chaos
// faults, and records everything it sees and does in a Transcript stamped
// with virtual time from its clockwork.Clock:
//
//	s := fakeserver.NewUnstartedServer(profile.MattermostProfile())
//	s.Clock = vclock.New()
//	s.Faults = []chaos.Fault{chaos.OnAttempt(1, chaos.Refuse(503))}
//	s.Start()
//	defer s.Close()
//	// ... run the client against s.URL, advance the clock ...
//	fmt.Print(s.Transcript())
//
// Each connection is served by two goroutines: a reader that only reads
// frames, and a loop that does everything else in order (faults, profile,
// delayed frames, scheduled cuts, every write). Faults are only ever called
// from the loop. A connection arms one clock timer, and only while it holds
// a delayed frame, a scheduled cut or (heartbeat mode server) its next
// ping, so a spec can count timers with BlockUntilContext. Network
// deadlines run on real time, as safety nets only.
//
// Client WebSocket pings are always answered with pongs (RFC 6455 requires
// it), through the loop and its faults, marked Frame.Pong.
package fakeserver
