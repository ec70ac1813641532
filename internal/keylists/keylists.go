// Package keylists holds the rules every list endpoint follows, so that
// api-keys, the provider key lists and openai-compatibility answer the same
// way: a malformed selector or an out-of-range index is errs.Invalid, a
// value, key or name that selects nothing is errs.NotFound.
package keylists

import (
	"strings"

	"github.com/cli-proxy-api/cli-proxy-api/internal/errs"
)

// ErrNotFound is the one not-found answer of every list.
var ErrNotFound = errs.New(errs.NotFound, "item not found")

// CheckIndex accepts a zero-based index into a list of n items.
func CheckIndex(i, n int) error {
	if i < 0 || i >= n {
		if n == 0 {
			return errs.New(errs.Invalid, "index %d is out of range: the list is empty", i)
		}
		return errs.New(errs.Invalid, "index %d is out of range: the list has %d items (0 to %d)", i, n, n-1)
	}
	return nil
}

// Find returns the position of the first item that matches.
func Find[T any](list []T, match func(T) bool) (int, error) {
	for i, v := range list {
		if match(v) {
			return i, nil
		}
	}
	return -1, ErrNotFound
}

// RemoveMatching removes every item that matches; removing none is
// ErrNotFound.
func RemoveMatching[T any](list []T, match func(T) bool) ([]T, error) {
	out := make([]T, 0, len(list))
	for _, v := range list {
		if !match(v) {
			out = append(out, v)
		}
	}
	if len(out) == len(list) {
		return nil, ErrNotFound
	}
	return out, nil
}

// RemoveAt removes the item at index i.
func RemoveAt[T any](list []T, i int) ([]T, error) {
	if err := CheckIndex(i, len(list)); err != nil {
		return nil, err
	}
	out := make([]T, 0, len(list)-1)
	out = append(out, list[:i]...)
	return append(out, list[i+1:]...), nil
}

// Selector is a DELETE's query: by value (key, name) or by index, never both.
type Selector struct {
	Value *string
	Index *int
}

// Choose checks that exactly one of value and index was given, naming them
// as the endpoint does (e.g. "api-key", "index").
func (s Selector) Choose(valueName string) (value string, index int, byIndex bool, err error) {
	hasValue := s.Value != nil && strings.TrimSpace(*s.Value) != ""
	switch {
	case s.Value != nil && s.Index != nil:
		return "", 0, false, errs.New(errs.Invalid, "give either %s or index, not both", valueName)
	case hasValue:
		return strings.TrimSpace(*s.Value), 0, false, nil
	case s.Index != nil:
		return "", *s.Index, true, nil
	case s.Value != nil:
		return "", 0, false, errs.New(errs.Invalid, "%s must not be empty", valueName)
	}
	return "", 0, false, errs.New(errs.Invalid, "missing %s or index", valueName)
}

// NonEmpty trims v and rejects an empty result, naming the field.
func NonEmpty(field, v string) (string, error) {
	v = strings.TrimSpace(v)
	if v == "" {
		return "", errs.New(errs.Invalid, "%s must not be empty", field)
	}
	return v, nil
}
