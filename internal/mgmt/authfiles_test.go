package mgmt_test

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"io"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/cli-proxy-api/cli-proxy-api/internal/mgmt"
	"github.com/cli-proxy-api/cli-proxy-api/internal/testutil"
)

// ownStatusTests are the operations whose statuses need files, logs or
// fake providers; TestEveryDocumentedStatusIsProduced leaves them to the
// tests here, which end with requireStatusesSeen.
var ownStatusTests = map[string]bool{
	"ListAuthFiles": true, "UploadAuthFile": true, "DeleteAuthFiles": true, "DownloadAuthFile": true,
	"GetAuthFileModels": true, "ImportVertexCredential": true, "PostGeminiWebToken": true,
	"PatchAuthFileStatus": true, "PostAPICall": true, "GetModelDefinitions": true,
	"GetCooldowns": true, "DeleteCooldowns": true, // a data plane with a failing upstream: cooldowns_test.go
	"PatchAuthFileFields": true, "ResetQuota": true, // authfilefields_test.go
}

// call sends one request through the contract checker (so the response is
// validated and its status recorded) and returns status, headers and body.
func (e *env) call(method, path, contentType string, body []byte, hdr ...string) (int, http.Header, []byte) {
	e.t.Helper()
	req, err := http.NewRequest(method, e.srv.URL+mgmt.Prefix+path, bytes.NewReader(body))
	if err != nil {
		e.t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	req.Header.Set("Authorization", "Bearer "+testKey)
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := (&contractDoer{t: e.t, inner: http.DefaultClient}).Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, b
}

// noKey drops the management key (for 401).
func (e *env) callNoKey(method, path string) int {
	e.t.Helper()
	req, _ := http.NewRequest(method, e.srv.URL+mgmt.Prefix+path, nil)
	resp, err := (&contractDoer{t: e.t, inner: http.DefaultClient}).Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// remote sends the request as a client that is not on loopback (403 on a
// config that refuses remote management).
func remoteStatus(t *testing.T, method, path string) int {
	t.Helper()
	remoteCfg := strings.Replace(baseConfig(), "allow-remote: false", "allow-remote: false", 1) + "trusted-proxies: [\"127.0.0.1\"]\n"
	e := newEnv(t, remoteCfg)
	st, _, _ := e.call(method, path, "", nil, "X-Forwarded-For", "203.0.113.5")
	return st
}

// throttledStatus sends wrong keys from one address until the guard
// slows it down (429), on a fresh env, and returns the last status.
func throttledStatus(t *testing.T, method, path string) int {
	t.Helper()
	e := newEnv(t, baseConfig())
	st := 0
	for range 30 {
		req, _ := http.NewRequest(method, e.srv.URL+mgmt.Prefix+path, nil)
		req.Header.Set("Authorization", "Bearer wrong-key")
		resp, err := (&contractDoer{t: t, inner: http.DefaultClient}).Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if st = resp.StatusCode; st == http.StatusTooManyRequests {
			break
		}
	}
	return st
}

// requireStatusesSeen checks that the contract checker saw every status
// the spec documents for each operation.
func requireStatusesSeen(t *testing.T, ops ...string) {
	t.Helper()
	// The key check answers 429 and 503 the same way for every keyed
	// operation; produce them here rather than in every caller.
	for path, item := range contractSpec.Paths.Map() {
		for method, op := range item.Operations() {
			for _, want := range ops {
				if op.OperationID != want {
					continue
				}
				for _, st := range []int{http.StatusTooManyRequests, http.StatusServiceUnavailable} {
					if op.Responses.Value(strconv.Itoa(st)) != nil && !seenStatus(want, st) {
						keyCheckStatus(t, method, path, st)
					}
				}
			}
		}
	}
	coverage.Lock()
	defer coverage.Unlock()
	for _, item := range contractSpec.Paths.Map() {
		for _, op := range item.Operations() {
			for _, want := range ops {
				if op.OperationID != want {
					continue
				}
				for code := range op.Responses.Map() {
					st, _ := strconv.Atoi(code)
					if !coverage.seen[want][st] {
						t.Errorf("%s documents %s, which no request produced", want, code)
					}
				}
			}
		}
	}
}

func seenStatus(op string, st int) bool {
	coverage.Lock()
	defer coverage.Unlock()
	return coverage.seen[op][st]
}

type part struct {
	field, filename, body string
}

func multipartBody(t *testing.T, parts ...part) ([]byte, string) {
	t.Helper()
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	for _, p := range parts {
		h := textproto.MIMEHeader{}
		if p.filename != "" {
			// Written by hand: CreateFormFile would escape nothing, but
			// this keeps a raw "../x.json" exactly as an attacker sends it.
			h.Set("Content-Disposition", `form-data; name="`+p.field+`"; filename="`+p.filename+`"`)
			h.Set("Content-Type", "application/json")
		} else {
			h.Set("Content-Disposition", `form-data; name="`+p.field+`"`)
		}
		pw, err := w.CreatePart(h)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = pw.Write([]byte(p.body))
	}
	_ = w.Close()
	return buf.Bytes(), w.FormDataContentType()
}

func testAuthFilesRoundTrip(t *testing.T) {
	e := newEnv(t, baseConfig())
	a := "{\n  \"type\": \"codex\", \"email\": \"a@example.com\",\n  \"n\": 1.50 }"
	b := `{"type":"gemini","email":"b@example.com"}`
	body, ct := multipartBody(t, part{"file", "acc-a.json", a}, part{"file", "acc-b.json", b})
	if st, _, out := e.call("POST", "/auth-files", ct, body); st != 200 {
		t.Fatalf("multipart upload: %d %s", st, out)
	}
	raw := "{ \"type\" : \"claude\" ,\"email\":\"c@example.com\"}\n"
	if st, _, out := e.call("POST", "/auth-files?name=acc-c.json", "application/json", []byte(raw)); st != 200 {
		t.Fatalf("raw upload: %d %s", st, out)
	}
	for name, want := range map[string]string{"acc-a.json": a, "acc-b.json": b, "acc-c.json": raw} {
		st, h, got := e.call("GET", "/auth-files/download?name="+name, "", nil)
		if st != 200 || string(got) != want {
			t.Fatalf("download %s: %d %q, want %q", name, st, got, want)
		}
		if !strings.Contains(h.Get("Content-Disposition"), `filename=`+name) {
			t.Fatalf("Content-Disposition %q", h.Get("Content-Disposition"))
		}
		info, err := os.Stat(filepath.Join(e.authDir, name))
		if err != nil || info.Mode().Perm() != 0o600 {
			t.Fatalf("%s mode %v %v", name, info.Mode(), err)
		}
	}
	st, _, out := e.call("GET", "/auth-files", "", nil)
	var list struct {
		Files []map[string]any `json:"files"`
	}
	if st != 200 || json.Unmarshal(out, &list) != nil || len(list.Files) != 3 {
		t.Fatalf("list: %d %s", st, out)
	}
	f := list.Files[1]
	if f["name"] != "acc-b.json" || f["type"] != "gemini-cli" || f["email"] != "b@example.com" || f["label"] != "b@example.com" || f["size"] != float64(len(b)) {
		t.Fatalf("entry %v", f)
	}
	if _, ok := f["modtime"].(string); !ok {
		t.Fatalf("modtime %v", f["modtime"])
	}

	if st, _, out := e.call("GET", "/auth-files/models?name=acc-a.json", "", nil); st != 200 || !strings.Contains(string(out), `"gpt-5"`) {
		t.Fatalf("models: %d %s", st, out)
	}
	if st, _, _ := e.call("GET", "/auth-files/models", "", nil); st != 400 {
		t.Fatalf("models without name: %d", st)
	}
	if st, _, _ := e.call("GET", "/auth-files/models?name=nope.json", "", nil); st != 404 {
		t.Fatalf("models of a missing file: %d", st)
	}

	if st, _, out := e.call("DELETE", "/auth-files?name=acc-a.json", "", nil); st != 200 || !strings.Contains(string(out), `"ok"`) {
		t.Fatalf("delete: %d %s", st, out)
	}
	if st, _, _ := e.call("DELETE", "/auth-files?name=acc-a.json", "", nil); st != 404 {
		t.Fatalf("second delete: %d", st)
	}
	if st, _, _ := e.call("GET", "/auth-files/download?name=acc-a.json", "", nil); st != 404 {
		t.Fatalf("download deleted: %d", st)
	}
	if st, _, _ := e.call("DELETE", "/auth-files", "", nil); st != 400 {
		t.Fatalf("delete without selector: %d", st)
	}
	// Several by name (the newer panels' body): all checked first.
	if st, _, out := e.call("POST", "/auth-files?name=acc-d.json", "application/json", []byte(`{}`)); st != 200 {
		t.Fatalf("upload d: %d %s", st, out)
	}
	if st, _, _ := e.call("DELETE", "/auth-files", "application/json", []byte(`{"names":["acc-d.json","missing.json"]}`)); st != 404 {
		t.Fatalf("names with a missing one: %d", st)
	}
	if st, _, _ := e.call("DELETE", "/auth-files", "application/json", []byte(`{"names":["acc-d.json","../x.json"]}`)); st != 400 {
		t.Fatalf("names with a bad one: %d", st)
	}
	if st, _, out := e.call("DELETE", "/auth-files", "application/json", []byte(`{"names":["acc-d.json","acc-c.json"]}`)); st != 200 || !strings.Contains(string(out), `"deleted":2`) {
		t.Fatalf("names: %d %s", st, out)
	}
	st, _, out = e.call("DELETE", "/auth-files?all=true", "", nil)
	if st != 200 || !strings.Contains(string(out), `"deleted":1`) {
		t.Fatalf("delete all: %d %s", st, out)
	}
	if n := testutil.DirNames(t, e.authDir); len(n) != 0 {
		t.Fatalf("left: %v", n)
	}
}

func testAuthFilesBadNames(t *testing.T) {
	e := newEnv(t, baseConfig())
	outside := filepath.Join(filepath.Dir(e.authDir), "evil.json")
	cases := []struct {
		name string
		send func() int
	}{
		{"multipart ../", func() int {
			body, ct := multipartBody(t, part{"file", "../evil.json", `{}`})
			st, _, _ := e.call("POST", "/auth-files", ct, body)
			return st
		}},
		{"multipart absolute", func() int {
			body, ct := multipartBody(t, part{"file", "/tmp/evil.json", `{}`})
			st, _, _ := e.call("POST", "/auth-files", ct, body)
			return st
		}},
		{"multipart not json", func() int {
			body, ct := multipartBody(t, part{"file", "x.txt", `{}`})
			st, _, _ := e.call("POST", "/auth-files", ct, body)
			return st
		}},
		{"multipart hidden", func() int {
			body, ct := multipartBody(t, part{"file", ".x.json", `{}`})
			st, _, _ := e.call("POST", "/auth-files", ct, body)
			return st
		}},
		{"multipart one bad in a batch", func() int {
			body, ct := multipartBody(t, part{"file", "good.json", `{}`}, part{"file", "bad.json", `[1,2]`})
			st, _, _ := e.call("POST", "/auth-files", ct, body)
			return st
		}},
		{"multipart without file", func() int {
			body, ct := multipartBody(t, part{"other", "", `x`})
			st, _, _ := e.call("POST", "/auth-files", ct, body)
			return st
		}},
		{"multipart oversized file", func() int {
			body, ct := multipartBody(t, part{"file", "big.json", `{"x":"` + strings.Repeat("a", 1<<20) + `"}`})
			st, _, _ := e.call("POST", "/auth-files", ct, body)
			return st
		}},
		{"raw ../", func() int {
			st, _, _ := e.call("POST", "/auth-files?name=../evil.json", "application/json", []byte(`{}`))
			return st
		}},
		{"raw encoded separator", func() int {
			st, _, _ := e.call("POST", "/auth-files?name=..%2Fevil.json", "application/json", []byte(`{}`))
			return st
		}},
		{"raw no name", func() int {
			st, _, _ := e.call("POST", "/auth-files", "application/json", []byte(`{}`))
			return st
		}},
		{"raw too long", func() int {
			st, _, _ := e.call("POST", "/auth-files?name="+strings.Repeat("a", 200)+".json", "application/json", []byte(`{}`))
			return st
		}},
		{"download ../", func() int {
			st, _, _ := e.call("GET", "/auth-files/download?name=../config.yaml", "", nil)
			return st
		}},
		{"download not json", func() int {
			st, _, _ := e.call("GET", "/auth-files/download?name=config.yaml", "", nil)
			return st
		}},
		{"download no name", func() int {
			st, _, _ := e.call("GET", "/auth-files/download", "", nil)
			return st
		}},
		{"delete ../", func() int {
			st, _, _ := e.call("DELETE", "/auth-files?name=../config.yaml", "", nil)
			return st
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if st := c.send(); st != 400 {
				t.Fatalf("status %d, want 400", st)
			}
			if n := testutil.DirNames(t, e.authDir); len(n) != 0 {
				t.Fatalf("auth-dir touched: %v", n)
			}
			if _, err := os.Stat(outside); err == nil {
				t.Fatal("a file was written outside auth-dir")
			}
			if _, err := os.Stat(e.path); err != nil {
				t.Fatal("config.yaml deleted")
			}
		})
	}
	t.Run("over the route's body limit", func(t *testing.T) {
		st, _, _ := e.call("POST", "/auth-files?name=big.json", "application/json", []byte(`{"x":"`+strings.Repeat("a", 16<<20)+`"}`))
		if st != 413 {
			t.Fatalf("status %d", st)
		}
	})
}

// testAuthFilesFailures covers 503 (no store), 500 (the directory
// vanished under the running server), 401 and 403.
func testAuthFilesFailures(t *testing.T) {
	none := newEnv(t, baseConfig(), withoutAuthFiles())
	body, ct := multipartBody(t, part{"file", "a.json", `{}`})
	vbody, vct := multipartBody(t, part{"file", "sa.json", `{}`})
	for _, c := range []struct{ method, path, ct string }{
		{"GET", "/auth-files", ""}, {"POST", "/auth-files", ct}, {"DELETE", "/auth-files?all=true", ""},
		{"GET", "/auth-files/download?name=a.json", ""}, {"GET", "/auth-files/models?name=a.json", ""},
		{"POST", "/vertex/import", vct}, {"POST", "/gemini-web-token", "application/json"},
	} {
		var b []byte
		switch c.path {
		case "/auth-files":
			if c.method == "POST" {
				b = body
			}
		case "/vertex/import":
			b = vbody
		case "/gemini-web-token":
			b = []byte(`{"secure_1psid":"a","secure_1psidts":"b"}`)
		}
		st, _, out := none.call(c.method, c.path, c.ct, b)
		if st != 503 || errorOf(t, string(out)) != "core auth manager unavailable" {
			t.Errorf("%s %s: %d %s", c.method, c.path, st, out)
		}
	}

	e := newEnv(t, baseConfig())
	if st, _, _ := e.call("POST", "/auth-files?name=a.json", "application/json", []byte(`{}`)); st != 200 {
		t.Fatal(st)
	}
	// A hand-planted symlink that leads out of auth-dir cannot be read.
	if err := os.Symlink(e.path, filepath.Join(e.authDir, "link.json")); err != nil {
		t.Fatal(err)
	}
	if st, _, _ := e.call("GET", "/auth-files/download?name=link.json", "", nil); st != 500 {
		t.Errorf("download through an escaping symlink: %d", st)
	}
	saBody, saCT := multipartBody(t, part{"file", "sa.json", serviceAccount(t, "p1", false)})
	if err := os.RemoveAll(e.authDir); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		method, path, ct string
		body             []byte
	}{
		{"GET", "/auth-files", "", nil},
		{"POST", "/auth-files", ct, body},
		{"DELETE", "/auth-files?all=1", "", nil},
		{"POST", "/vertex/import", saCT, saBody},
		{"POST", "/gemini-web-token", "application/json", []byte(`{"secure_1psid":"a","secure_1psidts":"b"}`)},
	} {
		if st, _, out := e.call(c.method, c.path, c.ct, c.body); st != 500 {
			t.Errorf("%s %s with auth-dir gone: %d %s", c.method, c.path, st, out)
		}
	}
	for _, c := range []struct{ method, path string }{
		{"GET", "/auth-files"}, {"POST", "/auth-files"}, {"DELETE", "/auth-files"}, {"GET", "/auth-files/download"},
		{"GET", "/auth-files/models"}, {"POST", "/vertex/import"}, {"POST", "/gemini-web-token"},
	} {
		if st := e.callNoKey(c.method, c.path); st != 401 {
			t.Errorf("%s %s without key: %d", c.method, c.path, st)
		}
		if st := remoteStatus(t, c.method, c.path); st != 403 {
			t.Errorf("%s %s from a remote client: %d", c.method, c.path, st)
		}
		if st := throttledStatus(t, c.method, c.path); st != 429 {
			t.Errorf("%s %s after wrong keys: %d", c.method, c.path, st)
		}
	}
}

func serviceAccount(t *testing.T, project string, pkcs8 bool) string {
	t.Helper()
	k, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	var block *pem.Block
	if pkcs8 {
		der, _ := x509.MarshalPKCS8PrivateKey(k)
		block = &pem.Block{Type: "PRIVATE KEY", Bytes: der}
	} else {
		block = &pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(k)}
	}
	sa := map[string]string{"type": "service_account", "project_id": project, "client_email": "sa@" + project + ".iam.gserviceaccount.com",
		"private_key": strings.ReplaceAll(string(pem.EncodeToMemory(block)), "\n", "\r\n")}
	b, _ := json.Marshal(sa)
	return string(b)
}

func testVertexImport(t *testing.T) {
	e := newEnv(t, baseConfig())
	sa := serviceAccount(t, "my-proj", true)
	body, ct := multipartBody(t, part{"file", "sa.json", sa}, part{"location", "", "europe-west4"})
	st, _, out := e.call("POST", "/vertex/import", ct, body)
	if st != 200 {
		t.Fatalf("%d %s", st, out)
	}
	var res map[string]string
	_ = json.Unmarshal(out, &res)
	if res["auth-file"] != "vertex-my-proj.json" || res["project_id"] != "my-proj" || res["location"] != "europe-west4" || res["email"] != "sa@my-proj.iam.gserviceaccount.com" {
		t.Fatalf("result %v", res)
	}
	saved, err := os.ReadFile(filepath.Join(e.authDir, "vertex-my-proj.json"))
	if err != nil {
		t.Fatal(err)
	}
	var file struct {
		Type           string            `json:"type"`
		ServiceAccount map[string]string `json:"service_account"`
	}
	if err := json.Unmarshal(saved, &file); err != nil || file.Type != "vertex" || !strings.HasPrefix(file.ServiceAccount["private_key"], "-----BEGIN RSA PRIVATE KEY-----\n") {
		t.Fatalf("saved %s", saved)
	}
	if strings.Contains(e.logs.String(), "PRIVATE KEY") {
		t.Fatal("the key reached the log")
	}

	ecKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	ecDER, _ := x509.MarshalPKCS8PrivateKey(ecKey)
	ecPEM := string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: ecDER}))
	bad := func(mut func(m map[string]any)) string {
		var m map[string]any
		_ = json.Unmarshal([]byte(serviceAccount(t, "p", false)), &m)
		mut(m)
		b, _ := json.Marshal(m)
		return string(b)
	}
	cases := []struct {
		name, file, err, msg string
	}{
		{"not json", "{nope", "invalid json", ""},
		{"empty", "", "file required", ""},
		{"no private key", bad(func(m map[string]any) { delete(m, "private_key") }), "invalid service account", "service account missing private_key"},
		{"no markers", bad(func(m map[string]any) { m["private_key"] = "abc" }), "invalid service account", "private_key is not valid pem: missing pem markers"},
		{"not rsa", bad(func(m map[string]any) { m["private_key"] = ecPEM }), "invalid service account", "private_key is not an RSA key"},
		{"wrong type", bad(func(m map[string]any) { m["type"] = "authorized_user" }), "invalid service account", `type must be "service_account"`},
		{"no project", bad(func(m map[string]any) { m["project_id"] = "" }), "project_id missing", ""},
		{"no file part", "", "invalid body", `property "file" is missing`},
		{"oversized", `{"x":"` + strings.Repeat("a", 1<<20) + `"}`, "file too large: at most 1048576 bytes", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			body, ct := multipartBody(t, part{"file", "sa.json", c.file})
			if c.name == "no file part" {
				body, ct = multipartBody(t, part{"location", "", "us-central1"})
			}
			st, _, out := e.call("POST", "/vertex/import", ct, body)
			var eb struct{ Error, Message string }
			_ = json.Unmarshal(out, &eb)
			if st != 400 || eb.Error != c.err || eb.Message != c.msg {
				t.Fatalf("%d %s", st, out)
			}
		})
	}
	if st, _, _ := e.call("POST", "/vertex/import", ct, bytes.Repeat([]byte("a"), 17<<20)); st != 413 {
		t.Fatalf("over the body limit: %d", st)
	}
}

func testGeminiWebToken(t *testing.T) {
	e := newEnv(t, baseConfig())
	body := []byte(`{"secure_1psid":"g.a000-secret-session","secure_1psidts":"sidts-CjEB"}`)
	st, _, out := e.call("POST", "/gemini-web-token", "application/json", body)
	var res struct{ Status, File string }
	if st != 200 || json.Unmarshal(out, &res) != nil || !strings.HasPrefix(res.File, "gemini-web-") {
		t.Fatalf("%d %s", st, out)
	}
	st, _, out2 := e.call("POST", "/gemini-web-token", "application/json", body)
	if st != 200 || string(out2) != string(out) {
		t.Fatalf("second save: %d %s, first %s", st, out2, out)
	}
	if n := testutil.DirNames(t, e.authDir); len(n) != 1 {
		t.Fatalf("files %v", n)
	}
	for _, b := range []string{
		`{"secure_1psid":"","secure_1psidts":"x"}`,
		`{"secure_1psid":"x","secure_1psidts":"a b"}`,
		`{"secure_1psid":"x;y","secure_1psidts":"z"}`,
		`{"secure_1psid":"x"}`,
	} {
		if st, _, out := e.call("POST", "/gemini-web-token", "application/json", []byte(b)); st != 400 {
			t.Errorf("%s: %d %s", b, st, out)
		}
	}
	if strings.Contains(e.logs.String(), "secret-session") {
		t.Fatal("a cookie reached the log")
	}
}

// TestAuthFiles drives every auth-file operation over real HTTP; each
// documented status must have been produced by one of its subtests.
func TestAuthFiles(t *testing.T) {
	t.Parallel() // envs of its own
	t.Run("upload, list, download, models, delete", testAuthFilesRoundTrip)
	t.Run("bad names and traversal touch nothing", testAuthFilesBadNames)
	t.Run("vertex import", testVertexImport)
	t.Run("gemini web cookies", testGeminiWebToken)
	t.Run("unavailable, failing, unauthorised", testAuthFilesFailures)
	requireStatusesSeen(t, "ListAuthFiles", "UploadAuthFile", "DeleteAuthFiles", "DownloadAuthFile", "GetAuthFileModels",
		"ImportVertexCredential", "PostGeminiWebToken")
}
