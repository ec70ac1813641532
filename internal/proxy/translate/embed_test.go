package translate

import (
	"encoding/json"
	"strings"
	"testing"
)

// FuzzEmbeddings: any body is either refused with ErrEmbedding or parsed
// into a request whose Gemini and OpenAI translations are valid JSON with
// one content per input; nothing panics.
func FuzzEmbeddings(f *testing.F) {
	for _, s := range []string{
		`{"model":"m","input":"a"}`, `{"model":"m","input":["a","b"],"dimensions":8,"encoding_format":"base64"}`,
		`{"model":"m","input":[1,2]}`, `{"model":"m","input":[[1],[2,3]]}`, `{"model":"m","input":[]}`,
		`{"model":"m","input":["a",1]}`, `{"model":"m","input":1e3}`, `{"model":"m","input":"a","dimensions":1.0}`,
		`{"content":{"parts":[{"text":"a"},{"text":"b"}]}}`, `{"requests":[{"content":{"parts":[{"text":"a"}]},"outputDimensionality":3}]}`,
	} {
		f.Add([]byte(s), false)
		f.Add([]byte(s), true)
	}
	f.Fuzz(func(t *testing.T, body []byte, batch bool) {
		e, err := ParseEmbeddings(body)
		switch {
		case err != nil && !strings.Contains(err.Error(), ErrEmbedding.Error()):
			t.Fatalf("error without the sentinel: %v", err)
		case err == nil:
			if (e.Texts == nil) == (e.Tokens == nil) {
				t.Fatalf("texts %v and tokens %v", e.Texts, e.Tokens)
			}
			if out, _, err := EmbeddingsToGemini(e, "m"); err == nil && !json.Valid(out) {
				t.Fatalf("invalid Gemini body %s", out)
			}
		}
		g, err := ParseGeminiEmbed(body, batch, "m")
		if err != nil {
			return
		}
		if out, err := GeminiEmbedToOpenAI(g, batch, "m"); err == nil {
			if !json.Valid(out) {
				t.Fatalf("invalid OpenAI body %s", out)
			}
			if batch && len(g.Texts) == 0 {
				t.Fatal("a checked batch has no request")
			}
		}
	})
}

func TestGeminiAnswerToOpenAIBase64(t *testing.T) {
	e := Embeddings{Texts: []string{"a"}, Single: true, Base64: true}
	out, n, err := GeminiEmbedAnswerToOpenAI([]byte(`{"embedding":{"values":[1,-2]}}`), e, "m")
	// 1.0 and -2.0 as little-endian float32: 0000803f 000000c0.
	if err != nil || n < 1 || !strings.Contains(string(out), `"embedding":"AACAPwAAAMA="`) {
		t.Fatalf("%s %d %v", out, n, err)
	}
	if _, _, err := GeminiEmbedAnswerToOpenAI([]byte(`{"embeddings":[]}`), e, "m"); err == nil {
		t.Fatal("an answer with no embedding for the input was taken")
	}
}
