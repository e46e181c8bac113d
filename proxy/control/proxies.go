package control

import (
	"context"
	"fmt"
	"net/http"
	"net/url"

	"github.com/wschaos/wschaos/proxy"
)

// Proxy returns a client for the named proxy: its per-proxy methods (List,
// Add, Cut, Status, …) go to /proxies/{name}. The name proxy.DefaultName,
// or "", addresses the proxy the command line started through the
// unprefixed endpoints, which every proxy version answers. The new client
// shares c's HTTP client and copies its Token and Answer.
func (c *Client) Proxy(name string) *Client {
	n := *c
	n.prefix = ""
	if name != "" && name != proxy.DefaultName {
		n.prefix = "/proxies/" + url.PathEscape(name)
	}
	return &n
}

// Cut ends every connection open now, once, the way spec says; the
// proxy's next connections are relayed as usual.
func (c *Client) Cut(ctx context.Context, spec proxy.CutSpec) (proxy.CutResult, error) {
	var out proxy.CutResult
	if err := c.do(ctx, http.MethodPost, c.prefix+"/cut", spec, &out); err != nil {
		return out, fmt.Errorf("failed to cut with %s: %w", spec.Kind, err)
	}
	return out, nil
}

// Enable lets the proxy accept clients again after Disable.
func (c *Client) Enable(ctx context.Context) error {
	if err := c.do(ctx, http.MethodPost, c.prefix+"/enable", nil, nil); err != nil {
		return fmt.Errorf("failed to enable: %w", err)
	}
	return nil
}

// Disable cuts the proxy's connections with a reset and refuses new ones
// until Enable: the server is gone, as far as its clients can tell.
func (c *Client) Disable(ctx context.Context) error {
	if err := c.do(ctx, http.MethodPost, c.prefix+"/disable", nil, nil); err != nil {
		return fmt.Errorf("failed to disable: %w", err)
	}
	return nil
}

// Proxies lists every proxy of the process, the command line's included,
// sorted by name. Like the other methods on named proxies, it ignores the
// name Proxy scoped c to.
func (c *Client) Proxies(ctx context.Context) ([]proxy.ProxyInfo, error) {
	var out proxy.ProxyList
	if err := c.do(ctx, http.MethodGet, "/proxies", nil, &out); err != nil {
		return nil, fmt.Errorf("failed to list proxies: %w", err)
	}
	return out.Proxies, nil
}

// CreateProxy starts a named proxy as cfg describes.
func (c *Client) CreateProxy(ctx context.Context, cfg proxy.ProxyConfig) (proxy.ProxyInfo, error) {
	var out proxy.ProxyInfo
	if err := c.do(ctx, http.MethodPost, "/proxies", cfg, &out); err != nil {
		return out, fmt.Errorf("failed to create proxy %s: %w", cfg.Name, err)
	}
	return out, nil
}

// ProxyInfo describes the named proxy.
func (c *Client) ProxyInfo(ctx context.Context, name string) (proxy.ProxyInfo, error) {
	var out proxy.ProxyInfo
	if err := c.do(ctx, http.MethodGet, "/proxies/"+url.PathEscape(name), nil, &out); err != nil {
		return out, fmt.Errorf("failed to read proxy %s: %w", name, err)
	}
	return out, nil
}

// DeleteProxy stops the named proxy; its connections are cut with a reset.
func (c *Client) DeleteProxy(ctx context.Context, name string) error {
	if err := c.do(ctx, http.MethodDelete, "/proxies/"+url.PathEscape(name), nil, nil); err != nil {
		return fmt.Errorf("failed to delete proxy %s: %w", name, err)
	}
	return nil
}
