package proxy

// The bodies of the control API's proxy-level endpoints. They are one
// contract between the server (ControlHandler) and its clients (package
// control, `wschaos ctl`), so both build against the same shapes.
//
// Every endpoint for one proxy exists twice: unprefixed, for the proxy the
// command line started (named DefaultName), and under /proxies/{name} for
// any named proxy:
//
//	GET    /proxies                   200 ProxyList
//	POST   /proxies                   ProxyConfig → 201 ProxyInfo
//	GET    /proxies/{name}            200 ProxyInfo
//	DELETE /proxies/{name}            204 (its connections are cut with rst)
//	[/proxies/{name}]/faults …        as ControlHandler documents
//	[/proxies/{name}]/status          200 Status
//	[/proxies/{name}]/cut             CutSpec → 200 CutResult
//	[/proxies/{name}]/enable          204: accepts clients again
//	[/proxies/{name}]/disable         204: cuts its connections with rst and
//	                                  refuses new ones until enabled

// DefaultName is the name of the proxy the command line's --upstream
// starts: the unprefixed endpoints address it.
const DefaultName = "default"

// CutSpec is the body of POST /cut: end every connection open now, once.
// Unlike the cut faults it installs nothing, so a client's next connection
// is relayed as usual.
type CutSpec struct {
	// Kind is "rst" (TCP reset), "fin" (TCP close, no close frame),
	// "black-hole" (keep the sockets, relay nothing more) or "code" (a
	// close frame with Code to the client).
	Kind string `json:"kind"`
	// Code is the close code sent with Kind "code".
	Code int `json:"code,omitempty"`
	// Reason is the close reason sent with Kind "code", at most
	// MaxCloseReason bytes.
	Reason string `json:"reason,omitempty"`
}

// MaxCloseReason is the longest close reason a close frame carries: its
// payload is at most 125 bytes, two of them the code (RFC 6455 §5.5).
const MaxCloseReason = 123

// CutResult is the answer of POST /cut.
type CutResult struct {
	// Cut counts the connections the cut ended.
	Cut int `json:"cut"`
}

// ProxyConfig describes one named proxy: the body of POST /proxies, and
// one entry of the list a --config file holds.
type ProxyConfig struct {
	// Name is how the API addresses it: letters, digits, '-', '_' and '.'.
	Name string `json:"name"`
	// Listen is the address to accept clients on; "127.0.0.1:0" when empty.
	Listen string `json:"listen,omitempty"`
	// Upstream is the real server's ws:// or wss:// URL.
	Upstream string `json:"upstream"`
	// Profile names the protocol profile to decode frames with, a shipped
	// name or a profile file; opaque frames when empty.
	Profile string `json:"profile,omitempty"`
	// Enabled is true when absent.
	Enabled *bool `json:"enabled,omitempty"`
	// Faults are installed in order when the proxy starts.
	Faults []FaultSpec `json:"faults,omitempty"`
}

// ProxyInfo is one proxy as the API shows it.
type ProxyInfo struct {
	Name string `json:"name"`
	// Listen is the address it is bound to (the port chosen, when 0 was
	// asked for).
	Listen   string      `json:"listen"`
	Upstream string      `json:"upstream"`
	Profile  string      `json:"profile,omitempty"`
	Enabled  bool        `json:"enabled"`
	Faults   []FaultInfo `json:"faults"`
	// Attempts and Open are its Status's counters.
	Attempts int `json:"attempts"`
	Open     int `json:"open"`
}

// ProxyList is the body of GET /proxies, sorted by name.
type ProxyList struct {
	Proxies []ProxyInfo `json:"proxies"`
}
