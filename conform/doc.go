// Package conform checks a reconnecting client against a protocol profile:
// a fixed set of conformance scenarios, each a fake server with faults, a
// script of what the application does, and checks of what the server saw
// and what the client reported.
//
// The same scenarios run two ways:
//
//   - In virtual time, for a Go client in the same process: the client takes
//     the clockwork.Clock it is given, and each scenario steps that clock
//     timer by timer, so every wait is checked exactly. See Describe.
//   - In real time, for a client in any language behind an adapter process
//     (docs/adapter.md): the profile's timing constants are scaled down and
//     each wait is checked against its window widened by explicit
//     tolerances. See Adapter and the wschaos conform command.
//
// A client is a Subject: connect, send, close; it reports what it tells its
// application as Events through Env.Emit.
package conform
