package mgmt_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cli-proxy-api/cli-proxy-api/internal/authfiles"
)

func TestAuthFileFields(t *testing.T) {
	t.Parallel()
	e := newEnv(t, baseConfig())
	orig := "{\n  \"type\": \"codex\",\n  \"email\": \"a@example.com\", \"n\": 1.50,\n  \"headers\": {\"X-Old\": \"1\", \"X-Keep\": \"k\"}\n}\n"
	path := filepath.Join(e.authDir, "acc.json")
	if err := os.WriteFile(path, []byte(orig), 0o600); err != nil {
		t.Fatal(err)
	}
	body := `{"name":"acc.json","priority":"7","weight":3,"proxy-url":"direct","headers":{"X-Old":"","X-New":"2"},` +
		`"note":"team","disable-cooling":true,"foo.bar":12345678901234567890,"request_retry":2,"websockets":"true"}`
	if st, _, out := e.call("PATCH", "/auth-files/fields", "application/json", []byte(body)); st != 200 || !strings.Contains(string(out), `"ok"`) {
		t.Fatalf("patch: %d %s", st, out)
	}
	raw, _ := os.ReadFile(path)
	var got map[string]any
	dec := json.NewDecoder(strings.NewReader(string(raw)))
	dec.UseNumber()
	if err := dec.Decode(&got); err != nil {
		t.Fatalf("%v: %s", err, raw)
	}
	want := map[string]string{"priority": "7", "weight": "3", "proxy_url": "direct", "note": "team", "disable_cooling": "true",
		"request_retry": "2", "websockets": "true"}
	for k, v := range want {
		if s := stringOf(got[k]); s != v {
			t.Errorf("%s = %v, want %s (%s)", k, got[k], v, raw)
		}
	}
	if !strings.Contains(string(raw), `"n": 1.50`) || !strings.Contains(string(raw), `{"bar":12345678901234567890}`) {
		t.Errorf("other bytes or the number's digits changed: %s", raw)
	}
	if h, _ := got["headers"].(map[string]any); len(h) != 2 || h["X-New"] != "2" || h["X-Keep"] != "k" {
		t.Errorf("headers not merged: %v", got["headers"])
	}
	// The listing shows what routing reads.
	st, _, list := e.call("GET", "/auth-files", "", nil)
	if st != 200 || !strings.Contains(string(list), `"priority":7`) || !strings.Contains(string(list), `"weight":3`) || !strings.Contains(string(list), `"note":"team"`) {
		t.Fatalf("list: %d %s", st, list)
	}
	// null and 0 remove; the last header gone removes headers.
	if st, _, out := e.call("PATCH", "/auth-files/fields", "application/json",
		[]byte(`{"name":"acc.json","weight":null,"priority":0,"note":" ","headers":{"x-new":"","X-Keep":""}}`)); st != 200 {
		t.Fatalf("remove: %d %s", st, out)
	}
	raw, _ = os.ReadFile(path)
	for _, k := range []string{`"weight"`, `"priority"`, `"note"`, `"headers"`} {
		if strings.Contains(string(raw), k) {
			t.Errorf("%s not removed: %s", k, raw)
		}
	}

	before, _ := os.ReadFile(path)
	for name, c := range map[string]struct {
		body   string
		status int
		msg    string
	}{
		"not JSON":            {`{"name":`, 400, "invalid body"},
		"an array":            {`[1]`, 400, "invalid body"},
		"no name":             {`{"weight":1}`, 400, "invalid body"},
		"blank name":          {`{"name":" ","weight":1}`, 400, "name is required"},
		"name a number":       {`{"name":1,"weight":1}`, 400, "invalid body"},
		"only name":           {`{"name":"acc.json"}`, 400, "no fields to update"},
		"traversal":           {`{"name":"../x.json","note":"a"}`, 400, "invalid name"},
		"a path":              {`{"name":"sub/x.json","note":"a"}`, 400, "invalid name"},
		"not .json":           {`{"name":"acc.txt","note":"a"}`, 400, "name must end with .json"},
		"absent file":         {`{"name":"nope.json","note":"a"}`, 404, "auth file not found"},
		"weight a string":     {`{"name":"acc.json","weight":"3"}`, 400, "invalid body"},
		"weight too big":      {`{"name":"acc.json","weight":1000001}`, 400, "weight must not exceed 1000000"},
		"weight nested":       {`{"name":"acc.json","weight.x":1}`, 400, "weight does not support nested fields"},
		"weight a fraction":   {`{"name":"acc.json","weight":1.5}`, 400, "invalid body"},
		"priority a word":     {`{"name":"acc.json","priority":"high"}`, 400, "priority must be an integer"},
		"retry a string":      {`{"name":"acc.json","request_retry":"2"}`, 400, "invalid body"},
		"bad proxy":           {`{"name":"acc.json","proxy_url":"ftp://x"}`, 400, "invalid proxy_url"},
		"headers not strings": {`{"name":"acc.json","headers":{"X":1}}`, 400, "invalid body"},
		"bad header name":     {`{"name":"acc.json","headers":{"X Y":"1"}}`, 400, `invalid header "X Y"`},
		"header CRLF":         {`{"name":"acc.json","headers":{"X":"a\r\nB: c"}}`, 400, `invalid header "X"`},
		"disabled a word":     {`{"name":"acc.json","disabled":"maybe"}`, 400, "disabled must be a boolean"},
		"odd key":             {`{"name":"acc.json","a..b":1}`, 400, `invalid field "a..b"`},
		"path operator":       {`{"name":"acc.json","a.#":1}`, 400, `invalid field "a.#"`},
		"too deep":            {`{"name":"acc.json","a.b.c.d.e.f.g.h.i":1}`, 400, `invalid field "a.b.c.d.e.f.g.h.i"`},
		"key twice":           {`{"name":"acc.json","note":"a","note":"b"}`, 400, `auth file fields "note" and "note" refer to the same field`},
		"field and inner":     {`{"name":"acc.json","foo":1,"foo.bar":2}`, 400, `auth file fields "foo" and "foo.bar" refer to the same field`},
		"file too large":      {`{"name":"acc.json","big":"` + strings.Repeat("x", 1<<20-100) + `"}`, 400, "file too large: at most 1048576 bytes"},
	} {
		st, _, out := e.call("PATCH", "/auth-files/fields", "application/json", []byte(c.body))
		if st != c.status || errorOf(t, string(out)) != c.msg {
			t.Errorf("%s: %d %.300s, want %d %q", name, st, out, c.status, c.msg)
		}
	}
	if after, _ := os.ReadFile(path); string(after) != string(before) {
		t.Errorf("a refused patch changed the file (%d bytes, was %d)", len(after), len(before))
	}
	// Both spellings: the snake one wins, whichever comes first.
	if st, _, out := e.call("PATCH", "/auth-files/fields", "application/json", []byte(`{"name":"acc.json","proxy_url":"direct","proxy-url":"none"}`)); st != 200 {
		t.Fatalf("both spellings: %d %s", st, out)
	}
	if raw, _ := os.ReadFile(path); !strings.Contains(string(raw), `"proxy_url":"direct"`) || strings.Contains(string(raw), "proxy-url") {
		t.Errorf("snake spelling did not win: %s", raw)
	}
	if st, _, _ := e.call("PATCH", "/auth-files/fields", "application/json", []byte(`{"name":"`+strings.Repeat("a", 2<<20)+`"}`)); st != 413 {
		t.Errorf("huge body: %d", st)
	}
	if err := os.Symlink(e.path, filepath.Join(e.authDir, "link.json")); err != nil {
		t.Fatal(err)
	}
	if st, _, _ := e.call("PATCH", "/auth-files/fields", "application/json", []byte(`{"name":"link.json","note":"x"}`)); st != 500 {
		t.Errorf("escaping symlink: %d", st)
	}
	none := newEnv(t, baseConfig(), withoutAuthFiles())
	if st, _, _ := none.call("PATCH", "/auth-files/fields", "application/json", []byte(`{"name":"acc.json","note":"x"}`)); st != 503 {
		t.Errorf("no store: %d", st)
	}
	if st := e.callNoKey("PATCH", "/auth-files/fields"); st != 401 {
		t.Errorf("no key: %d", st)
	}
	if st := remoteStatus(t, "PATCH", "/auth-files/fields"); st != 403 {
		t.Errorf("remote: %d", st)
	}
	requireStatusesSeen(t, "PatchAuthFileFields")
}

func stringOf(v any) string {
	switch x := v.(type) {
	case json.Number:
		return x.String()
	case string:
		return x
	case bool:
		if x {
			return "true"
		}
		return "false"
	}
	return ""
}

func TestResetQuota(t *testing.T) {
	t.Parallel()
	p, _ := coolingPlane(t)
	e := newEnv(t, baseConfig(), withCooldowns(p))
	if err := os.WriteFile(filepath.Join(e.authDir, "acc.json"), []byte(`{"type":"codex"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	idx := authfiles.AuthIndex("acc.json")
	for _, body := range []string{`{"auth_index":"` + idx + `"}`, `{"name":"acc.json"}`} {
		st, _, out := e.call("POST", "/reset-quota", "application/json", []byte(body))
		if st != 200 || !strings.Contains(string(out), `"auth_index":"`+idx+`"`) || !strings.Contains(string(out), `"models":[]`) {
			t.Fatalf("%s: %d %s", body, st, out)
		}
	}
	for name, c := range map[string]struct {
		body   string
		status int
		msg    string
	}{
		"not JSON":       {`{"auth_index":`, 400, "invalid body"},
		"index a number": {`{"auth_index":1}`, 400, "invalid body"},
		"nothing":        {`{}`, 400, "auth_index is required"},
		"blank":          {`{"auth_index":"  "}`, 400, "auth_index is required"},
		"unknown index":  {`{"auth_index":"0000000000000000"}`, 404, "auth not found"},
		"unknown name":   {`{"name":"nope.json"}`, 404, "auth not found"},
		"traversal":      {`{"name":"../acc.json"}`, 404, "auth not found"},
		"index and name": {`{"name":"acc.json","auth_index":"0000000000000000"}`, 404, "auth not found"},
		"index too long": {`{"auth_index":"` + strings.Repeat("a", 65) + `"}`, 400, "invalid body"},
	} {
		st, _, out := e.call("POST", "/reset-quota", "application/json", []byte(c.body))
		if st != c.status || errorOf(t, string(out)) != c.msg {
			t.Errorf("%s: %d %s, want %d %q", name, st, out, c.status, c.msg)
		}
	}
	if st, _, _ := e.call("POST", "/reset-quota", "application/json", []byte(`{"name":"`+strings.Repeat("a", 2<<20)+`"}`)); st != 413 {
		t.Errorf("huge body: %d", st)
	}
	noPlane := newEnv(t, baseConfig())
	if st, _, _ := noPlane.call("POST", "/reset-quota", "application/json", []byte(`{"name":"acc.json"}`)); st != 503 {
		t.Errorf("no data plane: %d", st)
	}
	if st := e.callNoKey("POST", "/reset-quota"); st != 401 {
		t.Errorf("no key: %d", st)
	}
	if st := remoteStatus(t, "POST", "/reset-quota"); st != 403 {
		t.Errorf("remote: %d", st)
	}
	requireStatusesSeen(t, "ResetQuota")
}
