package proxy

import (
	"crypto/sha256"
	"crypto/subtle"
	"fmt"
	"mime"
	"net"
	"net/http"
	"strings"
)

// guard lets through to h only the requests the control API is meant to
// answer: those of a test or a tool on this machine, or, with ControlToken
// set, of whoever holds the token. It guards against
//
//   - a web page in the user's browser: a page on another origin can send
//     a "simple" POST (text/plain, no preflight) to 127.0.0.1; its Origin
//     or Sec-Fetch-Site header gives it away (403), and writes must be
//     application/json, which no simple request can be (415);
//   - DNS rebinding: a page whose name was made to resolve to 127.0.0.1
//     sends its own name as Host; only loopback names and addresses, and
//     the address the API was bound to, are answered (403);
//   - other hosts on the network, when the API is bound beyond loopback:
//     ControlToken, sent as "Authorization: Bearer TOKEN" (401).
//
// The checks run in that order, each answered with an APIError saying why.
func (p *Proxy) guard(h http.Handler) http.Handler {
	return guardAPI(p.ControlToken, func() string { return p.controlHost }, h)
}

// guardAPI is the guard for an API whose token is token and whose bind
// host bind returns (a Proxy's or a Set's).
func guardAPI(token string, bind func() string, h http.Handler) http.Handler {
	var want [sha256.Size]byte
	if token != "" {
		want = sha256.Sum256([]byte(token))
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !allowedHost(r.Host, bind()) {
			writeError(w, http.StatusForbidden, "Host", fmt.Sprintf("Host %.100q is neither a loopback name or address nor the address the API is bound to: a DNS rebinding page is refused so", r.Host))
			return
		}
		if o := r.Header.Get("Origin"); o != "" && !strings.EqualFold(o, "http://"+r.Host) {
			writeError(w, http.StatusForbidden, "Origin", fmt.Sprintf("Origin %.100q is not the API's own (http://%.100s): a web page on another origin may not use the API", o, r.Host))
			return
		}
		if s := r.Header.Get("Sec-Fetch-Site"); s != "" && s != "same-origin" && s != "none" {
			writeError(w, http.StatusForbidden, "Sec-Fetch-Site", fmt.Sprintf("Sec-Fetch-Site %.30q: a web page on another site may not use the API", s))
			return
		}
		if token != "" {
			got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
			sum := sha256.Sum256([]byte(got)) // compared as sums: their length says nothing
			if !ok || subtle.ConstantTimeCompare(sum[:], want[:]) != 1 {
				w.Header().Set("WWW-Authenticate", `Bearer realm="wschaos control"`)
				writeError(w, http.StatusUnauthorized, "Authorization", "want Authorization: Bearer TOKEN, the proxy's --control-token")
				return
			}
		}
		if isWrite(r.Method) && (r.ContentLength != 0 || r.Header.Get("Content-Type") != "") {
			if ct := r.Header.Get("Content-Type"); !isJSON(ct) {
				if ct == "" {
					ct = "none"
				}
				writeError(w, http.StatusUnsupportedMediaType, "Content-Type", fmt.Sprintf("Content-Type %.100s: want application/json (which a web page cannot send without asking first)", ct))
				return
			}
		}
		h.ServeHTTP(w, r)
	})
}

// isJSON reports whether a Content-Type is application/json, with any
// parameters (charset=utf-8).
func isJSON(contentType string) bool {
	mt, _, err := mime.ParseMediaType(contentType)
	return err == nil && mt == "application/json"
}

// isWrite reports whether method may change the proxy's state.
func isWrite(method string) bool {
	return method != http.MethodGet && method != http.MethodHead && method != http.MethodOptions
}

// allowedHost reports whether a request's Host names this machine in a way
// no DNS rebinding can: "localhost" (and *.localhost, which resolvers keep
// on loopback), a loopback IP, the host the API was bound to (bindHost),
// or, when that was every interface, any IP literal (a rebinding needs a
// name).
func allowedHost(hostport, bindHost string) bool {
	host := hostport
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		host = h
	}
	host = strings.ToLower(strings.TrimSuffix(strings.Trim(host, "[]"), "."))
	if host == "" {
		return false
	}
	if host == "localhost" || strings.HasSuffix(host, ".localhost") {
		return true
	}
	ip := net.ParseIP(host)
	if ip != nil && ip.IsLoopback() {
		return true
	}
	bind := strings.ToLower(bindHost)
	if bind != "" && host == bind {
		return true
	}
	return ip != nil && isUnspecified(bind)
}

// isUnspecified reports whether a listen host means every interface.
func isUnspecified(host string) bool {
	ip := net.ParseIP(host)
	return ip != nil && ip.IsUnspecified()
}

// BeyondLoopback reports whether listening on addr ("host:port") accepts
// connections from other hosts: any host but a loopback IP or "localhost".
// A command warns then, and wants a ControlToken.
func BeyondLoopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		host = addr
	}
	if strings.EqualFold(host, "localhost") {
		return false
	}
	ip := net.ParseIP(host)
	return ip == nil || !ip.IsLoopback()
}
