package conform

import (
	"errors"
	"fmt"
	"strings"

	"github.com/wschaos/wschaos/chaos"
	faultspec "github.com/wschaos/wschaos/chaos/spec"
	"github.com/wschaos/wschaos/profile"
)

// faults reads the fault command: the shared vocabulary, all of it, since
// the fake server owns its sessions.
var faults = faultspec.Default()

// parseFault reads a fault command's arguments: a fault name, its
// positional arguments, then key=value selectors that aim it.
//
//	refuse 503 attempts=1-3
//	close-after 10s code=1001 attempts=1
//	swallow-pongs every=2
//	delay-pongs 29.999s
//
// An error names the fault and the part that is wrong:
// `fault refuse: args[0]: "soon" is not an HTTP status like 503`.
func parseFault(args []string) (chaos.Fault, error) {
	if len(args) == 0 {
		return nil, fmt.Errorf("fault: name a fault (known: %s)", strings.Join(faults.Names(), ", "))
	}
	return faults.Line(args)
}

// codeSel reads the code=N of the cut and check closes commands.
func codeSel(sel map[string]string, def profile.StatusCode) (profile.StatusCode, error) {
	code, err := faultspec.CloseCode(sel, def)
	var se *faultspec.Error
	if errors.As(err, &se) {
		return 0, fmt.Errorf("code=%s", se.Msg)
	}
	return code, err
}
