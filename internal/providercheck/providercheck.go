// Package providercheck tests one configured provider key: it asks the
// upstream for its models list with the key, base URL and headers the
// proxy would use, and says whether the key was accepted and which models
// the upstream lists. It is bounded (time, bytes, models) and nothing it
// returns holds the key or the URL.
package providercheck

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/cli-proxy-api/cli-proxy-api/internal/errs"
)

// Limits of one test.
const (
	Timeout   = 15 * time.Second
	MaxBody   = 4 << 20
	MaxModels = 2000
	// maxReason bounds the upstream's error message quoted in a reason.
	maxReason = 200
)

// The config lists a key can be tested from.
const (
	Gemini       = "gemini-api-key"
	Codex        = "codex-api-key"
	Claude       = "claude-api-key"
	XAI          = "xai-api-key"
	Vertex       = "vertex-api-key"
	OpenAICompat = "openai-compatibility"
)

// The upstreams' defaults, as the proxy's executors use them.
var defaultBase = map[string]string{
	Gemini: "https://generativelanguage.googleapis.com",
	Codex:  "https://api.openai.com/v1",
	Claude: "https://api.anthropic.com",
	XAI:    "https://api.x.ai/v1",
	Vertex: "https://aiplatform.googleapis.com",
}

// Target is one configured key entry.
type Target struct {
	// List is the config list the entry is in.
	List string
	// BaseURL is the entry's base-url ("" for the provider's default; an
	// OpenAI-compatible provider always has one).
	BaseURL string
	// Key is the entry's API key ("" for a keyless OpenAI-compatible provider).
	Key string
	// Headers are the entry's extra headers.
	Headers map[string]string
}

// Result is what the upstream made of the key.
type Result struct {
	OK      bool
	Status  int
	Latency time.Duration
	Models  []string
	// Reason says why OK is false; it never holds the key or the URL.
	Reason string
}

// Check asks t's upstream for its models list through client. An error
// is only returned for a target that cannot be tested (an unknown list, no
// base URL); an upstream that refuses or cannot be reached is a Result
// with OK false.
func Check(ctx context.Context, client *http.Client, t Target) (Result, error) {
	req, err := request(ctx, t)
	if err != nil {
		return Result{}, err
	}
	ctx, cancel := context.WithTimeout(ctx, Timeout)
	defer cancel()
	req = req.WithContext(ctx)
	start := time.Now()
	resp, err := roundTrip(client, req)
	if err != nil {
		return Result{Latency: time.Since(start), Reason: redact(networkReason(err), t.Key)}, nil
	}
	defer func() { _ = resp.Body.Close() }()
	body, readErr := io.ReadAll(io.LimitReader(resp.Body, MaxBody+1))
	res := Result{Status: resp.StatusCode, Latency: time.Since(start)}
	switch {
	case readErr != nil:
		res.Reason = redact("the answer broke off: "+networkReason(readErr), t.Key)
	case len(body) > MaxBody:
		res.Reason = fmt.Sprintf("the answer is larger than %d MiB", MaxBody>>20)
	case resp.StatusCode < 200 || resp.StatusCode > 299:
		res.Reason = redact(statusReason(resp.StatusCode, body), t.Key)
	default:
		models, err := parseModels(body)
		if err != nil {
			res.Reason = "the answer is not a models list: " + err.Error()
			break
		}
		res.OK, res.Models = true, models
	}
	return res, nil
}

// request builds the models request of t, authorised as the proxy does.
func request(ctx context.Context, t Target) (*http.Request, error) {
	base := strings.TrimRight(strings.TrimSpace(t.BaseURL), "/")
	if base == "" {
		base = defaultBase[t.List]
	}
	var path string
	switch t.List {
	case Gemini:
		path = "/v1beta/models?pageSize=1000"
	case Vertex:
		path = "/v1/publishers/google/models"
	case Claude:
		path = "/v1/models?limit=1000"
	case Codex, XAI, OpenAICompat:
		path = "/models"
	default:
		return nil, errs.New(errs.Invalid, "invalid list")
	}
	if base == "" {
		return nil, errs.New(errs.Invalid, "the provider has no base-url")
	}
	u, err := url.Parse(base + path)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, errs.New(errs.Invalid, "the entry's base-url is not an http or https URL")
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, errs.Wrap(errs.Invalid, err, "the entry's base-url is not usable")
	}
	req.Header.Set("Accept", "application/json")
	for k, v := range t.Headers {
		req.Header.Set(k, v)
	}
	switch t.List {
	case Gemini, Vertex:
		req.Header.Set("X-Goog-Api-Key", t.Key)
	case Claude:
		req.Header.Set("X-Api-Key", t.Key)
		if base != defaultBase[Claude] {
			req.Header.Set("Authorization", "Bearer "+t.Key)
		}
		if req.Header.Get("Anthropic-Version") == "" {
			req.Header.Set("Anthropic-Version", "2023-06-01")
		}
	default:
		if t.Key != "" {
			req.Header.Set("Authorization", "Bearer "+t.Key)
		}
	}
	return req, nil
}

// roundTrip sends req without following redirects (a redirect is the
// upstream's answer, not a reason to call another host).
func roundTrip(client *http.Client, req *http.Request) (*http.Response, error) {
	rt := http.DefaultTransport
	if client != nil && client.Transport != nil {
		rt = client.Transport
	}
	return rt.RoundTrip(req)
}

// parseModels reads the IDs of the lists the providers answer with:
// OpenAI and Anthropic ({"data":[{"id"}]}), Gemini ({"models":[{"name":
// "models/x"}]}) and Vertex ({"publisherModels":[{"name":
// "publishers/google/models/x"}]}).
func parseModels(body []byte) ([]string, error) {
	var v struct {
		Data []struct {
			ID string `json:"id"`
		} `json:"data"`
		Models []struct {
			Name string `json:"name"`
		} `json:"models"`
		PublisherModels []struct {
			Name string `json:"name"`
		} `json:"publisherModels"`
	}
	if err := json.Unmarshal(body, &v); err != nil {
		return nil, errors.New("invalid JSON")
	}
	if v.Data == nil && v.Models == nil && v.PublisherModels == nil {
		return nil, errors.New(`no "data", "models" or "publisherModels" list`)
	}
	seen := map[string]bool{}
	var out []string
	add := func(id string) {
		id = strings.TrimSpace(id)
		if id == "" || seen[id] || len(out) >= MaxModels {
			return
		}
		seen[id] = true
		out = append(out, id)
	}
	for _, m := range v.Data {
		add(m.ID)
	}
	for _, m := range v.Models {
		add(strings.TrimPrefix(m.Name, "models/"))
	}
	for _, m := range v.PublisherModels {
		add(m.Name[strings.LastIndex(m.Name, "/")+1:])
	}
	slices.Sort(out)
	if out == nil {
		out = []string{}
	}
	return out, nil
}

// statusReason is "upstream answered 401" and the upstream's own message,
// cut short.
func statusReason(status int, body []byte) string {
	reason := fmt.Sprintf("the upstream answered %d %s", status, http.StatusText(status))
	var v struct {
		Error json.RawMessage `json:"error"`
	}
	if json.Unmarshal(body, &v) != nil || len(v.Error) == 0 {
		return reason
	}
	var msg string
	var nested struct {
		Message string `json:"message"`
	}
	if json.Unmarshal(v.Error, &nested) == nil && nested.Message != "" {
		msg = nested.Message
	} else {
		_ = json.Unmarshal(v.Error, &msg)
	}
	msg = strings.Join(strings.Fields(msg), " ")
	if msg == "" {
		return reason
	}
	if r := []rune(msg); len(r) > maxReason {
		msg = string(r[:maxReason]) + "…"
	}
	return reason + ": " + msg
}

// networkReason names a failed call without its URL.
func networkReason(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	var ne net.Error
	switch {
	case errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout()):
		return fmt.Sprintf("no answer within %s", Timeout)
	case errors.Is(err, context.Canceled):
		return "the test was cancelled"
	}
	var dns *net.DNSError
	if errors.As(err, &dns) {
		return "the host name does not resolve"
	}
	var op *net.OpError
	if errors.As(err, &op) {
		if op.Op == "dial" {
			return "the upstream cannot be reached (connection refused or no route)"
		}
		return "the connection failed: " + op.Err.Error()
	}
	return "the call failed: " + err.Error()
}

// redact removes the key from a text that might echo it.
func redact(s, key string) string {
	if len(key) >= 4 {
		s = strings.ReplaceAll(s, key, "[redacted]")
	}
	return s
}
