package app

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/cli-proxy-api/cli-proxy-api/internal/mgmtauth"
)

// ensureConfig creates path from the embedded template when it does not
// exist yet and create allows it, with a fresh management key and client
// API key that are shown once on out. Only the bcrypt hash of the
// management key is stored; no sample key that works anywhere else is ever
// written. Without create a missing file is an error that says how to
// create one: a mistyped -config path must not start a brand-new server
// with new keys in a new directory. remote makes a config for a container
// (newConfigValues).
func ensureConfig(path string, create, remote bool, out io.Writer) error {
	if _, err := os.Stat(path); err == nil {
		return nil
	} else if !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("stat config: %w", err)
	}
	if !create {
		if _, err := os.Stat(filepath.Dir(path)); errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("config file %s does not exist, nor does its directory %s (check the -config path, or add -init to create a new config with new keys)", path, filepath.Dir(path))
		}
		return fmt.Errorf("config file %s does not exist (check the -config path, or add -init to create a new config with new keys)", path)
	}
	mgmtKey, err := randomKey("cpa-mgmt-")
	if err != nil {
		return err
	}
	apiKey, err := randomKey("cpa-")
	if err != nil {
		return err
	}
	hash, err := mgmtauth.HashSecret(mgmtKey)
	if err != nil {
		return fmt.Errorf("hash management key: %w", err)
	}
	values := newConfigValues(remote)
	values.SecretHash, values.APIKeys = hash, []string{apiKey}
	body, err := renderConfig(values)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("create config directory: %w", err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("create config: %w", err)
	}
	if _, err := f.WriteString(body); err != nil {
		f.Close()
		return fmt.Errorf("write config: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("close config: %w", err)
	}
	fmt.Fprintf(out, `Created %s with new keys. They are shown only this once:
  management key: %s
  client API key: %s
Clients send the client API key; the management key opens the control panel
and the Management API (their addresses follow below).
`, path, mgmtKey, apiKey)
	return nil
}

func randomKey(prefix string) (string, error) {
	b := make([]byte, 24)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("generate key: %w", err)
	}
	return prefix + base64.RawURLEncoding.EncodeToString(b), nil
}
