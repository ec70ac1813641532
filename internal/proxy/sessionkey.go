package proxy

import (
	"hash/maphash"
	"net/http"
	"strings"

	"github.com/tidwall/gjson"

	"github.com/cli-proxy-api/cli-proxy-api/internal/proxy/protocol"
)

// The session key of a request, for routing.session-affinity: what tells
// the requests of one conversation apart. The first source that is
// present wins (the order the reference documents):
//
//  1. an explicit session id: the headers X-Claude-Code-Session-Id,
//     Session-Id / Session_id (Codex), X-Session-ID, X-Session-Affinity
//     (OpenCode), X-Client-Request-Id (pi); the body's metadata.user_id
//     session part (Claude Code), session_id / sessionId,
//     prompt_cache_key, conversation (.id), metadata.user_id as a whole,
//     conversation_id;
//  2. else a digest of the conversation's start: the protocol, the
//     leading instructions (system / developer text) and the first user
//     turn, which stay the same on every later turn.
//
// Client keys, cookies and other secrets never enter it. An explicit id
// that is blank, longer than 256 bytes or holds control characters is
// ignored. The key is a 64-bit digest; nothing of the request is kept.

// maxSessionID bounds an explicit session id.
const maxSessionID = 256

// sessionHeaders are the explicit session headers, in order, with the
// namespace each one's value is hashed under.
var sessionHeaders = [...]struct{ name, tag string }{
	{"X-Claude-Code-Session-Id", "claude"},
	{"Session-Id", "codex"},
	{"Session_id", "codex"},
	{"X-Session-Id", "header"},
	{"X-Session-Affinity", "affinity"},
	{"X-Client-Request-Id", "clientreq"},
}

// sessionBodyFields are the explicit body fields after metadata.user_id's
// session part, in order.
var sessionBodyFields = [...]struct{ path, tag string }{
	{"session_id", "session"},
	{"sessionId", "session"},
	{"prompt_cache_key", "pck"},
	{"conversation.id", "conv"},
	{"conversation", "conv"},
	{"metadata.user_id", "user"},
	{"conversation_id", "conv"},
}

// sessionKeyOf returns the binding key of c's session on model (seeded by
// seed), or false when the request carries none (no explicit id and no
// user turn).
func sessionKeyOf(seed maphash.Seed, model string, c *call) (uint64, bool) {
	var h maphash.Hash
	h.SetSeed(seed)
	h.WriteString(model)
	h.WriteByte(0)
	if tag, id, ok := explicitSession(c.r.Header, c.body); ok {
		h.WriteString(tag)
		h.WriteByte(0)
		h.WriteString(id)
		return h.Sum64(), true
	}
	h.WriteString("derived")
	h.WriteByte(byte(c.proto))
	if !conversationStart(&h, c.proto, c.body) {
		return 0, false
	}
	return h.Sum64(), true
}

func explicitSession(hdr http.Header, body []byte) (tag, id string, ok bool) {
	for _, sh := range sessionHeaders {
		if v := hdr.Get(sh.name); usableSessionID(v) {
			return sh.tag, v, true
		}
	}
	if uid := gjson.GetBytes(body, "metadata.user_id"); uid.Type == gjson.String {
		if s := claudeSession(uid.Str); usableSessionID(s) {
			return "claude", s, true
		}
	}
	for _, f := range sessionBodyFields {
		if v := gjson.GetBytes(body, f.path); v.Type == gjson.String && usableSessionID(v.Str) {
			return f.tag, v.Str, true
		}
	}
	return "", "", false
}

// claudeSession is the session part of Claude Code's metadata.user_id:
// the session_id of a JSON value, or the id after "_session_" in the
// legacy "user_…_account_…_session_<uuid>" form; "" when there is none.
func claudeSession(uid string) string {
	if gjson.Valid(uid) {
		return gjson.Get(uid, "session_id").String()
	}
	if i := strings.LastIndex(uid, "_session_"); i >= 0 {
		return uid[i+len("_session_"):]
	}
	return ""
}

func usableSessionID(s string) bool {
	if len(s) == 0 || len(s) > maxSessionID || strings.TrimSpace(s) == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] == 0x7f {
			return false
		}
	}
	return true
}

// conversationStart hashes the leading instructions and the first user
// turn of body, in proto's shape; false when there is no user turn.
func conversationStart(h *maphash.Hash, proto protocol.Protocol, body []byte) bool {
	root := gjson.ParseBytes(body)
	switch proto {
	case protocol.Claude:
		h.WriteString(root.Get("system").Raw)
		return leadingTurns(h, root.Get("messages"), "role", "content")
	case protocol.Gemini:
		h.WriteString(root.Get("systemInstruction").Raw)
		h.WriteString(root.Get("system_instruction").Raw)
		return leadingTurns(h, root.Get("contents"), "role", "parts")
	case protocol.Responses:
		h.WriteString(root.Get("instructions").Raw)
		in := root.Get("input")
		if in.Type == gjson.String {
			h.WriteString(in.Str)
			return in.Str != ""
		}
		return leadingTurns(h, in, "role", "content")
	}
	if !root.Get("messages").Exists() { // a legacy completion
		p := root.Get("prompt")
		h.WriteString(p.Raw)
		return p.Exists()
	}
	return leadingTurns(h, root.Get("messages"), "role", "content")
}

// leadingTurns hashes the system and developer turns before the first
// user turn, and that user turn (a Gemini turn without a role is a user
// turn); false when there is none.
func leadingTurns(h *maphash.Hash, turns gjson.Result, roleField, contentField string) bool {
	found := false
	turns.ForEach(func(_, t gjson.Result) bool {
		switch role := t.Get(roleField).String(); role {
		case "system", "developer":
			h.WriteString(role)
			h.WriteString(t.Get(contentField).Raw)
			return true
		case "user", "":
			h.WriteString("user")
			h.WriteString(t.Get(contentField).Raw)
			found = true
			return false
		}
		return false // an assistant turn first: no user turn starts it
	})
	return found
}
