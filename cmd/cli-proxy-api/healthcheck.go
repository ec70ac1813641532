package main

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"net/http"
	"os"
	"strconv"
	"time"

	"github.com/cli-proxy-api/cli-proxy-api/internal/config"
)

// healthTimeout bounds the whole check: a container engine runs it every
// few seconds and counts a hang as a failure anyway.
const healthTimeout = 5 * time.Second

// healthcheck asks the server that configPath describes for GET /healthz on
// this machine. It needs no shell or curl in the image, and reads the
// address from the config so it follows a changed port.
func healthcheck(ctx context.Context, configPath string) error {
	raw, err := os.ReadFile(configPath)
	if err != nil {
		return fmt.Errorf("read config: %w", err)
	}
	cfg, _, err := config.Parse(raw)
	if err != nil {
		return fmt.Errorf("config %s: %w", configPath, err)
	}
	url := healthURL(cfg)
	ctx, cancel := context.WithTimeout(ctx, healthTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	client := &http.Client{Transport: &http.Transport{
		// The server's own certificate is often self-signed and names
		// a public host, not loopback; the check sends no secret and
		// only reads a status, so it does not verify it.
		TLSClientConfig:   &tls.Config{InsecureSkipVerify: true},
		DisableKeepAlives: true,
		Proxy:             nil, // never through HTTP(S)_PROXY
	}}
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s answered %s", url, resp.Status)
	}
	return nil
}

// healthURL is /healthz on the configured port, on loopback when the
// server listens on every interface.
func healthURL(cfg *config.Config) string {
	host := cfg.Host
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		host = "127.0.0.1" // "::" on Linux takes IPv4 too
	}
	scheme := "http"
	if cfg.TLS.Enable {
		scheme = "https"
	}
	return scheme + "://" + net.JoinHostPort(host, strconv.Itoa(cfg.Port)) + "/healthz"
}
