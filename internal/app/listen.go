package app

import (
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"strconv"

	"gopkg.in/yaml.v3"
)

// listen opens the server's listening socket on host:port.
func listen(host string, port int) (net.Listener, error) {
	addr := net.JoinHostPort(host, strconv.Itoa(port))
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listen on %s: %w", addr, err)
	}
	return ln, nil
}

// firstRunListener opens, when the config is about to be created from the
// template, the template's address before anything is created: a first run
// whose port is taken must fail with nothing written and no keys shown
// (keys printed for a config that never served are lost keys). It returns
// nil when no config will be created. The listener is the one Run serves
// on, so the port cannot be taken between the check and the start.
func firstRunListener(opts Options) (net.Listener, error) {
	if !opts.CreateConfig || opts.Listener != nil {
		return nil, nil
	}
	if _, err := os.Stat(opts.ConfigPath); !errors.Is(err, fs.ErrNotExist) {
		return nil, nil // it exists (or ensureConfig reports why not)
	}
	host, port, err := templateAddress(opts.NewConfigRemote)
	if err != nil {
		return nil, err
	}
	ln, err := listen(host, port)
	if err != nil {
		return nil, fmt.Errorf("%w; %s was not created and no keys were made (free the port, or write a config with another port and pass it with -config)", err, opts.ConfigPath)
	}
	return ln, nil
}

// templateAddress is where a config created from the template listens.
func templateAddress(remote bool) (string, int, error) {
	body, err := renderConfig(newConfigValues(remote))
	if err != nil {
		return "", 0, err
	}
	var addr struct {
		Host string `yaml:"host"`
		Port int    `yaml:"port"`
	}
	if err := yaml.Unmarshal([]byte(body), &addr); err != nil {
		return "", 0, fmt.Errorf("read the config template's address: %w", err)
	}
	return addr.Host, addr.Port, nil
}
