//go:build linux

package quiet

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
)

// Supported: here goroutines and sockets can be observed.
const Supported = true

// observeAll snapshots the goroutines on both sides of reading the
// sockets: a goroutine the kernel woke just after the read shows in the
// second snapshot. (The snapshots are cheap; a read of the tables is not.)
func observeAll() snapshot {
	if idle, why := goroutinesAtRest(); !idle {
		return snapshot{why: why}
	}
	sockets, why := readSockets()
	if why != "" {
		return snapshot{why: why}
	}
	if idle, why := goroutinesAtRest(); !idle {
		return snapshot{why: why}
	}
	return snapshot{sockets: sockets}
}

// TCP states as the tables number them (include/net/tcp_states.h).
const (
	tcpEstablished = 0x01
	tcpSynSent     = 0x02
	tcpSynRecv     = 0x03
	tcpFinWait1    = 0x04
	tcpFinWait2    = 0x05
	tcpTimeWait    = 0x06
	tcpClose       = 0x07
	tcpCloseWait   = 0x08
	tcpLastAck     = 0x09
	tcpListen      = 0x0A
	tcpClosing     = 0x0B
	tcpNewSynRecv  = 0x0C
)

var tcpStateNames = map[int]string{
	tcpEstablished: "ESTABLISHED", tcpSynSent: "SYN_SENT", tcpSynRecv: "SYN_RECV",
	tcpFinWait1: "FIN_WAIT1", tcpFinWait2: "FIN_WAIT2", tcpTimeWait: "TIME_WAIT",
	tcpClose: "CLOSE", tcpCloseWait: "CLOSE_WAIT", tcpLastAck: "LAST_ACK",
	tcpListen: "LISTEN", tcpClosing: "CLOSING", tcpNewSynRecv: "NEW_SYN_RECV",
}

// tcpTables list every TCP socket that listens or has a peer, with its
// queues; a socket the kernel has finished with is in neither.
var tcpTables = []string{"/proc/net/tcp", "/proc/net/tcp6"}

// tcpSocket is one line of a table.
type tcpSocket struct {
	local, remote int // ports
	state         int
	tx, rx        uint64 // see busy
	inode         uint64 // 0: no descriptor (not yet accepted, orphaned, TIME_WAIT)
}

func (s tcpSocket) String() string {
	name := tcpStateNames[s.state]
	if name == "" {
		name = fmt.Sprintf("state %#x", s.state)
	}
	return fmt.Sprintf("port %d → %d %s tx %d rx %d inode %d", s.local, s.remote, name, s.tx, s.rx, s.inode)
}

// busy says why s is work in flight, or "". For a listening socket rx is
// the accept queue; for the others tx counts bytes (and a FIN) not yet
// acked, a packet still on its way through loopback among them, and rx
// bytes received and not yet read.
func (s tcpSocket) busy() string {
	switch s.state {
	case tcpListen:
		if s.rx > 0 {
			return "a connection waits to be accepted"
		}
		return ""
	case tcpTimeWait, tcpFinWait2:
		// Done, or waiting for the peer, whose own socket says if it is
		// in flight. FIN_WAIT2 may still hold unread bytes: below.
	case tcpSynSent, tcpSynRecv, tcpNewSynRecv:
		return "a handshake is half done"
	case tcpFinWait1, tcpClosing, tcpLastAck:
		return "a close is half done"
	case tcpCloseWait:
		return "an end of stream waits for its owner to close"
	case tcpClose:
		if s.inode != 0 {
			return "the kernel has ended it and its owner has not closed it"
		}
		return ""
	case tcpEstablished:
		if s.inode == 0 {
			return "a connection waits to be accepted"
		}
	default:
		return "a state I do not know"
	}
	switch {
	case s.tx > 0:
		return "bytes sent are not yet acked"
	case s.rx > 0:
		return "bytes received are not yet read"
	}
	return ""
}

// worldBusy says why one of the world's sockets is work in flight, or "".
func worldBusy(world []tcpSocket) string {
	for _, s := range world {
		if why := s.busy(); why != "" {
			return fmt.Sprintf("%s: %s", s, why)
		}
	}
	return ""
}

// socketsAtRest reads the tables for the sockets on ports, then the
// process's descriptors for a TCP socket in no table.
func socketsAtRest(ports []int) (bool, string) {
	sockets, why := readSockets()
	if why != "" {
		return false, why
	}
	return snapshot{sockets: sockets}.judge(ports)
}

// readSockets reads every socket of the tables, then the process's
// descriptors for a TCP socket in no table; why says what is in flight
// or unreadable, whatever the ports.
func readSockets() (sockets []tcpSocket, why string) {
	inTables := map[uint64]bool{}
	if !diagRefused.Load() {
		var err error
		if sockets, err = diagAll(); err == nil {
			for _, s := range sockets {
				if s.inode != 0 {
					inTables[s.inode] = true
				}
			}
			if idle, why := descriptorsAtRest(inTables); !idle {
				return nil, why
			}
			return sockets, ""
		}
		// Where the socket monitor is not allowed (a sandbox), the text
		// tables tell the same, at a higher cost.
		diagRefused.Store(true)
		sockets = nil
	}
	for _, path := range tcpTables {
		data, err := readTable(path)
		if errors.Is(err, fs.ErrNotExist) && path != tcpTables[0] {
			continue // no IPv6
		}
		if err != nil {
			return nil, fmt.Sprintf("cannot read the sockets: %v", err)
		}
		_, data, _ = bytes.Cut(data, []byte("\n")) // the column names
		for n := 2; len(data) > 0; n++ {
			var line []byte
			line, data, _ = bytes.Cut(data, []byte("\n"))
			if len(bytes.TrimSpace(line)) == 0 {
				continue
			}
			s, err := parseTCPLine(line)
			if err != nil {
				return nil, fmt.Sprintf("%s:%d: %v", path, n, err)
			}
			if s.inode != 0 {
				inTables[s.inode] = true
			}
			sockets = append(sockets, s)
		}
	}
	if idle, why := descriptorsAtRest(inTables); !idle {
		return nil, why
	}
	return sockets, ""
}

// diagRefused is set once the socket monitor has failed: the tables are
// read from then on.
var diagRefused atomic.Bool

// diagAll is every TCP socket but those in TIME_WAIT, both families, from
// the socket monitor (diagSockets).
func diagAll() ([]tcpSocket, error) {
	v4, err := diagSockets(syscall.AF_INET)
	if err != nil {
		return nil, err
	}
	v6, err := diagSockets(syscall.AF_INET6)
	if err != nil && !errors.Is(err, syscall.EAFNOSUPPORT) && !errors.Is(err, syscall.ENOENT) {
		return nil, err
	}
	return append(v4, v6...), nil
}

// readTable reads a table in as few reads as it takes: the kernel walks
// its whole hash of sockets again for each one.
func readTable(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var b bytes.Buffer
	b.Grow(256 << 10)
	_, err = b.ReadFrom(f)
	return b.Bytes(), err
}

// parseTCPLine reads one line of a table:
//
//	0: 0100007F:A1B2 0100007F:C3D4 01 00000000:00000000 00:00000000 00000000  0  0 123456 ...
func parseTCPLine(line []byte) (tcpSocket, error) {
	var f [10]string
	rest := string(line)
	for i := range f {
		rest = strings.TrimLeft(rest, " ")
		end := strings.IndexByte(rest, ' ')
		if end < 0 {
			end = len(rest)
		}
		f[i], rest = rest[:end], rest[end:]
	}
	var s tcpSocket
	var errs [6]error
	s.local, errs[0] = hexPort(f[1])
	s.remote, errs[1] = hexPort(f[2])
	st, err := strconv.ParseUint(f[3], 16, 8)
	errs[2] = err
	tx, rx, _ := strings.Cut(f[4], ":")
	s.tx, errs[3] = strconv.ParseUint(tx, 16, 64)
	s.rx, errs[4] = strconv.ParseUint(rx, 16, 64)
	s.inode, errs[5] = strconv.ParseUint(f[9], 10, 64)
	s.state = int(st)
	if err := errors.Join(errs[:]...); err != nil {
		return tcpSocket{}, fmt.Errorf("unreadable socket line %q: %w", line, err)
	}
	return s, nil
}

// hexPort reads the port of an "ADDR:PORT" column.
func hexPort(col string) (int, error) {
	i := strings.LastIndexByte(col, ':')
	if i < 0 {
		return 0, fmt.Errorf("no port in %q", col)
	}
	p, err := strconv.ParseUint(col[i+1:], 16, 16)
	return int(p), err
}

// descriptorsAtRest looks for a TCP descriptor of the process whose socket
// is in no table: the kernel has ended it (a reset, or both FINs done and
// the socket handed to TIME_WAIT) while its owner, parked on a read, has
// yet to be woken with the error or the end of stream and close it. Its
// ports are gone with it, so any such descriptor counts, world or not.
func descriptorsAtRest(inTables map[uint64]bool) (bool, string) {
	dir, err := os.Open("/proc/self/fd")
	if err != nil {
		return false, fmt.Sprintf("cannot list the descriptors: %v", err)
	}
	defer dir.Close() // after the reads below: its own entry must stay valid
	names, err := dir.Readdirnames(-1)
	if err != nil {
		return false, fmt.Sprintf("cannot list the descriptors: %v", err)
	}
	for _, name := range names {
		link, err := os.Readlink("/proc/self/fd/" + name)
		if err != nil {
			return false, fmt.Sprintf("descriptor %s was closed while I looked", name)
		}
		inode, ok := socketInode(link)
		if !ok || inTables[inode] {
			continue
		}
		fd, _ := strconv.Atoi(name)
		tcp, err := isTCP(fd)
		if again, _ := os.Readlink("/proc/self/fd/" + name); err != nil || again != link {
			return false, fmt.Sprintf("descriptor %s changed while I looked", name)
		}
		if tcp {
			return false, fmt.Sprintf("TCP socket %d (descriptor %d) is in no table: the kernel has ended it and its owner has not closed it", inode, fd)
		}
	}
	return true, ""
}

// socketInode reads a descriptor's link, "socket:[123456]".
func socketInode(link string) (uint64, bool) {
	s, ok := strings.CutPrefix(link, "socket:[")
	if !ok {
		return 0, false
	}
	n, err := strconv.ParseUint(strings.TrimSuffix(s, "]"), 10, 64)
	return n, err == nil
}

// isTCP asks the kernel what a socket descriptor is; it only reads.
func isTCP(fd int) (bool, error) {
	domain, err := syscall.GetsockoptInt(fd, syscall.SOL_SOCKET, syscall.SO_DOMAIN)
	if err != nil {
		return false, err
	}
	proto, err := syscall.GetsockoptInt(fd, syscall.SOL_SOCKET, syscall.SO_PROTOCOL)
	if err != nil {
		return false, err
	}
	return (domain == syscall.AF_INET || domain == syscall.AF_INET6) && proto == syscall.IPPROTO_TCP, nil
}
