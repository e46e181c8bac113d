package main

import (
	"errors"
	"fmt"
	"net"
	"strings"
)

// exitListen is the exit of a command that cannot listen on an address it
// was given (taken, or not this machine's): the command line may be right
// and the machine busy, so it is not exit 2, a bad command line.
const exitListen = 4

// listenError says that the address of flag (what: what it serves)
// cannot be listened on, why, and what to do, with exitListen. cause is
// the listener's error or its text.
func listenError(cmd, flag, addr, what string, cause any) error {
	why := fmt.Sprint(cause)
	var op *net.OpError
	if err, ok := cause.(error); ok && errors.As(err, &op) && op.Err != nil {
		why = op.Err.Error()
	} else if i := strings.LastIndex(why, addr+": "); i >= 0 {
		why = why[i+len(addr)+2:]
	}
	hint := fmt.Sprintf("give another, e.g. --%s %s", flag, freePort(addr))
	if strings.Contains(why, "address already in use") {
		hint = "another program (another wschaos?) holds it; stop it, or " + hint
	}
	return &exitError{code: exitListen, err: fmt.Errorf("%s: cannot listen on %s, %s (--%s): %s; %s", cmd, addr, what, flag, why, hint)}
}

// freePort is addr with port 0, which picks a free port.
func freePort(addr string) string {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return "127.0.0.1:0"
	}
	return net.JoinHostPort(host, "0")
}

// checkAddr checks an address flag is host:port, before anything listens:
// a malformed one is a bad command line (exit 2), with an example.
func checkAddr(cmd, flag, addr string) error {
	_, port, err := net.SplitHostPort(addr)
	if err == nil {
		_, err = net.LookupPort("tcp", port)
	}
	if err != nil {
		return usageErr(fmt.Errorf("%s: --%s %s: want host:port, e.g. --%s 127.0.0.1:8080 (port 0 picks a free one)", cmd, flag, addr, flag))
	}
	return nil
}
