package proxy

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"unicode/utf8"

	"github.com/cli-proxy-api/cli-proxy-api/internal/proxy/protocol"
)

// checkBody refuses a request body that is not one JSON object in UTF-8
// before anything routes it: such a body would be relayed as it came, or
// translated into an empty request, and answered 200 by the upstream.
// The hot path is two linear scans; the error, with its byte offset, is
// worked out only for a body that fails them.
func checkBody(body []byte) *protocol.Error {
	if json.Valid(body) {
		if !utf8.Valid(body) {
			return badBody("is not valid UTF-8 at offset " + strconv.Itoa(invalidUTF8At(body)))
		}
		if first := firstByte(body); first != '{' {
			return badBody("is JSON but not an object: it must be a JSON object")
		}
		return nil
	}
	var v json.RawMessage
	err := json.Unmarshal(body, &v)
	var se *json.SyntaxError
	switch {
	case errors.As(err, &se) && se.Offset >= int64(len(body)):
		return badBody("is not valid JSON: unexpected end of input at offset " + strconv.Itoa(len(body)))
	case errors.As(err, &se):
		return badBody("is not valid JSON: " + se.Error() + " at offset " + strconv.FormatInt(se.Offset, 10))
	case err != nil:
		return badBody("is not valid JSON: " + err.Error())
	}
	return badBody("is not valid JSON")
}

func badBody(problem string) *protocol.Error {
	return &protocol.Error{Status: http.StatusBadRequest, Code: "invalid_json", Message: "The request body " + problem}
}

// firstByte is the first byte of b that is not JSON whitespace, or 0.
func firstByte(b []byte) byte {
	for _, c := range b {
		switch c {
		case ' ', '\t', '\r', '\n':
			continue
		}
		return c
	}
	return 0
}

func invalidUTF8At(b []byte) int {
	for i := 0; i < len(b); {
		r, n := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && n <= 1 {
			return i
		}
		i += n
	}
	return len(b)
}
