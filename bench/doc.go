// Package bench measures wschaos against its performance targets. Every
// comparison runs its sides interleaved in one run, so a noisy machine
// moves all of them alike:
//
//   - BenchmarkEchoLatency and BenchmarkEchoThroughput: a loopback
//     WebSocket echo reached directly, through the wschaos proxy with no
//     fault, and through Toxiproxy (in process, a plain TCP proxy with no
//     toxics). Latency is interleaved round trip by round trip; throughput
//     burst by burst.
//   - BenchmarkServerCapacity: how many heartbeating connections one fake
//     server process holds, and its memory per connection. The client
//     sockets live in child processes (this test binary, re-executed), so
//     the server's process has the whole open-file limit to itself.
//   - BenchmarkHerd: thousands of reference clients on one virtual clock,
//     dropped at once, reconnecting under each backoff policy; the
//     reconnects per 100 ms of virtual time. TestHerdPlot draws them as
//     docs/herd.svg (go test ./bench -run TestHerdPlot -v -timeout 30m
//     -args -write-plot).
//   - TestSuiteWallTime: the wall time of the scenario suite, reference
//     client and twins apart (go test ./bench -run TestSuiteWallTime -v
//     -timeout 60m -args -suite-runs=3).
//
// Every benchmark is small enough at -benchtime=1x for CI; flags scale
// them up for the figures in BENCHMARKS.md, which gives the command for
// each.
package bench
