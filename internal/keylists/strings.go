package keylists

import (
	"strings"

	"github.com/cli-proxy-api/cli-proxy-api/internal/errs"
)

// ReplaceStrings validates a whole new string list: every item is trimmed
// and must not be empty; duplicates are merged, the first one kept.
func ReplaceStrings(field string, items []string) ([]string, error) {
	out := make([]string, 0, len(items))
	seen := map[string]bool{}
	for i, v := range items {
		v = strings.TrimSpace(v)
		if v == "" {
			return nil, errs.New(errs.Invalid, "item %d: %s must not be empty", i, field)
		}
		if !seen[v] {
			seen[v] = true
			out = append(out, v)
		}
	}
	return out, nil
}

// PatchString replaces one item: the one equal to old (ErrNotFound if
// none), or the one at index. The new value must not be empty and must not
// already be elsewhere in the list.
func PatchString(field string, list []string, old *string, index *int, value string) ([]string, error) {
	value, err := NonEmpty(field, value)
	if err != nil {
		return nil, err
	}
	var at int
	if index != nil {
		if err := CheckIndex(*index, len(list)); err != nil {
			return nil, err
		}
		at = *index
	} else {
		want := strings.TrimSpace(deref(old))
		if at, err = Find(list, func(v string) bool { return v == want }); err != nil {
			return nil, err
		}
	}
	for i, v := range list {
		if i != at && v == value {
			return nil, errs.New(errs.Invalid, "%s is already in the list at index %d", field, i)
		}
	}
	out := append([]string(nil), list...)
	out[at] = value
	return out, nil
}

// DeleteString removes every item equal to the selector's value, or the
// item at its index.
func DeleteString(field string, list []string, sel Selector) ([]string, error) {
	value, index, byIndex, err := sel.Choose(field)
	if err != nil {
		return nil, err
	}
	if byIndex {
		return RemoveAt(list, index)
	}
	return RemoveMatching(list, func(v string) bool { return v == value })
}

func deref(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}
