package proxy

import (
	"testing"

	"github.com/tidwall/gjson"

	"github.com/cli-proxy-api/cli-proxy-api/internal/proxy/translate/translatetest"
)

// A translated answer is stamped with the proxy's clock when its upstream
// gives no time (Claude and Gemini answers carry none): OpenAI's created
// and Responses' created_at are never 0.
func TestTranslatedAnswersCarryTheProxysTime(t *testing.T) {
	ts, _ := crossServer(t)
	want := ts.clock.now().Unix()
	for _, path := range []string{"/v1/chat/completions", "/v1/responses"} {
		field := map[string]string{"/v1/chat/completions": "created", "/v1/responses": "created_at"}[path]
		body := `{"model":"m-claude","messages":[{"role":"user","content":"hi"}],"input":"hi"}`
		code, _, out := ts.do(t, "POST", path, clientKey, body)
		if code != 200 || gjson.Get(out, field).Int() != want {
			t.Errorf("%s whole: %d %s = %s, want %d\n%s", path, code, field, gjson.Get(out, field).Raw, want, out)
		}
		code, _, out = ts.do(t, "POST", path, clientKey, body[:len(body)-1]+`,"stream":true}`)
		if code != 200 {
			t.Fatalf("%s stream: %d %s", path, code, out)
		}
		n := 0
		for _, e := range translatetest.ParseSSE([]byte(out)) {
			v := gjson.Get(e.Data, field)
			if !v.Exists() {
				v = gjson.Get(e.Data, "response."+field)
			}
			if v.Exists() {
				n++
				if v.Int() != want {
					t.Errorf("%s stream event %s: %s = %s, want %d", path, e.Data, field, v.Raw, want)
				}
			}
		}
		if n == 0 {
			t.Errorf("%s stream: no event with %s\n%s", path, field, out)
		}
	}
}
