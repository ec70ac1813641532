package mgmt

import (
	"bytes"
	"errors"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"unicode/utf8"
)

// requireUTF8Text refuses a JSON or YAML body that is not valid UTF-8 with
// 400 "invalid body" and a message that says where. encoding/json would
// otherwise replace each bad byte with U+FFFD and the handler would store a
// key or name that is not what the client sent, without a word. It must run
// after limitBody, whose cap bounds what is read here, and before the
// validator, which reads the body too. (A streamed body, POST
// /usage/import, is checked by its handler as it streams: usage.go.)
func requireUTF8Text(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ct := r.Header.Get("Content-Type")
		if r.Body == nil || r.Body == http.NoBody || !isJSON(ct) && !isYAML(ct) || streamed(r) {
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
		case err != nil:
			writeJSON(w, http.StatusBadRequest, errorBody{Error: "invalid body", Message: "the body could not be read"})
			return
		}
		if at := invalidUTF8At(b); at >= 0 {
			writeJSON(w, http.StatusBadRequest, errorBody{Error: "invalid body", Message: notUTF8("body", int64(at))})
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(b))
		next.ServeHTTP(w, r)
	})
}

// invalidUTF8At is the offset of the first byte of b that is not part of
// valid UTF-8, or -1 when b is valid.
func invalidUTF8At(b []byte) int {
	if utf8.Valid(b) {
		return -1
	}
	for i := 0; i < len(b); {
		if b[i] < utf8.RuneSelf {
			i++
			continue
		}
		r, n := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && n == 1 {
			return i
		}
		i += n
	}
	return -1
}

// notUTF8 is the message for text that is not UTF-8; it gives the place,
// never the bytes.
func notUTF8(field string, offset int64) string {
	return field + ": not valid UTF-8 at byte offset " + strconv.FormatInt(offset, 10)
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

// isYAML reports whether a Content-Type names the YAML of PUT /config.yaml.
func isYAML(contentType string) bool {
	mt, _, err := mime.ParseMediaType(contentType)
	return err == nil && mt == "application/yaml"
}
