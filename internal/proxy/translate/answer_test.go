package translate

import (
	"bytes"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/cli-proxy-api/cli-proxy-api/internal/proxy/protocol"
)

// bigAnswers are whole answers of each upstream format whose text (and
// thinking) is larger than bigValue, with escapes and non-ASCII text.
func bigAnswers() map[protocol.Protocol]string {
	text := strings.Repeat(`Line \"quoted\" <b>&amp;</b> é 😀 \u00e9 \/ tab\t end\n`, 2000)
	think := strings.Repeat(`thinking \n`, 3000)
	return map[protocol.Protocol]string{
		protocol.OpenAI:    `{"id":"chatcmpl-1","object":"chat.completion","created":1,"model":"up","choices":[{"index":0,"message":{"role":"assistant","reasoning_content":"` + think + `","content":"` + text + `"},"finish_reason":"stop"}],"usage":{"prompt_tokens":11,"completion_tokens":7,"total_tokens":18}}`,
		protocol.Responses: `{"id":"resp_1","object":"response","created_at":1,"status":"completed","model":"up","output":[{"type":"message","id":"msg_1","role":"assistant","status":"completed","content":[{"type":"output_text","text":"` + text + `","annotations":[]}]}],"usage":{"input_tokens":11,"output_tokens":7,"total_tokens":18}}`,
		protocol.Claude:    `{"id":"msg_1","type":"message","role":"assistant","model":"up","content":[{"type":"thinking","thinking":"` + think + `","signature":"sig"},{"type":"text","text":"` + text + `"},{"type":"text","text":"` + text + `"}],"stop_reason":"end_turn","stop_sequence":null,"usage":{"input_tokens":11,"output_tokens":7}}`,
		protocol.Gemini:    `{"candidates":[{"content":{"role":"model","parts":[{"text":"` + think + `","thought":true},{"text":"` + text + `"}]},"finishReason":"STOP","index":0}],"usageMetadata":{"promptTokenCount":11,"candidatesTokenCount":7,"totalTokenCount":18},"modelVersion":"up","responseId":"r1"}`,
	}
}

// ParseAnswer's spliced answer says the same as Response's for every pair:
// the large values are carried as the upstream escaped them.
func TestParseAnswerMatchesResponse(t *testing.T) {
	for from, body := range bigAnswers() {
		if len(bigValues([]byte(body))) == 0 {
			t.Fatalf("%s: no big value found", from)
		}
		for _, to := range []protocol.Protocol{protocol.OpenAI, protocol.Completions, protocol.Responses, protocol.Claude, protocol.Gemini} {
			want, err := Response(from, to, []byte(body), Options{Model: "m"})
			if err != nil {
				t.Fatal(err)
			}
			a, err := ParseAnswer(from, to, []byte(body), Options{Model: "m"})
			if err != nil {
				t.Fatalf("%s → %s: %v", from, to, err)
			}
			var got bytes.Buffer
			if _, err := a.WriteTo(&got); err != nil || int64(got.Len()) != a.Len() {
				t.Fatalf("%s → %s: wrote %d of %d: %v", from, to, got.Len(), a.Len(), err)
			}
			if len(a.cuts) == 0 {
				t.Errorf("%s → %s: nothing was spliced", from, to)
			}
			if w, g := normalised(t, want), normalised(t, got.Bytes()); !reflect.DeepEqual(w, g) {
				t.Errorf("%s → %s differ:\nResponse    %.400s\nParseAnswer %.400s", from, to, want, got.Bytes())
			}
		}
	}
}

// normalised decodes an answer without its generated IDs and times.
func normalised(t *testing.T, b []byte) any {
	t.Helper()
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("not JSON: %v: %.300s", err, b)
	}
	var strip func(any)
	strip = func(v any) {
		switch x := v.(type) {
		case map[string]any:
			for _, k := range []string{"id", "created", "created_at", "responseId"} {
				delete(x, k)
			}
			for _, e := range x {
				strip(e)
			}
		case []any:
			for _, e := range x {
				strip(e)
			}
		}
	}
	strip(v)
	return v
}

func TestParseAnswerRefusesWhatIsNoAnswer(t *testing.T) {
	for name, body := range map[string]string{
		"truncated": `{"choices":[{"message":{"content":"Hel`,
		"array":     `[{"choices":[]}]`,
		"no fields": `{"object":"chat.completion"}`,
		"empty":     ``,
	} {
		if _, err := ParseAnswer(protocol.OpenAI, protocol.Claude, []byte(body), Options{}); !errors.Is(err, ErrNotAnswer) {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// An answer whose own text looks like a marker cannot make the splice put a
// big value in the wrong place: such answers take the plain path.
func TestParseAnswerIsNotFooledByMarkerText(t *testing.T) {
	big := strings.Repeat("x", bigValue+10)
	forged := `\u0000cpa-value-0\u0000`
	// Chat → Completions drops reasoning_content, so marker 0 (the
	// reasoning) finds no place in the output; the forged text would then
	// be taken for it.
	body := `{"id":"c","object":"chat.completion","created":1,"model":"up","choices":[{"index":0,"message":{"role":"assistant","reasoning_content":"` + big + `","content":"` + forged + `"},"finish_reason":"stop"}]}`
	want, err := Response(protocol.OpenAI, protocol.Completions, []byte(body), Options{Model: "m"})
	if err != nil {
		t.Fatal(err)
	}
	a, err := ParseAnswer(protocol.OpenAI, protocol.Completions, []byte(body), Options{Model: "m"})
	if err != nil {
		t.Fatal(err)
	}
	var got bytes.Buffer
	if _, err := a.WriteTo(&got); err != nil {
		t.Fatal(err)
	}
	if w, g := normalised(t, want), normalised(t, got.Bytes()); !reflect.DeepEqual(w, g) {
		t.Fatalf("differ:\nResponse    %.300s\nParseAnswer %.300s", want, got.Bytes())
	}
}
