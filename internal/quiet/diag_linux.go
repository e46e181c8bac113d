//go:build linux

package quiet

import (
	"encoding/binary"
	"fmt"
	"syscall"
)

// The kernel's socket monitor (sock_diag, what ss uses) answers the same
// question as /proc/net/tcp in binary, and filters by state in the kernel.
// A test run leaves thousands of sockets in TIME_WAIT, and formatting each
// as a line of text, on every observation of every wait, was three
// quarters of the library test's CPU. A TIME_WAIT socket is never in
// flight (no descriptor, empty queues), so the dump leaves it out.

// From linux/sock_diag.h, linux/inet_diag.h.
const (
	sockDiagByFamily = 20
	diagReqLen       = 56 // inet_diag_req_v2
	diagMsgLen       = 72 // inet_diag_msg
	// every state but TIME_WAIT: the bits 1<<state of TCPF_ALL
	diagStates = 0xFFF &^ (1 << tcpTimeWait)
)

// diagSockets dumps the TCP sockets of one address family (AF_INET or
// AF_INET6) but those in TIME_WAIT.
func diagSockets(family uint8) ([]tcpSocket, error) {
	fd, err := syscall.Socket(syscall.AF_NETLINK, syscall.SOCK_DGRAM|syscall.SOCK_CLOEXEC, syscall.NETLINK_INET_DIAG)
	if err != nil {
		return nil, fmt.Errorf("sock_diag socket: %w", err)
	}
	defer syscall.Close(fd)
	req := make([]byte, syscall.NLMSG_HDRLEN+diagReqLen)
	ne := binary.NativeEndian
	ne.PutUint32(req[0:], uint32(len(req)))
	ne.PutUint16(req[4:], sockDiagByFamily)
	ne.PutUint16(req[6:], syscall.NLM_F_REQUEST|syscall.NLM_F_DUMP)
	ne.PutUint32(req[8:], 1) // sequence number
	body := req[syscall.NLMSG_HDRLEN:]
	body[0], body[1] = family, syscall.IPPROTO_TCP
	ne.PutUint32(body[4:], diagStates)
	if err := syscall.Sendto(fd, req, 0, &syscall.SockaddrNetlink{Family: syscall.AF_NETLINK}); err != nil {
		return nil, fmt.Errorf("sock_diag request: %w", err)
	}
	var out []tcpSocket
	buf := make([]byte, 64<<10)
	for {
		n, _, err := syscall.Recvfrom(fd, buf, 0)
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("sock_diag reply: %w", err)
		}
		msgs, err := syscall.ParseNetlinkMessage(buf[:n])
		if err != nil {
			return nil, fmt.Errorf("sock_diag reply: %w", err)
		}
		for _, m := range msgs {
			switch m.Header.Type {
			case syscall.NLMSG_DONE:
				return out, nil
			case syscall.NLMSG_ERROR:
				if len(m.Data) >= 4 {
					if errno := int32(ne.Uint32(m.Data)); errno != 0 {
						return nil, fmt.Errorf("sock_diag: %w", syscall.Errno(-errno))
					}
				}
				return nil, fmt.Errorf("sock_diag: an error reply")
			case sockDiagByFamily:
				s, err := parseDiagMsg(m.Data)
				if err != nil {
					return nil, err
				}
				out = append(out, s)
			}
		}
	}
}

// parseDiagMsg reads one inet_diag_msg: the ports are in network order,
// everything else in the machine's.
func parseDiagMsg(b []byte) (tcpSocket, error) {
	if len(b) < diagMsgLen {
		return tcpSocket{}, fmt.Errorf("sock_diag: a socket of %d bytes, want %d", len(b), diagMsgLen)
	}
	ne := binary.NativeEndian
	s := tcpSocket{
		state:  int(b[1]),
		local:  int(binary.BigEndian.Uint16(b[4:])),
		remote: int(binary.BigEndian.Uint16(b[6:])),
		rx:     uint64(ne.Uint32(b[56:])),
		tx:     uint64(ne.Uint32(b[60:])),
		inode:  uint64(ne.Uint32(b[68:])),
	}
	if s.state == tcpListen {
		// A listener's wqueue is its backlog's limit; the tables show 0,
		// and only rx, the connections waiting, says anything.
		s.tx = 0
	}
	return s, nil
}
