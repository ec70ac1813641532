package translate

import (
	"unicode"
	"unicode/utf8"

	"github.com/cli-proxy-api/cli-proxy-api/internal/proxy/protocol"
)

// Estimate returns an estimate of the input tokens of a request body of
// format f, for upstreams without a count endpoint (OpenAI Chat and
// Responses). It counts what the model reads: system text, message text,
// tool calls and results, tool definitions and the response schema, plus
// a few tokens of framing per message, as OpenAI's chat format adds.
// It is an estimate: the upstream's own tokenizer is not known here.
func Estimate(f protocol.Protocol, body []byte) int64 {
	r, err := parseRequest(f, body)
	if err != nil {
		return 0
	}
	var n int64
	for _, s := range r.System {
		n += countText(s) + 4
	}
	for _, m := range r.Messages {
		n += 4
		for _, p := range m.Parts {
			switch p.Kind {
			case pText, pThinking, pToolResult:
				n += countText(p.Text)
			case pToolCall:
				n += countText(p.Name) + countText(p.Args) + 3
			case pImage:
				// Providers bill an image by its size, which is not read
				// here; a mid-size image costs about this much at each.
				n += 765
			}
		}
	}
	for _, t := range r.Tools {
		n += countText(t.Name) + countText(t.Description) + countText(string(t.Schema)) + 8
	}
	if r.Format != nil {
		n += countText(string(r.Format.Schema)) + 4
	}
	return n + 3
}

// countText counts tokens of s with the embedded tokenizer.
func countText(s string) int64 {
	return int64(tokenCount(s))
}

// heuristicCount approximates a BPE tokenizer: a word of Latin letters is
// one token per ~4 characters, each digit group of up to 3 digits is one
// token, each punctuation mark is one, and each CJK or other non-Latin
// character is about one.
func heuristicCount(s string) int {
	n := 0
	word := 0
	digits := 0
	flush := func() {
		if word > 0 {
			n += (word + 3) / 4
			word = 0
		}
		if digits > 0 {
			n += (digits + 2) / 3
			digits = 0
		}
	}
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		i += size
		switch {
		case r < 128 && (unicode.IsLetter(r)):
			if digits > 0 {
				flush()
			}
			word++
		case unicode.IsDigit(r):
			if word > 0 {
				flush()
			}
			digits++
		case unicode.IsSpace(r):
			flush()
		case r >= 128 && unicode.IsLetter(r) && r < 0x0600:
			// Accented Latin, Greek, Cyrillic: shorter pieces.
			word += 2
		default:
			flush()
			n++
		}
	}
	flush()
	return n
}
