package mgmt

import (
	"bytes"
	"errors"
	"io"
	"mime"
	"net/http"
	"strings"
	"unicode/utf8"
)

// requireUTF8JSON refuses a JSON body that is not valid UTF-8 with 400
// "invalid body". encoding/json would otherwise replace each bad byte with
// U+FFFD and the handler would store a key or name that is not what the
// client sent, without a word. It must run after limitBody, whose cap bounds
// what is read here, and before the validator, which reads the body too.
func requireUTF8JSON(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Body == nil || r.Body == http.NoBody || !isJSON(r.Header.Get("Content-Type")) {
			next.ServeHTTP(w, r)
			return
		}
		// The whole body is held in memory once more here; the validator
		// does the same anyway, and limitBody has capped it.
		b, err := io.ReadAll(r.Body)
		_ = r.Body.Close()
		var tooLarge *http.MaxBytesError
		switch {
		case errors.As(err, &tooLarge):
			writeJSON(w, http.StatusRequestEntityTooLarge, errorBody{Error: "request body too large"})
			return
		case err != nil, !utf8.Valid(b):
			writeJSON(w, http.StatusBadRequest, errorBody{Error: "invalid body"})
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(b))
		next.ServeHTTP(w, r)
	})
}

// isJSON reports whether a Content-Type names JSON: application/json or
// any +json type. An unparsable value is left for the validator to refuse.
func isJSON(contentType string) bool {
	mt, _, err := mime.ParseMediaType(contentType)
	if err != nil {
		return false
	}
	return mt == "application/json" || strings.HasSuffix(mt, "+json")
}
