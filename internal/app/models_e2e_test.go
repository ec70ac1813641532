package app

import (
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/cli-proxy-api/cli-proxy-api/internal/providers"
	"github.com/cli-proxy-api/cli-proxy-api/internal/testutil"
)

// TestAuthFileModelsMatchV1Models: with one auth file of every served kind
// (each under its own prefix, force-model-prefix on), GET
// /v0/management/auth-files/models names for each file exactly the models
// GET /v1/models lists under its prefix, the registry's catalogue.
func TestAuthFileModelsMatchV1Models(t *testing.T) {
	dir := t.TempDir()
	auths := filepath.Join(dir, "auths")
	if err := os.MkdirAll(auths, 0o700); err != nil {
		t.Fatal(err)
	}
	for _, k := range providers.FileKinds() {
		file := `{"type":"` + string(k) + `","access_token":"tok","prefix":"p-` + string(k) + `","project_id":"proj"` +
			`,"service_account":{"project_id":"proj","client_email":"sa@proj.example"}}`
		if err := os.WriteFile(filepath.Join(auths, string(k)+".json"), []byte(file), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	cfg := "host: 127.0.0.1\nport: " + itoa(configPort) + "\nauth-dir: ./auths\nforce-model-prefix: true\napi-keys: [\"client-key\"]\n" +
		"remote-management:\n  secret-key: \"plain-key\"\n"
	path := testutil.WriteConfig(t, dir, cfg)
	base, _ := startApp(t, path, "")
	get := func(p, hdr, val string, into any) {
		t.Helper()
		req, _ := http.NewRequest("GET", base+p, nil)
		req.Header.Set(hdr, val)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != 200 || json.Unmarshal(b, into) != nil {
			t.Fatalf("%s: %d %s", p, resp.StatusCode, b)
		}
	}
	var v1 struct{ Data []struct{ ID string } }
	get("/v1/models", "Authorization", "Bearer client-key", &v1)
	for _, k := range providers.FileKinds() {
		prefix := "p-" + string(k) + "/"
		var listed []string
		for _, m := range v1.Data {
			if strings.HasPrefix(m.ID, prefix) {
				listed = append(listed, m.ID)
			}
		}
		var files struct{ Models []struct{ ID string } }
		get("/v0/management/auth-files/models?name="+string(k)+".json", "X-Management-Key", "plain-key", &files)
		var fromFile, registry []string
		for _, m := range files.Models {
			fromFile = append(fromFile, m.ID)
		}
		for _, m := range providers.Catalogue(k) {
			registry = append(registry, prefix+m.ID)
		}
		slices.Sort(listed)
		slices.Sort(fromFile)
		slices.Sort(registry)
		if !slices.Equal(listed, registry) || !slices.Equal(fromFile, registry) {
			t.Errorf("%s:\n/v1/models         %v\n/auth-files/models %v\nregistry           %v", k, listed, fromFile, registry)
		}
	}
}
