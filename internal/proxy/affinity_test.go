package proxy

import (
	"fmt"
	"hash/maphash"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/tidwall/gjson"

	"github.com/cli-proxy-api/cli-proxy-api/internal/config"
	"github.com/cli-proxy-api/cli-proxy-api/internal/proxy/protocol"
)

// conversationTurn is turn n (from 1) of conversation i in OpenAI chat
// shape: the same system prompt and first user message on every turn.
func conversationTurn(i, n int) string {
	msgs := `{"role":"system","content":"be brief"},{"role":"user","content":"conversation ` + fmt.Sprint(i) + `"}`
	for k := 1; k < n; k++ {
		msgs += `,{"role":"assistant","content":"answer ` + fmt.Sprint(k) + `"},{"role":"user","content":"turn ` + fmt.Sprint(k+1) + `"}`
	}
	return `{"model":"m","messages":[` + msgs + `]}`
}

// stickiness sends turns of many conversations, interleaved, and returns
// the share of later turns served by the upstream of the conversation's
// first turn.
func stickiness(t *testing.T, affinityOn bool) (float64, *testServer) {
	ts, cfg, _ := steeredKeys(t, "round-robin", [2]int{0, 0}, [2]int{0, 0}, [2]int{0, 0})
	cfg.Routing.SessionAffinity = affinityOn
	ts.apply(t, cfg)
	// 31 conversations: not a multiple of the 3 credentials, so that plain
	// round-robin does not line turns up by accident.
	const conversations, turns = 31, 4
	servedBy := map[int]string{}
	same, later := 0, 0
	for n := 1; n <= turns; n++ {
		for i := range conversations {
			code, _, body := ts.do(t, "POST", "/v1/chat/completions", clientKey, conversationTurn(i, n))
			if code != 200 {
				t.Fatalf("%d %s", code, body)
			}
			up := gjson.Get(body, "served_by").String()
			if n == 1 {
				servedBy[i] = up
				continue
			}
			later++
			if servedBy[i] == up {
				same++
			}
		}
	}
	return float64(same) / float64(later), ts
}

func TestSessionAffinityHitRate(t *testing.T) {
	off, _ := stickiness(t, false)
	on, ts := stickiness(t, true)
	t.Logf("later turns on the first turn's credential: %.0f%% without affinity, %.0f%% with", off*100, on*100)
	if on != 1 || off > 0.6 {
		t.Fatalf("stickiness %.2f with affinity, %.2f without", on, off)
	}
	if h, m := ts.p.affinity.hits.Load(), ts.p.affinity.misses.Load(); h != 93 || m != 31 {
		t.Fatalf("hits %d misses %d, want 93 and 31", h, m)
	}
}

func TestSessionAffinityFollowsHealthAndPriority(t *testing.T) {
	ts, cfg, ups := steeredKeys(t, "round-robin", [2]int{1, 0}, [2]int{0, 0}, [2]int{0, 0})
	cfg.Routing.SessionAffinity = true
	cfg.Routing.SessionAffinityTTL = "10m"
	ts.apply(t, cfg)
	send := func(session string) string {
		t.Helper()
		code, _, body := ts.do(t, "POST", "/v1/chat/completions", clientKey,
			`{"model":"m","messages":[{"role":"user","content":"`+fmt.Sprint(time.Now().UnixNano())+`"}]}`, "X-Session-Id", session)
		if code != 200 {
			t.Fatalf("%d %s", code, body)
		}
		return gjson.Get(body, "served_by").String()
	}
	// The top priority fails: the session lands on a lower one and stays.
	ups[0].setReply(status(503))
	first := send("s-1")
	if first == "up0" {
		t.Fatal("served by the failing credential")
	}
	for range 4 {
		if got := send("s-1"); got != first {
			t.Fatalf("session moved from %s to %s", first, got)
		}
	}
	// The top priority recovers: the session goes back to it (the
	// reference keeps it on the lower one).
	ups[0].setReply(nil)
	ts.clock.advance(2 * time.Minute)
	if got := send("s-1"); got != "up0" {
		t.Fatalf("recovered top priority not used: %s", got)
	}
	// The bound credential fails: the session is rebound elsewhere.
	ups[0].setReply(status(500))
	moved := send("s-1")
	if moved == "up0" || send("s-1") != moved {
		t.Fatalf("failover rebinding: %s", moved)
	}
	// After the TTL without use the binding is gone (a fresh pick).
	if n := ts.p.affinity.len(); n != 1 {
		t.Fatalf("%d bindings", n)
	}
	r := httptest.NewRequest("POST", "/", nil)
	r.Header.Set("X-Session-Id", "s-1")
	key, _ := sessionKeyOf(ts.p.affinity.seed, "m", &call{proto: protocol.OpenAI, r: r, body: []byte(`{}`)})
	if _, ok := ts.p.affinity.lookup(key, ts.clock.now()); !ok {
		t.Fatal("session not bound")
	}
	ts.clock.advance(11 * time.Minute)
	if _, ok := ts.p.affinity.lookup(key, ts.clock.now()); ok {
		t.Fatal("binding outlived its TTL")
	}
}

func TestAffinityTableEvictsLeastRecentlyUsed(t *testing.T) {
	a := newAffinity(3)
	now := time.Unix(0, 0)
	for k := range uint64(3) {
		a.bind(k, config.CredentialID(fmt.Sprint("c", k)), now, time.Hour)
	}
	if _, ok := a.lookup(0, now); !ok {
		t.Fatal("binding 0 lost")
	}
	a.bind(0, "c0", now, time.Hour) // used again: 1 is now the oldest
	a.bind(3, "c3", now, time.Hour)
	if _, ok := a.lookup(1, now); ok || a.len() != 3 {
		t.Fatalf("least recently used not evicted (len %d)", a.len())
	}
	for _, k := range []uint64{0, 2, 3} {
		if id, ok := a.lookup(k, now); !ok || id != config.CredentialID(fmt.Sprint("c", k)) {
			t.Fatalf("binding %d: %q %v", k, id, ok)
		}
	}
	if _, ok := a.lookup(2, now.Add(time.Hour)); ok {
		t.Fatal("expired binding used")
	}
	// Many sessions: memory stays at the cap.
	for k := range uint64(10_000) {
		a.bind(k+100, "c", now, time.Hour)
	}
	if a.len() != 3 || len(a.slots) != 3 {
		t.Fatalf("table grew to %d (%d slots)", a.len(), len(a.slots))
	}
}

func TestSessionKeyPerProtocol(t *testing.T) {
	seed := maphash.MakeSeed()
	key := func(proto protocol.Protocol, body string, hdr ...string) (uint64, bool) {
		r := httptest.NewRequest("POST", "/", nil)
		for i := 0; i+1 < len(hdr); i += 2 {
			r.Header.Set(hdr[i], hdr[i+1])
		}
		return sessionKeyOf(seed, "m", &call{proto: proto, r: r, body: []byte(body)})
	}
	same := func(name string, proto protocol.Protocol, a, b string) {
		t.Helper()
		ka, oka := key(proto, a)
		kb, okb := key(proto, b)
		if !oka || !okb || ka != kb {
			t.Errorf("%s: turns of one conversation differ (%v %v)", name, oka, okb)
		}
	}
	differ := func(name string, proto protocol.Protocol, a, b string) {
		t.Helper()
		ka, _ := key(proto, a)
		kb, _ := key(proto, b)
		if ka == kb {
			t.Errorf("%s: two conversations share a key", name)
		}
	}
	same("openai", protocol.OpenAI, conversationTurn(1, 1), conversationTurn(1, 3))
	differ("openai", protocol.OpenAI, conversationTurn(1, 1), conversationTurn(2, 1))
	same("claude", protocol.Claude,
		`{"system":"s","messages":[{"role":"user","content":"q"}]}`,
		`{"system":"s","messages":[{"role":"user","content":"q"},{"role":"assistant","content":"a"},{"role":"user","content":"q2"}]}`)
	differ("claude system", protocol.Claude,
		`{"system":"s1","messages":[{"role":"user","content":"q"}]}`, `{"system":"s2","messages":[{"role":"user","content":"q"}]}`)
	same("responses", protocol.Responses,
		`{"instructions":"i","input":[{"role":"user","content":"q"}]}`,
		`{"instructions":"i","input":[{"role":"user","content":"q"},{"type":"message","role":"assistant","content":"a"}]}`)
	differ("responses string", protocol.Responses, `{"input":"q1"}`, `{"input":"q2"}`)
	same("gemini", protocol.Gemini,
		`{"systemInstruction":{"parts":[{"text":"s"}]},"contents":[{"parts":[{"text":"q"}]}]}`,
		`{"systemInstruction":{"parts":[{"text":"s"}]},"contents":[{"parts":[{"text":"q"}]},{"role":"model","parts":[{"text":"a"}]}]}`)
	// Explicit ids win over the content and are namespaced.
	same("metadata.user_id session", protocol.Claude,
		`{"metadata":{"user_id":"user_1_account_2_session_abc"},"messages":[{"role":"user","content":"q1"}]}`,
		`{"metadata":{"user_id":"user_9_account_2_session_abc"},"messages":[{"role":"user","content":"q2"}]}`)
	same("prompt_cache_key", protocol.Responses, `{"prompt_cache_key":"p","input":"a"}`, `{"prompt_cache_key":"p","input":"b"}`)
	ka, _ := key(protocol.OpenAI, conversationTurn(1, 1), "X-Session-Id", "abc")
	kb, _ := key(protocol.OpenAI, conversationTurn(2, 1), "X-Session-Id", "abc")
	kc, _ := key(protocol.OpenAI, conversationTurn(2, 1), "Session-Id", "abc")
	if ka != kb || ka == kc {
		t.Error("session headers: same id must match, different headers must not")
	}
	// Secrets never count: the client key changes nothing.
	k1, _ := key(protocol.OpenAI, conversationTurn(1, 1), "Authorization", "Bearer one")
	k2, _ := key(protocol.OpenAI, conversationTurn(1, 1), "Authorization", "Bearer two", "X-Api-Key", "x")
	if k1 != k2 {
		t.Error("the client key changed the session key")
	}
	// Unusable explicit ids are ignored (the content decides).
	for _, bad := range []string{" ", strings.Repeat("x", 257), "a\tb"} {
		k, _ := key(protocol.OpenAI, conversationTurn(1, 1), "X-Session-Id", bad)
		if want, _ := key(protocol.OpenAI, conversationTurn(1, 1)); k != want {
			t.Errorf("explicit id %q was used", bad[:1])
		}
	}
	// No user turn: no key.
	if _, ok := key(protocol.OpenAI, `{"messages":[{"role":"system","content":"s"}]}`); ok {
		t.Error("a key without a user turn")
	}
}
