package mgmt

import (
	"encoding/json"
	"errors"
	"mime"
	"net/http"
	"strconv"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"

	"github.com/cli-proxy-api/cli-proxy-api/gen/mgmtapi"
)

// Bad requests say why: `error` stays the documented code ("invalid body",
// "invalid <parameter>") and `message` names the field and the rule it
// breaks. Reasons come from the schema and the decoder, never from the
// value, which may be a key.

// bodyReason describes why the validator refused a request body.
func bodyReason(re *openapi3filter.RequestError) string {
	var se *openapi3.SchemaError
	if errors.As(re.Err, &se) {
		return fieldReason(se)
	}
	var syntax *json.SyntaxError
	if errors.As(re.Err, &syntax) {
		return notJSON(syntax)
	}
	var pe *openapi3filter.ParseError
	if errors.As(re.Err, &pe) {
		return "the body is not valid JSON"
	}
	if strings.Contains(re.Error(), "header Content-Type has unexpected value") {
		return "unsupported Content-Type"
	}
	if strings.Contains(re.Error(), "value is required but missing") {
		return "a body is required"
	}
	return "the body does not match the operation's schema"
}

// paramReason describes why the validator refused a parameter.
func paramReason(re *openapi3filter.RequestError) string {
	var se *openapi3.SchemaError
	if errors.As(re.Err, &se) {
		return re.Parameter.Name + ": " + se.Reason
	}
	return re.Parameter.Name + ": not a valid value"
}

func fieldReason(se *openapi3.SchemaError) string {
	if strings.HasPrefix(se.Reason, "property ") {
		return se.Reason // names the property itself: `property "x" is missing`
	}
	path := strings.Join(se.JSONPointer(), ".")
	if path == "" {
		path = "body"
	}
	return path + ": " + se.Reason
}

// notJSON is the message for a body that does not parse as JSON: where,
// as the offset of the byte the parser stopped at, never the bytes.
func notJSON(se *json.SyntaxError) string {
	// Offset counts the bytes read, the offending one included.
	return "body: not valid JSON at byte offset " + strconv.FormatInt(max(se.Offset-1, 0), 10)
}

// decodeReason describes why the generated handler could not decode a body
// the validator let through.
func decodeReason(err error) string {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		field := te.Field
		if field == "" {
			field = "body"
		}
		return field + ": must be " + jsonKind(te.Type.Kind().String())
	}
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return notJSON(se)
	}
	return "the body could not be decoded"
}

func jsonKind(goKind string) string {
	switch goKind {
	case "string":
		return "a string"
	case "bool":
		return "a boolean"
	case "slice", "array":
		return "an array"
	case "map", "struct":
		return "an object"
	}
	if strings.HasPrefix(goKind, "int") || strings.HasPrefix(goKind, "uint") || strings.HasPrefix(goKind, "float") {
		return "a number"
	}
	return "of another type"
}

// forgivingContentType takes bodies as the existing implementation does:
// curl without -H sends form-urlencoded, scripts often send text/plain or
// nothing, and PUT /config.yaml gets text/yaml, application/x-yaml or
// anything else. A JSON route reads such a body as JSON (it must still
// parse), and config.yaml reads any body as YAML. Multipart uploads and
// explicit JSON are left alone.
func forgivingContentType(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ContentLength != 0 && r.Body != nil && r.Body != http.NoBody {
			mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
			switch {
			case r.URL.Path == Prefix+"/config.yaml":
				r.Header.Set("Content-Type", "application/yaml")
			case mt == "", mt == "text/plain", mt == "application/x-www-form-urlencoded":
				r.Header.Set("Content-Type", "application/json")
			}
		}
		next.ServeHTTP(w, r)
	})
}

// paramError answers a parameter the generated router could not bind: the
// validator is skipped for plain GETs, so a required query parameter left
// out entirely is found here. It answers as the validator would.
func paramError(w http.ResponseWriter, _ *http.Request, err error) {
	var req *mgmtapi.RequiredParamError
	var hdr *mgmtapi.RequiredHeaderError
	var format *mgmtapi.InvalidParamFormatError
	var many *mgmtapi.TooManyValuesForParamError
	switch {
	case errors.As(err, &req):
		writeJSON(w, http.StatusBadRequest, errorBody{Error: "invalid " + req.ParamName, Message: req.ParamName + ": is required"})
	case errors.As(err, &hdr):
		writeJSON(w, http.StatusBadRequest, errorBody{Error: "invalid " + hdr.ParamName, Message: hdr.ParamName + ": is required"})
	case errors.As(err, &format):
		writeJSON(w, http.StatusBadRequest, errorBody{Error: "invalid " + format.ParamName, Message: format.ParamName + ": not a valid value"})
	case errors.As(err, &many):
		writeJSON(w, http.StatusBadRequest, errorBody{Error: "invalid " + many.ParamName, Message: many.ParamName + ": give it once"})
	default:
		writeJSON(w, http.StatusBadRequest, errorBody{Error: "invalid request"})
	}
}
