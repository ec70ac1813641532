package protocol

import (
	"encoding/json"
	"net/http/httptest"
	"testing"
	"time"
)

func TestWriteShapes(t *testing.T) {
	for _, tc := range []struct {
		p      Protocol
		status int
		want   string
	}{
		{OpenAI, 401, `{"error":{"message":"m","type":"authentication_error","code":"c"}}`},
		{Responses, 404, `{"error":{"message":"m","type":"invalid_request_error","code":"c"}}`},
		{OpenAI, 429, `{"error":{"message":"m","type":"rate_limit_error","code":"c"}}`},
		{OpenAI, 502, `{"error":{"message":"m","type":"server_error","code":"c"}}`},
		{Claude, 401, `{"type":"error","error":{"type":"authentication_error","message":"m"}}`},
		{Claude, 404, `{"type":"error","error":{"type":"not_found_error","message":"m"}}`},
		{Claude, 413, `{"type":"error","error":{"type":"request_too_large","message":"m"}}`},
		{Claude, 429, `{"type":"error","error":{"type":"rate_limit_error","message":"m"}}`},
		{Gemini, 401, `{"error":{"code":401,"message":"m","status":"UNAUTHENTICATED"}}`},
		{Gemini, 404, `{"error":{"code":404,"message":"m","status":"NOT_FOUND"}}`},
		{Gemini, 429, `{"error":{"code":429,"message":"m","status":"RESOURCE_EXHAUSTED"}}`},
	} {
		w := httptest.NewRecorder()
		Write(w, tc.p, Error{Status: tc.status, Code: "c", Message: "m", RetryAfter: 1500 * time.Millisecond})
		var got, want any
		_ = json.Unmarshal(w.Body.Bytes(), &got)
		_ = json.Unmarshal([]byte(tc.want), &want)
		if w.Code != tc.status || !equalJSON(got, want) {
			t.Errorf("%v %d: got %d %s, want %s", tc.p, tc.status, w.Code, w.Body.String(), tc.want)
		}
		if w.Header().Get("Retry-After") != "2" || w.Header().Get("Content-Type") != "application/json" {
			t.Errorf("%v %d: headers %v", tc.p, tc.status, w.Header())
		}
	}
}

func equalJSON(a, b any) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return string(x) == string(y)
}

// Completions behaves as OpenAI everywhere but in its bodies.
func TestCompletionsIsOpenAIOutsideItsBodies(t *testing.T) {
	if Completions.Family() != OpenAI || Claude.Family() != Claude || Completions.String() != "openai-completions" {
		t.Fatalf("Completions: family %v, name %v", Completions.Family(), Completions)
	}
	if _, ok := AnswerTokens(Completions, []byte(`{"usage":{"prompt_tokens":1,"completion_tokens":2}}`)); !ok {
		t.Fatal("a Completions answer's usage is OpenAI's")
	}
}
