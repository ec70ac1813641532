package logs

import (
	"bytes"
	"log/slog"
	"regexp"
	"slices"
	"strings"
)

// Masked replaces every secret in a log line.
const Masked = "[REDACTED]"

// Secret is a value that must never be logged; its LogValue is masked.
type Secret string

// LogValue implements slog.LogValuer.
func (Secret) LogValue() slog.Value { return slog.StringValue(Masked) }

// secretKeyWords mark an attribute whose value is a secret by its name.
var secretKeyWords = []string{"key", "token", "secret", "password", "passwd", "cookie", "authorization", "psid", "credential", "verifier", "bxauth"}

// redactAttr masks string attributes named like secrets, at any depth.
func redactAttr(_ []string, a slog.Attr) slog.Attr {
	if a.Value.Kind() != slog.KindString && a.Value.Kind() != slog.KindAny {
		return a
	}
	k := strings.ToLower(a.Key)
	for _, w := range secretKeyWords {
		if strings.Contains(k, w) {
			return slog.String(a.Key, Masked)
		}
	}
	return a
}

// patterns catch secrets by their shape, wherever they appear in a line
// (messages, error texts, URLs): the last line of defence for values no
// one registered.
var patterns = []struct {
	re   *regexp.Regexp
	repl string
}{
	{regexp.MustCompile(`(?i)\b(bearer|basic)(\s+)[A-Za-z0-9._~+/=-]{4,}`), "${1}${2}" + Masked},
	{regexp.MustCompile(`(?i)((?:api[_-]?key|x-api-key|x-goog-api-key|x-management-key|access[_-]?token|refresh[_-]?token|id[_-]?token|client[_-]?secret|secret[_-]?key|password|passwd|token|secret|cookie|authorization|code[_-]?verifier|secure_1psid(?:ts)?|__Secure-1PSID(?:TS)?|BXAuth|apiKey|device[_-]?code)\\?["']?\s*[:=]\s*\\?["']?)([^"'\s&,;}\\]+)`), "${1}" + Masked},
	{regexp.MustCompile(`([?&]code=)[^&\s"]+`), "${1}" + Masked},
	{regexp.MustCompile(`://([^:/\s@]+):[^@\s/]+@`), "://${1}:" + Masked + "@"},
	{regexp.MustCompile(`\bsk-[A-Za-z0-9_-]{12,}`), Masked},
	{regexp.MustCompile(`\bAIza[0-9A-Za-z_-]{20,}`), Masked},
	{regexp.MustCompile(`\bya29\.[0-9A-Za-z_-]+`), Masked},
	{regexp.MustCompile(`\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*`), Masked},
	{regexp.MustCompile(`\$2[aby]\$\d\d\$[./A-Za-z0-9]{53}`), Masked},
}

// redactor masks registered secrets and secret-shaped values.
type redactor struct {
	secrets [][]byte // longest first, so a secret containing another is masked whole
}

func newRedactor(secrets []string) *redactor {
	r := &redactor{}
	for _, s := range secrets {
		// Very short values would mask ordinary words; they are caught by
		// the patterns where they appear as key=value.
		if s = strings.TrimSpace(s); len(s) >= 6 {
			r.secrets = append(r.secrets, []byte(s))
		}
	}
	slices.SortFunc(r.secrets, func(a, b []byte) int { return len(b) - len(a) })
	return r
}

func (r *redactor) redact(p []byte) []byte {
	out := p
	copied := false
	for _, s := range r.secrets {
		if bytes.Contains(out, s) {
			if !copied {
				out, copied = bytes.Clone(out), true
			}
			out = bytes.ReplaceAll(out, s, []byte(Masked))
		}
	}
	for _, pt := range patterns {
		if pt.re.Match(out) {
			out = pt.re.ReplaceAll(out, []byte(pt.repl))
		}
	}
	return out
}
