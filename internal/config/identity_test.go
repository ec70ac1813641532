package config

import (
	"strings"
	"testing"
)

func TestCredentialIDs(t *testing.T) {
	a := CodexKey{APIKey: "sk-one", BaseURL: "https://a.example"}
	b := CodexKey{APIKey: " sk-one ", BaseURL: "https://a.example "}
	if a.ID() != b.ID() {
		t.Fatal("whitespace changed the identity")
	}
	if a.ID() == (CodexKey{APIKey: "sk-one", BaseURL: "https://b.example"}).ID() {
		t.Fatal("codex identity ignores base-url")
	}
	if a.ID() == CredentialID(ClaudeKey(a).ID()) {
		t.Fatal("the same key in two lists must be two credentials")
	}
	if (GeminiKey{APIKey: "k", BaseURL: "x"}).ID() != (GeminiKey{APIKey: "k", BaseURL: "y"}).ID() {
		t.Fatal("gemini identity depends on base-url only through the key")
	}
	// Keys that differ only in their masked form must not collide.
	if (GeminiKey{APIKey: "sk-aaaa01"}).ID() == (GeminiKey{APIKey: "sk-bbbb01"}).ID() {
		t.Fatal("ids collide like masks")
	}
	p := OpenAICompatibility{Name: "p", BaseURL: "https://u"}
	if p.KeyID(APIKeyEntry{APIKey: "k1"}) == p.KeyID(APIKeyEntry{APIKey: "k2"}) {
		t.Fatal("openai-compat keys collide")
	}
	for _, id := range []string{string(a.ID()), string(ClientKey("sk-secret-key"))} {
		if strings.Contains(id, "sk-") {
			t.Fatalf("id %q carries key material", id)
		}
	}
	if ClientKey("x") == ClientKey("y") {
		t.Fatal("client key ids collide")
	}
}

func TestMaskKey(t *testing.T) {
	for in, want := range map[string]string{"sk-abcdef01": "sk-…01", "abc": "…", "AIzaSyXYZ12": "AIz…12"} {
		if got := MaskKey(in); got != want {
			t.Errorf("MaskKey(%q) = %q, want %q", in, got, want)
		}
	}
}
