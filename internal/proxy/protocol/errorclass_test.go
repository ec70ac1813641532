package protocol

import "testing"

// One row per kind of error: each protocol's name for it leads to the
// same row, and the status picks among rows sharing a name.
func TestErrorClassesMapNamesAcrossProtocols(t *testing.T) {
	for _, tc := range []struct {
		p      Protocol
		name   string
		status int
		want   ErrorClass
	}{
		{Claude, "rate_limit_error", 429, ClassOf(429)},
		{Gemini, "RESOURCE_EXHAUSTED", 429, ClassOf(429)},
		{OpenAI, "rate_limit_error", 0, ClassOf(429)},
		{OpenAI, "rate_limit_exceeded", 0, ClassOf(429)}, // a Responses stream error has only a code
		{OpenAI, "invalid_request_error", 400, ClassOf(400)},
		{OpenAI, "invalid_request_error", 404, ClassOf(404)},
		{Gemini, "INVALID_ARGUMENT", 413, ClassOf(413)},
		{Claude, "overloaded_error", 503, ClassOf(529)},
		{Claude, "timeout_error", 0, ClassOf(504)},
		{Gemini, "DEADLINE_EXCEEDED", 504, ClassOf(504)},
	} {
		got, ok := ClassNamed(tc.p, tc.name, tc.status)
		if !ok || got != tc.want {
			t.Errorf("%v %q %d: got %+v %v, want %+v", tc.p, tc.name, tc.status, got, ok, tc.want)
		}
	}
	if c := ClassOf(429); c.OpenAIType != "rate_limit_error" || c.ClaudeType != "rate_limit_error" || c.GoogleStatus != "RESOURCE_EXHAUSTED" {
		t.Errorf("429: %+v", c)
	}
	if c, ok := ClassNamed(OpenAI, "no_such_type", 418); ok || c.OpenAIType != "invalid_request_error" || c.Status != 418 || c.GoogleStatus != "FAILED_PRECONDITION" {
		t.Errorf("unknown 4xx: %+v %v", c, ok)
	}
	if c := ClassOf(0); c.Status != 500 || c.ClaudeType != "api_error" {
		t.Errorf("status 0: %+v", c)
	}
}
