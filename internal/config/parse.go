package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"

	"gopkg.in/yaml.v3"
)

// DefaultPort is used when config.yaml names no port.
const DefaultPort = 8317

// DefaultLatestVersionURL is asked by GET /latest-version unless
// latest-version-url says otherwise.
const DefaultLatestVersionURL = "https://api.github.com/repos/router-for-me/CLIProxyAPI/releases/latest"

// Defaults returns the values a key takes when config.yaml leaves it out.
func Defaults() *Config {
	return &Config{Port: DefaultPort}
}

// Parse decodes config.yaml bytes on top of Defaults. Unknown keys are not an
// error (they are kept in the file untouched); they are returned as warnings
// so the caller can log them. An empty or comment-only document is valid.
func Parse(raw []byte) (cfg *Config, warnings []string, err error) {
	cfg = Defaults()
	if len(bytes.TrimSpace(raw)) == 0 {
		return cfg, nil, nil
	}
	var root yaml.Node
	if err := yaml.Unmarshal(raw, &root); err != nil {
		return nil, nil, fmt.Errorf("parse yaml: %w", err)
	}
	if len(root.Content) == 0 {
		return cfg, nil, nil
	}
	doc := root.Content[0]
	if doc.Kind == yaml.ScalarNode && doc.Tag == "!!null" {
		return cfg, nil, nil // "---" followed by nothing but comments
	}
	if doc.Kind != yaml.MappingNode {
		return nil, nil, fmt.Errorf("parse yaml: the document must be a mapping, not %s", kindName(doc.Kind))
	}
	if err := root.Decode(cfg); err != nil {
		return nil, nil, fmt.Errorf("decode config: %w", err)
	}
	return cfg, unknownKeys(raw), nil
}

// unknownKeys runs a strict decode only to collect the names yaml.v3 rejects.
func unknownKeys(raw []byte) []string {
	dec := yaml.NewDecoder(bytes.NewReader(raw))
	dec.KnownFields(true)
	var probe Config
	err := dec.Decode(&probe)
	var te *yaml.TypeError
	if err == nil || errors.Is(err, io.EOF) || !errors.As(err, &te) {
		return nil
	}
	var out []string
	for _, msg := range te.Errors {
		if strings.Contains(msg, "not found in type") {
			out = append(out, msg)
		}
	}
	return out
}

func kindName(k yaml.Kind) string {
	switch k {
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		return "a scalar"
	case yaml.AliasNode:
		return "an alias"
	}
	return "a document"
}

// Encode renders cfg as a yaml.v3 document node. Two encodings are what
// yamledit diffs to find the lines a change touches.
func Encode(cfg *Config) (*yaml.Node, error) {
	var n yaml.Node
	if err := n.Encode(cfg); err != nil {
		return nil, fmt.Errorf("encode config: %w", err)
	}
	return &n, nil
}

// Clone returns a deep copy of cfg. It goes through YAML so that values of
// free-form fields (payload params) keep the types a file load gives them.
func (c *Config) Clone() *Config {
	out, err := yaml.Marshal(c)
	if err != nil {
		panic(fmt.Sprintf("config: marshal for clone: %v", err)) // only unencodable types could fail; Config has none
	}
	cp := &Config{}
	if err := yaml.Unmarshal(out, cp); err != nil {
		panic(fmt.Sprintf("config: unmarshal for clone: %v", err))
	}
	return cp
}

// Equal reports whether a and b hold the same settings.
func Equal(a, b *Config) bool {
	ab, errA := yaml.Marshal(a)
	bb, errB := yaml.Marshal(b)
	return errA == nil && errB == nil && bytes.Equal(ab, bb)
}
