package app

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/cli-proxy-api/cli-proxy-api/internal/config"
)

// config.example.yaml is the template with no keys: regenerate it with
// `make config-example` when the template changes.
func TestConfigExampleIsGeneratedFromTheTemplate(t *testing.T) {
	t.Parallel()
	want, err := ExampleConfig()
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile("../../config.example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != want {
		t.Fatal("config.example.yaml differs from the first-run template: run `make config-example`")
	}
}

// loadExample loads the example the way the server loads config.yaml.
func loadExample(t *testing.T) *config.Config {
	t.Helper()
	body, err := ExampleConfig()
	if err != nil {
		t.Fatal(err)
	}
	cfg, warnings, err := config.Parse([]byte(body))
	if err != nil {
		t.Fatal(err)
	}
	if len(warnings) != 0 {
		t.Fatalf("the example has keys the server does not know: %q", warnings)
	}
	cfg.Normalize()
	if err := cfg.Validate(); err != nil {
		t.Fatalf("the example does not validate: %v", err)
	}
	return cfg
}

// Every value in the example is the default of its key, except the few
// the template chooses for a new installation, and each of those says so
// ("default when absent").
func TestConfigExampleLoadsWithTheDefaults(t *testing.T) {
	t.Parallel()
	got := loadExample(t)
	want := config.Defaults()
	// The template's own choices.
	want.Host = "127.0.0.1"
	want.AuthDir = "~/.cli-proxy-api"
	want.UsageStatisticsEnabled = true
	want.RequestRetry, want.MaxRetryInterval = 3, 30
	want.QuotaExceeded = config.QuotaExceeded{SwitchProject: true, SwitchPreviewModel: true}
	want.Normalize()
	if !config.Equal(got, want) {
		g, _ := yaml.Marshal(got)
		w, _ := yaml.Marshal(want)
		t.Fatalf("the example's values are not the defaults:\n%s\nwant\n%s", g, w)
	}
	body, _ := ExampleConfig()
	for _, key := range []string{"host", "usage-statistics-enabled", "request-retry", "max-retry-interval", "quota-exceeded"} {
		if !regexp.MustCompile(`(?m)^#.*default when absent.*\n` + key + `:`).MatchString(body) {
			t.Errorf("%s differs from its default but its comment does not say \"default when absent\"", key)
		}
	}
}

// Every setting of config.Config is in the template, as a key or as a
// commented-out example, and every top-level key has a comment line
// above it.
func TestConfigTemplateNamesEverySetting(t *testing.T) {
	t.Parallel()
	var keys []string
	collectKeys(reflect.TypeOf(config.Config{}), "", &keys, map[reflect.Type]bool{})
	for _, k := range keys {
		name := k[strings.LastIndex(k, ".")+1:]
		if !regexp.MustCompile(`(?m)^[# ]*(- )?` + regexp.QuoteMeta(name) + `:`).MatchString(defaultConfig) {
			t.Errorf("the config template does not name %s", k)
		}
	}
	lines := strings.Split(defaultConfig, "\n")
	for i, l := range lines {
		if i > 0 && regexp.MustCompile(`^[a-z][a-z0-9-]*:`).MatchString(l) && !strings.HasPrefix(lines[i-1], "#") {
			t.Errorf("line %d (%s) has no comment above it", i+1, l)
		}
	}
}

// collectKeys lists the YAML keys of t's fields, recursing into structs,
// lists and maps of structs; the legacy keys (migrated at load, never
// written) are left out.
func collectKeys(t reflect.Type, prefix string, out *[]string, seen map[reflect.Type]bool) {
	for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice || t.Kind() == reflect.Map {
		t = t.Elem()
	}
	if t.Kind() != reflect.Struct || seen[t] {
		return
	}
	seen[t] = true
	defer delete(seen, t)
	for i := range t.NumField() {
		f := t.Field(i)
		tag := strings.Split(f.Tag.Get("yaml"), ",")[0]
		if tag == "" || tag == "-" || strings.HasPrefix(f.Name, "Legacy") {
			continue
		}
		*out = append(*out, prefix+tag)
		collectKeys(f.Type, prefix+tag+".", out, seen)
	}
}

// A first run for a container (-init-remote) listens on every interface
// and allows remote management; an ordinary one stays on loopback.
func TestFirstRunConfigForAContainerIsReachable(t *testing.T) {
	t.Parallel()
	for _, remote := range []bool{false, true} {
		path := filepath.Join(t.TempDir(), "config.yaml")
		var out bytes.Buffer
		if err := ensureConfig(path, true, remote, &out); err != nil {
			t.Fatal(err)
		}
		raw, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		cfg, warnings, err := config.Parse(raw)
		if err != nil || len(warnings) != 0 {
			t.Fatalf("first-run config: %v %q", err, warnings)
		}
		wantHost := "127.0.0.1"
		if remote {
			wantHost = ""
		}
		if cfg.Host != wantHost || cfg.RemoteManagement.AllowRemote != remote || len(cfg.APIKeys) != 1 {
			t.Errorf("remote=%v: host %q, allow-remote %v, %d client keys", remote, cfg.Host, cfg.RemoteManagement.AllowRemote, len(cfg.APIKeys))
		}
		if host, _, err := templateAddress(remote); err != nil || host != wantHost {
			t.Errorf("remote=%v: the first run would listen on %q (%v)", remote, host, err)
		}
	}
}
