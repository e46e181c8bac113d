// Package control is the Go client of the wschaos proxy's control API
// (proxy.ControlHandler): list, add, update and remove faults on a running
// proxy, cut its connections, turn it off and on, read its connection
// counters, and create and remove named proxies, from a test or a tool
// (`wschaos ctl` is one).
//
// A Client addresses the proxy the command line started; Proxy(name)
// returns one that addresses a named proxy, under /proxies/{name}.
package control

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/wschaos/wschaos/proxy"
)

// maxResponseBytes bounds a response body the client reads: the API's
// answers are small, and a wrong URL must not make it buffer a large page.
const maxResponseBytes = 4 << 20

// Client talks to one proxy's control API.
type Client struct {
	// Token, when set, is sent as "Authorization: Bearer Token": the
	// proxy's ControlToken (--control-token). Set it before use.
	Token string
	// Answer, when set, is handed the body of every successful answer as
	// the API sent it (empty for 204): a tool's --json prints the API's
	// own JSON with it, while the methods still decode it.
	Answer func(body []byte)

	base   string
	prefix string // "" or "/proxies/{name}": what the per-proxy endpoints are under
	http   *http.Client
}

// New returns a client for the control API at base ("http://127.0.0.1:C",
// proxy.ControlURL); hc nil means http.DefaultClient.
func New(base string, hc *http.Client) *Client {
	if hc == nil {
		hc = http.DefaultClient
	}
	return &Client{base: strings.TrimRight(base, "/"), http: hc}
}

// Error is an error answer of the API.
type Error struct {
	// Status is the HTTP status; Field and Msg the API's APIError.
	Status int
	Field  string
	Msg    string
	// NotAPI is true when the answer was not the API's JSON: Msg quotes
	// it. The address is most likely not a control API's (a proxy's
	// client port, another server), or something stands in the way.
	NotAPI bool
}

func (e *Error) Error() string {
	if e.Field != "" {
		return fmt.Sprintf("HTTP %d: %s (field %s)", e.Status, e.Msg, e.Field)
	}
	return fmt.Sprintf("HTTP %d: %s", e.Status, e.Msg)
}

// List returns the installed faults in the order they apply.
func (c *Client) List(ctx context.Context) ([]proxy.FaultInfo, error) {
	var out proxy.FaultList
	if err := c.do(ctx, http.MethodGet, c.prefix+"/faults", nil, &out); err != nil {
		return nil, fmt.Errorf("failed to list faults: %w", err)
	}
	return out.Faults, nil
}

// Add installs the fault spec describes, after the others.
func (c *Client) Add(ctx context.Context, spec proxy.FaultSpec) (proxy.FaultInfo, error) {
	var out proxy.FaultInfo
	if err := c.do(ctx, http.MethodPost, c.prefix+"/faults", spec, &out); err != nil {
		return out, fmt.Errorf("failed to add fault %s: %w", spec.Fault, err)
	}
	return out, nil
}

// Update replaces fault id with the one spec describes, in its place.
func (c *Client) Update(ctx context.Context, id int, spec proxy.FaultSpec) (proxy.FaultInfo, error) {
	var out proxy.FaultInfo
	if err := c.do(ctx, http.MethodPut, c.prefix+"/faults/"+strconv.Itoa(id), spec, &out); err != nil {
		return out, fmt.Errorf("failed to update fault %d: %w", id, err)
	}
	return out, nil
}

// Remove uninstalls fault id.
func (c *Client) Remove(ctx context.Context, id int) error {
	if err := c.do(ctx, http.MethodDelete, c.prefix+"/faults/"+strconv.Itoa(id), nil, nil); err != nil {
		return fmt.Errorf("failed to remove fault %d: %w", id, err)
	}
	return nil
}

// Reset uninstalls every fault.
func (c *Client) Reset(ctx context.Context) error {
	if err := c.do(ctx, http.MethodPost, c.prefix+"/reset", nil, nil); err != nil {
		return fmt.Errorf("failed to reset faults: %w", err)
	}
	return nil
}

// Status returns the proxy's connection counters. Its durations are read
// as the API writes them, numbers of milliseconds under names ending _ms,
// or as the Go duration strings of older proxies.
func (c *Client) Status(ctx context.Context) (proxy.Status, error) {
	var out wireStatus
	if err := c.do(ctx, http.MethodGet, c.prefix+"/status", nil, &out); err != nil {
		return proxy.Status{}, fmt.Errorf("failed to read status: %w", err)
	}
	return out.Status, nil
}

// do sends one request with in as its JSON body (nil: none) and decodes a
// success into out (nil: ignored); an error answer becomes an *Error.
func (c *Client) do(ctx context.Context, method, path string, in, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, body)
	if err != nil {
		return err
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.Token != "" {
		req.Header.Set("Authorization", "Bearer "+c.Token)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBytes))
	if err != nil {
		return err
	}
	if resp.StatusCode >= 300 {
		var ae proxy.APIError
		notAPI := json.Unmarshal(data, &ae) != nil || ae.Error == ""
		if notAPI {
			// Not the API's answer (a wrong URL, a proxy in the way):
			// say what came back, briefly.
			ae.Field, ae.Error = "", brief(strings.TrimSpace(string(data)))
			if ae.Error == "" {
				ae.Error = http.StatusText(resp.StatusCode)
			}
		}
		return &Error{Status: resp.StatusCode, Field: ae.Field, Msg: ae.Error, NotAPI: notAPI}
	}
	if c.Answer != nil {
		c.Answer(data)
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("the answer is not the API's JSON (%v): %s", err, brief(string(data)))
	}
	return nil
}

// briefLimit bounds how much of an unexpected answer an error quotes.
const briefLimit = 200

func brief(s string) string {
	if len(s) > briefLimit {
		return s[:briefLimit] + "…"
	}
	return s
}
