package mgmt_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/cli-proxy-api/cli-proxy-api/clients/go/mgmtclient"
	"github.com/cli-proxy-api/cli-proxy-api/internal/config"
)

func TestGetConfigNeverShowsTheSecret(t *testing.T) {
	e := newEnv(t, baseConfig())
	r, err := e.client.GetConfigWithResponse(ctx())
	must(e, err)
	statusOf(t, r.HTTPResponse, http.StatusOK)
	if strings.Contains(string(r.Body), "secret") || strings.Contains(string(r.Body), testHash) {
		t.Fatalf("GET /config leaks the management secret: %s", r.Body)
	}
	if got := *r.JSON200.APIKeys; len(got) != 2 || got[0] != "k1" {
		t.Fatalf("api-keys %v", got)
	}
	if *r.JSON200.RequestRetry != 3 || !*r.JSON200.QuotaExceeded.SwitchProject {
		t.Fatalf("config view %s", r.Body)
	}
	if r.HTTPResponse.Header.Get("ETag") != e.store.Current().ETag() {
		t.Fatalf("ETag %q, want %q", r.HTTPResponse.Header.Get("ETag"), e.store.Current().ETag())
	}
}

func TestGetConfigYAMLIsTheFileAsStored(t *testing.T) {
	e := newEnv(t, baseConfig())
	resp, err := e.client.GetConfigYAML(ctx())
	must(e, err)
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	statusOf(t, resp, http.StatusOK)
	if string(body) != e.file() {
		t.Fatalf("body differs from the file")
	}
	for h, want := range map[string]string{
		"Content-Type":           "application/yaml; charset=utf-8",
		"Cache-Control":          "no-store",
		"X-Content-Type-Options": "nosniff",
		"ETag":                   e.store.Current().ETag(),
	} {
		if got := resp.Header.Get(h); got != want {
			t.Errorf("%s: %q, want %q", h, got, want)
		}
	}
}

func putYAML(e *env, body string, edit ...mgmtclient.RequestEditorFn) (int, string) {
	e.t.Helper()
	resp, err := e.client.PutConfigYAMLWithBody(ctx(), &mgmtclient.PutConfigYAMLParams{}, "application/yaml", strings.NewReader(body), edit...)
	must(e, err)
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestPutConfigYAML(t *testing.T) {
	e := newEnv(t, baseConfig())
	next := strings.Replace(baseConfig(), "request-retry: 3 # extra attempts", "request-retry: 7 # more attempts", 1)
	st, body := putYAML(e, next)
	if st != http.StatusOK || strings.TrimSpace(body) != `{"changed":["config"],"ok":true}` {
		t.Fatalf("%d %s", st, body)
	}
	if e.file() != next {
		t.Fatalf("file not written verbatim:\n%s", e.file())
	}
	if e.store.Current().Config.RequestRetry != 7 {
		t.Fatal("new config not applied")
	}

	t.Run("plaintext secret is hashed before it is stored", func(t *testing.T) {
		doc := strings.Replace(next, testHash, "new-plain-key", 1)
		if st, body := putYAML(e, doc); st != http.StatusOK {
			t.Fatalf("%d %s", st, body)
		}
		if strings.Contains(e.file(), "new-plain-key") || !strings.Contains(e.file(), "secret-key: \"$2") {
			t.Fatalf("plaintext key stored:\n%s", e.file())
		}
		// The new key works at once, the old one no longer does.
		c := newContractClient(t, e.srv.URL, "new-plain-key")
		r, err := c.GetDebugWithResponse(ctx())
		must(e, err)
		statusOf(t, r.HTTPResponse, http.StatusOK)
		old, err := e.client.GetDebugWithResponse(ctx())
		must(e, err)
		statusOf(t, old.HTTPResponse, http.StatusUnauthorized)
	})
}

// An unknown (e.g. misspelt) key is kept and saved, but the answer says
// so: the panel showed "Saved" while only the server's log warned.
func TestPutConfigYAMLWarnsAboutUnknownKeys(t *testing.T) {
	e := newEnv(t, baseConfig())
	st, body := putYAML(e, baseConfig()+"request-retyr: 5\n")
	if st != http.StatusOK {
		t.Fatalf("%d %s", st, body)
	}
	var res struct {
		Warnings []string `json:"warnings"`
	}
	if err := json.Unmarshal([]byte(body), &res); err != nil {
		t.Fatal(err)
	}
	if len(res.Warnings) != 1 || !strings.Contains(res.Warnings[0], "request-retyr") {
		t.Fatalf("warnings %q in %s", res.Warnings, body)
	}
	if !strings.Contains(e.file(), "request-retyr: 5") {
		t.Fatalf("the unknown key was not kept:\n%s", e.file())
	}
	// A document without unknown keys has no warnings field.
	if st, body := putYAML(e, baseConfig()); st != http.StatusOK || strings.Contains(body, "warnings") {
		t.Fatalf("%d %s", st, body)
	}
}

func TestPutConfigYAMLRejectsBadDocuments(t *testing.T) {
	cases := []struct{ name, body, msg string }{
		{"syntax error", "port: [1, 2\n", "yaml"},
		{"wrong type", "port: many\n", "line 1"},
		{"not a mapping", "- a\n- b\n", "mapping"},
		{"invalid port", strings.Replace(baseConfig(), "port: 8317", "port: 70000", 1), "port"},
		{"bad proxy-url", strings.Replace(baseConfig(), `proxy-url: ""`, `proxy-url: "ftp://x"`, 1), "proxy-url"},
		{"bad trusted proxy", baseConfig() + "trusted-proxies: [\"not-an-ip\"]\n", "trusted-proxies"},
		{"tls without cert", baseConfig() + "tls:\n  enable: true\n", "tls"},
		{"no management key", strings.Replace(baseConfig(), testHash, "", 1), "secret-key"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := newEnv(t, baseConfig())
			before := e.file()
			st, body := putYAML(e, c.body)
			if st != http.StatusUnprocessableEntity || errorOf(t, body) != "invalid_config" || !strings.Contains(body, c.msg) {
				t.Fatalf("%d %s, want 422 invalid_config mentioning %q", st, body, c.msg)
			}
			if e.file() != before {
				t.Fatal("a rejected document changed the file")
			}
		})
	}
	t.Run("stale If-Match", func(t *testing.T) {
		e := newEnv(t, baseConfig())
		if st, body := putYAML(e, baseConfig(), ifMatch(`"old"`)); st != http.StatusPreconditionFailed {
			t.Fatalf("%d %s", st, body)
		}
	})
	t.Run("too large", func(t *testing.T) {
		e := newEnv(t, baseConfig())
		huge := baseConfig() + "# " + strings.Repeat("x", config.MaxFileBytes) + "\n"
		if st, body := putYAML(e, huge); st != http.StatusRequestEntityTooLarge {
			t.Fatalf("%d %s", st, body)
		}
	})
	t.Run("empty body", func(t *testing.T) {
		e := newEnv(t, baseConfig())
		if st, body := putYAML(e, ""); st != http.StatusBadRequest || errorOf(t, body) != "invalid body" {
			t.Fatalf("%d %s", st, body)
		}
	})
	t.Run("whitespace only", func(t *testing.T) {
		e := newEnv(t, baseConfig())
		if st, body := putYAML(e, "\n  \n"); st != http.StatusUnprocessableEntity {
			t.Fatalf("%d %s", st, body)
		}
	})
	t.Run("any content type is read as YAML", func(t *testing.T) {
		// JSON is YAML: this document loads, and is refused for what it
		// says (no management key), not for its Content-Type.
		e := newEnv(t, baseConfig())
		if st, _, body := e.do(http.MethodPut, "/config.yaml", "application/json", `{"port":1}`); st != http.StatusUnprocessableEntity || !strings.Contains(body, "secret-key") {
			t.Fatalf("%d %s", st, body)
		}
	})
}

func TestLatestVersion(t *testing.T) {
	release := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/ok":
			_, _ = io.WriteString(w, `{"tag_name":"v9.9.9","name":"Nine"}`)
		case "/name-only":
			_, _ = io.WriteString(w, `{"tag_name":"","name":"v1.2.3"}`)
		case "/empty":
			_, _ = io.WriteString(w, `{}`)
		case "/html":
			_, _ = io.WriteString(w, `<html>`)
		default:
			http.Error(w, "rate limited", http.StatusForbidden)
		}
	}))
	defer release.Close()
	dead := httptest.NewServer(http.NotFoundHandler())
	deadURL := dead.URL
	dead.Close()
	cases := []struct {
		name, url string
		status    int
		want      string
	}{
		{"tag", release.URL + "/ok", 200, "v9.9.9"},
		{"name fallback", release.URL + "/name-only", 200, "v1.2.3"},
		{"no version", release.URL + "/empty", 502, "invalid_response"},
		{"not json", release.URL + "/html", 502, "decode_failed"},
		{"bad status", release.URL + "/limited", 502, "unexpected_status"},
		{"unreachable", deadURL + "/x", 502, "request_failed"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := newEnv(t, baseConfig()+"latest-version-url: \""+c.url+"\"\n")
			r, err := e.client.GetLatestVersionWithResponse(ctx())
			must(e, err)
			statusOf(t, r.HTTPResponse, c.status)
			if c.status == 200 && r.JSON200.LatestVersion != c.want {
				t.Fatalf("version %q", r.JSON200.LatestVersion)
			}
			if c.status == 502 && r.JSON502.Error != c.want {
				t.Fatalf("error %q, want %q", r.JSON502.Error, c.want)
			}
		})
	}
}

func TestOpenAPIAndDocsNeedNoKey(t *testing.T) {
	e := newEnv(t, baseConfig())
	anon := newContractClient(t, e.srv.URL, "")
	r, err := anon.GetOpenAPISpecWithResponse(ctx())
	must(e, err)
	statusOf(t, r.HTTPResponse, http.StatusOK)
	if !strings.Contains(string(r.Body), `"openapi":"3.0.3"`) {
		t.Fatalf("spec body %.100s", r.Body)
	}
	resp, err := http.Get(e.srv.URL + "/v0/management/docs/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
		t.Fatalf("docs: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	// Everything else needs the key.
	d, err := anon.GetDebugWithResponse(ctx())
	must(e, err)
	if d.StatusCode() != http.StatusUnauthorized || d.JSON401.Error != "missing management key" {
		t.Fatalf("%d %s", d.StatusCode(), d.Body)
	}
}

func TestUnknownRoutesAndMethods(t *testing.T) {
	e := newEnv(t, baseConfig())
	if st, _, body := e.do(http.MethodGet, "/no-such-thing", "", ""); st != http.StatusNotFound || errorOf(t, body) != "not found" {
		t.Fatalf("%d %s", st, body)
	}
	if st, _, body := e.do(http.MethodPost, "/debug", "application/json", `{"value":true}`); st != http.StatusMethodNotAllowed || errorOf(t, body) != "method not allowed" {
		t.Fatalf("%d %s", st, body)
	}
	if st, _, _ := e.do(http.MethodGet, "/config/../debug", "", ""); st == http.StatusOK {
		t.Fatal("dot segments reached a handler")
	}
}

var _ = config.Defaults
