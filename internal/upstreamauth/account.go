// Package upstreamauth turns the OAuth accounts and service accounts saved
// in auth-dir into upstream credentials: it parses each auth file into an
// Account (what routing needs, no secret), and hands out access tokens,
// refreshing them ahead of expiry or after a 401, one refresh at a time per
// file, writing rotated tokens back to the file before they are used.
//
// It never logs a token, and its errors never quote one.
package upstreamauth

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/tidwall/gjson"
	"github.com/tidwall/sjson"

	"github.com/cli-proxy-api/cli-proxy-api/internal/providers"
	"github.com/cli-proxy-api/cli-proxy-api/internal/version"
)

// Account is one auth file as the router sees it: no token, nothing
// secret. Name (the file name) is its identity.
type Account struct {
	Name     string
	Kind     providers.Kind
	Email    string
	Prefix   string
	ProxyURL string
	// BaseURL replaces the provider's API base (file field base_url), for
	// self-hosted gateways and tests.
	BaseURL string
	// Projects: gemini-cli's project_id split at commas (one credential
	// per project); antigravity's and vertex's single project.
	Projects []string
	Location string // vertex
	// AccountID is Codex's ChatGPT account (Chatgpt-Account-Id header).
	AccountID string
	// UserAgent is antigravity's optional user_agent.
	UserAgent string
	// DeviceID is Kimi's per-login device (file field device_id), sent in
	// its X-Msh-Device-Id header.
	DeviceID string
	Disabled bool
	// Priority, Weight and MaxConcurrency steer routing as the config
	// entries' priority, weight and max-concurrency do (file fields
	// priority, weight, max_concurrency; a number or a numeric string).
	Priority       int
	Weight         int
	MaxConcurrency int
	// Custom are the file's own upstream headers (field headers, as the
	// config entries' headers), sent last so they win.
	Custom map[string]string
	// Revision names the file's content as last loaded (a digest), so
	// that the router can tell an edited or re-logged file from one it
	// already knows and forget the old content's cooldowns. The
	// manager's own token write-backs keep it: a refresh is the same
	// credential.
	Revision string
}

// steeringFields are the file fields that only say how routing uses the
// credential; editing them (a panel's priority or note) is not a new
// credential, so they do not enter its Revision.
var steeringFields = []string{"priority", "weight", "max_concurrency", "note", "disabled", "prefix",
	"websockets", "request_retry", "disable_cooling", "excluded_models"}

// revisionOf is the Revision of a file's content: a digest of everything
// but its steering fields.
func revisionOf(raw []byte) string {
	rest := raw
	for _, f := range steeringFields {
		if r, err := sjson.DeleteBytes(rest, f); err == nil {
			rest = r
		}
	}
	sum := sha256.Sum256(rest)
	return hex.EncodeToString(sum[:8])
}

// Label is what logs show: the e-mail, else the file name.
func (a Account) Label() string {
	if a.Email != "" {
		return a.Email
	}
	return a.Name
}

// tokens are the secret part of an account.
type tokens struct {
	access, refresh, idToken string
	expiry                   time.Time
	// apiKey is iFlow's platform key, the credential it is called with.
	apiKey string
	// resourceURL is Qwen's API host, which a refresh may move.
	resourceURL string
	// nested says the Google token sits in a "token" object (gemini-cli).
	nested bool
	// serviceAccount is vertex's key JSON.
	serviceAccount []byte
}

// maxWeight is config.MaxWeight (upstreamauth does not import config).
const maxWeight = 1_000_000

// intField reads a whole number sent as a JSON number or a numeric
// string; anything else is 0.
func intField(v gjson.Result) int {
	switch v.Type {
	case gjson.Number:
		if v.Num == float64(int64(v.Num)) && v.Num >= -1e9 && v.Num <= 1e9 {
			return int(v.Num)
		}
	case gjson.String:
		if n, err := strconv.Atoi(strings.TrimSpace(v.Str)); err == nil && n >= -1e9 && n <= 1e9 {
			return n
		}
	}
	return 0
}

// parse reads an auth file. ok is false for files of a kind not served.
func parse(name string, raw []byte) (Account, tokens, bool, error) {
	if !gjson.ValidBytes(raw) {
		return Account{}, tokens{}, false, fmt.Errorf("not valid JSON")
	}
	root := gjson.ParseBytes(raw)
	if !root.IsObject() {
		return Account{}, tokens{}, false, fmt.Errorf("not a JSON object")
	}
	kind := providers.FileKind(root.Get("type").String())
	if kind == "" {
		return Account{}, tokens{}, false, nil
	}
	a := Account{
		Name: name, Kind: kind,
		Email:     strings.TrimSpace(root.Get("email").String()),
		ProxyURL:  strings.TrimSpace(root.Get("proxy_url").String()),
		BaseURL:   strings.TrimRight(strings.TrimSpace(root.Get("base_url").String()), "/"),
		AccountID: strings.TrimSpace(root.Get("account_id").String()),
		UserAgent: strings.TrimSpace(root.Get("user_agent").String()),
		Location:  strings.TrimSpace(root.Get("location").String()),
		DeviceID:  strings.TrimSpace(root.Get("device_id").String()),
		Disabled:  root.Get("disabled").Bool(),
	}
	a.Priority = intField(root.Get("priority"))
	// A weight beyond the maximum is held at it (the reference made such
	// a credential silently unused).
	a.Weight = min(max(intField(root.Get("weight")), 0), maxWeight)
	a.MaxConcurrency = max(intField(root.Get("max_concurrency")), 0)
	root.Get("headers").ForEach(func(k, v gjson.Result) bool {
		if name := strings.TrimSpace(k.String()); name != "" && v.Type == gjson.String && !strings.ContainsAny(v.Str, "\r\n") {
			if a.Custom == nil {
				a.Custom = map[string]string{}
			}
			a.Custom[name] = v.Str
		}
		return true
	})
	if p := strings.Trim(strings.TrimSpace(root.Get("prefix").String()), "/"); p != "" && !strings.Contains(p, "/") {
		a.Prefix = p
	}
	for _, p := range strings.Split(root.Get("project_id").String(), ",") {
		if p = strings.TrimSpace(p); p != "" {
			a.Projects = append(a.Projects, p)
		}
	}
	if len(a.Projects) == 0 {
		if p := strings.TrimSpace(root.Get("project").String()); p != "" {
			a.Projects = []string{p}
		}
	}
	t := tokens{
		access:      root.Get("access_token").String(),
		refresh:     root.Get("refresh_token").String(),
		idToken:     root.Get("id_token").String(),
		apiKey:      root.Get("api_key").String(),
		resourceURL: root.Get("resource_url").String(),
	}
	t.expiry = expiryOf(root)
	if tok := root.Get("token"); tok.IsObject() {
		t.nested = true
		t.access = tok.Get("access_token").String()
		t.refresh = tok.Get("refresh_token").String()
		if e := expiryOf(tok); !e.IsZero() {
			t.expiry = e
		}
	}
	switch kind {
	case providers.Vertex:
		sa := root.Get("service_account")
		if !sa.IsObject() {
			return a, t, true, fmt.Errorf("vertex file has no service_account object")
		}
		t.serviceAccount = []byte(sa.Raw)
		if len(a.Projects) == 0 {
			if p := sa.Get("project_id").String(); p != "" {
				a.Projects = []string{p}
			}
		}
		if len(a.Projects) == 0 {
			return a, t, true, fmt.Errorf("vertex file has no project_id")
		}
		if a.Location == "" {
			a.Location = "us-central1"
		}
		if a.Email == "" {
			a.Email = sa.Get("client_email").String()
		}
	case providers.GeminiCLI:
		if len(a.Projects) == 0 {
			return a, t, true, fmt.Errorf("gemini-cli file has no project_id")
		}
	case providers.Codex:
		if a.AccountID == "" && t.idToken != "" {
			a.AccountID = accountIDFromIDToken(t.idToken)
		}
	}
	if kind != providers.Vertex && t.access == "" && t.refresh == "" && t.apiKey == "" {
		return a, t, true, fmt.Errorf("no access_token, refresh_token or api_key")
	}
	return a, t, true, nil
}

// expiryOf reads the expiry fields the reference writes: expired, expire,
// expires_at, expiresAt, expiry, expires (RFC 3339, "YYYY-MM-DD HH:MM[:SS]"
// or Unix seconds/milliseconds), else timestamp (ms) + expires_in (s).
func expiryOf(o gjson.Result) time.Time {
	for _, k := range []string{"expired", "expire", "expires_at", "expiresAt", "expiry", "expires"} {
		if t := parseTime(o.Get(k)); !t.IsZero() {
			return t
		}
	}
	if ts, in := o.Get("timestamp").Int(), o.Get("expires_in").Int(); ts > 0 && in > 0 {
		return time.UnixMilli(ts).Add(time.Duration(in) * time.Second)
	}
	return time.Time{}
}

func parseTime(v gjson.Result) time.Time {
	switch v.Type {
	case gjson.Number:
		return unixTime(v.Int())
	case gjson.String:
		s := strings.TrimSpace(v.String())
		if s == "" {
			return time.Time{}
		}
		for _, layout := range []string{time.RFC3339Nano, "2006-01-02 15:04:05", "2006-01-02 15:04"} {
			if t, err := time.Parse(layout, s); err == nil {
				return t
			}
		}
		if n, err := strconv.ParseInt(s, 10, 64); err == nil {
			return unixTime(n)
		}
	}
	return time.Time{}
}

func unixTime(n int64) time.Time {
	switch {
	case n <= 0:
		return time.Time{}
	case n > 1e12:
		return time.UnixMilli(n)
	}
	return time.Unix(n, 0)
}

// accountIDFromIDToken reads the ChatGPT account ID from a Codex id_token
// (not verified: it came from the provider over TLS and only routes).
func accountIDFromIDToken(tok string) string {
	parts := strings.Split(tok, ".")
	if len(parts) < 2 {
		return ""
	}
	b, err := decodeSegment(parts[1])
	if err != nil {
		return ""
	}
	var c struct {
		Auth struct {
			AccountID string `json:"chatgpt_account_id"`
		} `json:"https://api.openai.com/auth"`
	}
	_ = json.Unmarshal(b, &c)
	return c.Auth.AccountID
}

// requestHeaders sets the headers the provider wants on every request of
// the account, token refreshes included: Kimi's device headers.
func (a Account) requestHeaders(r *http.Request) {
	for k, v := range a.Headers() {
		r.Header.Set(k, v)
	}
}

// Headers are the account's provider headers (Kimi's device headers; nil
// for other kinds).
func (a Account) Headers() map[string]string {
	if a.Kind != providers.Kimi {
		return nil
	}
	host, _ := os.Hostname()
	return providers.KimiHeaders(version.Version, host, a.DeviceID)
}
