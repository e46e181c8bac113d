package bench

import (
	"fmt"
	"os"
	"testing"
)

// roleEnv, when set, makes this test binary a helper process instead of
// running tests: the benchmarks that need more sockets than one process
// may open re-execute it (os.Args[0]) with the role they need.
const roleEnv = "WSCHAOS_BENCH_ROLE"

func TestMain(m *testing.M) {
	if name := os.Getenv(roleEnv); name != "" {
		run, ok := roles[name]
		if !ok {
			fmt.Fprintf(os.Stderr, "bench: unknown %s %q\n", roleEnv, name)
			os.Exit(2)
		}
		os.Exit(run())
	}
	os.Exit(m.Run())
}
