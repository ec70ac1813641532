package providers

import (
	"net/url"
	"strconv"
	"strings"
	"testing"
)

// TestEveryKindIsComplete: each kind is reachable (auth files or keys),
// has a catalogue, a model type and an owner, and a login with what its
// flow needs; no name, alias, login name or model ID is claimed twice.
func TestEveryKindIsComplete(t *testing.T) {
	names := map[string]Kind{}
	logins := map[string]Kind{}
	withoutLogin := map[Kind]bool{}
	for _, p := range All() {
		k := p.Kind
		if !p.AuthFile && p.KeyList == "" && !p.Relay {
			t.Errorf("%s: served from neither auth files, API keys nor relays", k)
		}
		if len(p.Models) == 0 || p.ModelType == "" || p.Owner == "" {
			t.Errorf("%s: catalogue %d models, type %q, owner %q", k, len(p.Models), p.ModelType, p.Owner)
		}
		seen := map[string]bool{}
		for _, m := range p.Models {
			if m.ID == "" || seen[m.ID] {
				t.Errorf("%s: model ID %q empty or listed twice", k, m.ID)
			}
			seen[m.ID] = true
		}
		for _, n := range append([]string{string(k)}, p.Aliases...) {
			if n != strings.ToLower(strings.TrimSpace(n)) {
				t.Errorf("%s: name %q is not lower-case and trimmed", k, n)
			}
			if other, dup := names[n]; dup {
				t.Errorf("name %q names both %s and %s", n, other, k)
			}
			names[n] = k
			if got, ok := Lookup(strings.ToUpper(n)); !ok || got.Kind != k {
				t.Errorf("Lookup(%q) = %s, %v", n, got.Kind, ok)
			}
		}
		if p.Login == nil {
			withoutLogin[k] = true
			continue
		}
		checkLogin(t, k, p.Login)
		if other, dup := logins[p.Login.Name]; dup {
			t.Errorf("login %q belongs to both %s and %s", p.Login.Name, other, k)
		}
		logins[p.Login.Name] = k
		if LoginName(p.Login.Name) != p.Login.Name || LoginName(string(k)) != p.Login.Name {
			t.Errorf("%s: LoginName does not resolve its own names", k)
		}
	}
	// Kinds that are not logged into: vertex files are imported service
	// accounts, gemini-api-key has keys only, aistudio relays connect.
	if len(withoutLogin) != 3 || !withoutLogin[Vertex] || !withoutLogin[GeminiAPIKey] || !withoutLogin[AIStudio] {
		t.Errorf("kinds without a login: %v", withoutLogin)
	}
	if _, ok := Lookup("nope"); ok {
		t.Error("an unknown name resolved")
	}
}

func checkLogin(t *testing.T, k Kind, l *Login) {
	t.Helper()
	if l.Name == "" || l.ClientID == "" || !isURL(l.TokenURL) {
		t.Errorf("%s: login name %q, client ID %q, token URL %q", k, l.Name, l.ClientID, l.TokenURL)
	}
	if l.DeviceFlow {
		if !isURL(l.DeviceCodeURL) || l.CallbackPort != 0 {
			t.Errorf("%s: device flow without a device-code URL, or with a callback", k)
		}
		return
	}
	u, err := url.Parse(l.RedirectURI)
	if !isURL(l.AuthURL) || err != nil || u.Port() == "" || u.Port() != strconv.Itoa(l.CallbackPort) || !strings.HasPrefix(l.CallbackRoute, "/") {
		t.Errorf("%s: redirect login needs an auth URL, a redirect on its callback port and a route: %+v", k, l)
	}
}

func isURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "https" || u.Scheme == "http") && u.Host != ""
}

func TestFileKinds(t *testing.T) {
	for typ, want := range map[string]Kind{"claude": Claude, "Anthropic": Claude, "gemini": GeminiCLI, " gemini-cli ": GeminiCLI,
		"vertex": Vertex, "gemini-api-key": "", "gemini-web": "", "": "", "kimi": Kimi, "grok": XAI, "X-AI": XAI} {
		if got := FileKind(typ); got != want {
			t.Errorf("FileKind(%q) = %q, want %q", typ, got, want)
		}
	}
	if len(FileKinds()) != 9 {
		t.Errorf("FileKinds() = %v", FileKinds())
	}
	if p, ok := ByKeyList("claude-api-key"); !ok || p.Kind != Claude {
		t.Errorf("ByKeyList(claude-api-key) = %v, %v", p.Kind, ok)
	}
}
