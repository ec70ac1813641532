package schemastream

import (
	"strconv"
	"strings"
)

// Error is why a body breaks the schema: the reason names the field and
// the rule, never a value.
type Error struct{ Reason string }

func (e *Error) Error() string { return "invalid body: " + e.Reason }

func invalid(reason string) *Error { return &Error{Reason: reason} }

// notUTF8 gives the place of the first byte that is not UTF-8, never the
// bytes.
func notUTF8(field string, offset int64) string {
	return field + ": not valid UTF-8 at byte offset " + strconv.FormatInt(offset, 10)
}

// withPath prefixes a reason with the field it is about, as fieldReason
// does for the request validator.
func withPath(path []string, reason string) string {
	if strings.HasPrefix(reason, "property ") && len(path) == 0 {
		return reason
	}
	return pathName(path) + ": " + reason
}

func pathName(path []string) string {
	if len(path) == 0 {
		return "body"
	}
	return strings.Join(path, ".")
}
