//go:build !linux

package quiet

// Supported: here nothing can be observed, and Detector never says idle.
const Supported = false

// observe cannot see the kernel's sockets here: it never says idle.
func observe(ports []int) (bool, string) { return unsupported(ports) }
