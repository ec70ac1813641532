package yamledit_test

import (
	"fmt"

	"gopkg.in/yaml.v3"

	"github.com/cli-proxy-api/cli-proxy-api/internal/yamledit"
)

type remoteManagement struct {
	AllowRemote bool   `yaml:"allow-remote"`
	SecretKey   string `yaml:"secret-key"`
}

type exampleConfig struct {
	Port             int              `yaml:"port"`
	Debug            bool             `yaml:"debug"`
	APIKeys          []string         `yaml:"api-keys"`
	RemoteManagement remoteManagement `yaml:"remote-management"`
}

func ExamplePatch() {
	src := []byte(`# Server port
port: 8317

# Client API keys
api-keys:
  - "key-1"

remote-management:
  # Management key.
  secret-key: "" # hashed on start

debug: false
`)
	var cfg exampleConfig
	if err := yaml.Unmarshal(src, &cfg); err != nil {
		panic(err)
	}
	var before yaml.Node
	if err := before.Encode(cfg); err != nil {
		panic(err)
	}
	cfg.Debug = true
	cfg.APIKeys = append(cfg.APIKeys, "key-2")
	cfg.RemoteManagement.SecretKey = "s3cret"
	var after yaml.Node
	if err := after.Encode(cfg); err != nil {
		panic(err)
	}
	out, err := yamledit.Patch(src, &before, &after)
	if err != nil {
		panic(err)
	}
	fmt.Print(string(out))
	// Output:
	// # Server port
	// port: 8317
	//
	// # Client API keys
	// api-keys:
	//   - "key-1"
	//   - "key-2"
	//
	// remote-management:
	//   # Management key.
	//   secret-key: "s3cret" # hashed on start
	//
	// debug: true
}
