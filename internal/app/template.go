package app

import (
	_ "embed"
	"fmt"
	"strconv"
	"strings"
	"text/template"
)

// defaultConfig is the one source of every config this project writes
// from scratch: the file a first run creates and config.example.yaml
// (example.go). It names every setting with a one-line comment and its
// default.
//
//go:embed default_config.yaml
var defaultConfig string

var configTemplate = template.Must(template.New("config.yaml").Funcs(template.FuncMap{
	// YAML's double-quoted style reads Go's quoted strings.
	"quote": strconv.Quote,
}).Option("missingkey=error").Parse(defaultConfig))

// templateValues are what differs between configs made from the template.
type templateValues struct {
	// Host is "127.0.0.1", or "" (every interface) for a container.
	Host string
	// AllowRemote allows management from other machines.
	AllowRemote bool
	// SecretHash is the bcrypt hash of the management key ("" for none).
	SecretHash string
	// APIKeys are the client keys (none: an empty list).
	APIKeys []string
}

// renderConfig fills the template.
func renderConfig(v templateValues) (string, error) {
	var b strings.Builder
	if err := configTemplate.Execute(&b, v); err != nil {
		return "", fmt.Errorf("render the config template: %w", err)
	}
	return b.String(), nil
}

// newConfigValues are the settings of a config created at a first run:
// on this machine only, or, for a container (remote), on every interface
// with remote management allowed, since there the published port is the
// boundary and a loopback-only server cannot be reached at all.
func newConfigValues(remote bool) templateValues {
	if remote {
		return templateValues{Host: "", AllowRemote: true}
	}
	return templateValues{Host: "127.0.0.1"}
}
