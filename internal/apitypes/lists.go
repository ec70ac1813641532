package apitypes

import (
	"bytes"
	"encoding/json"
)

// List is a list PUT body: a raw JSON array, or the same array under "items".
type List[T any] []T

// UnmarshalJSON accepts `[...]` and `{"items":[...]}`.
func (l *List[T]) UnmarshalJSON(b []byte) error {
	items, err := decodeListOrItems[T](b)
	if err != nil {
		return err
	}
	*l = items
	return nil
}

// MarshalJSON always writes the raw array form.
func (l List[T]) MarshalJSON() ([]byte, error) {
	if l == nil {
		return []byte("[]"), nil
	}
	return json.Marshal([]T(l))
}

// StringList is the string-list PUT body: `["a","b"]` or `{"items":["a","b"]}`.
type StringList = List[string]

func decodeListOrItems[T any](b []byte) ([]T, error) {
	b = bytes.TrimSpace(b)
	if len(b) == 0 {
		return nil, ErrShape
	}
	switch b[0] {
	case '[':
		var items []T
		if err := json.Unmarshal(b, &items); err != nil {
			return nil, ErrShape
		}
		return items, nil
	case '{':
		var wrapped map[string]json.RawMessage
		if err := json.Unmarshal(b, &wrapped); err != nil || len(wrapped) != 1 {
			return nil, ErrShape
		}
		var items []T
		if raw, ok := wrapped["items"]; !ok || json.Unmarshal(raw, &items) != nil || items == nil {
			return nil, ErrShape
		}
		return items, nil
	}
	return nil, ErrShape
}

// StringPatch is the string-list PATCH body: `{"old","new"}` or `{"index","value"}`.
// Exactly one pair is set; the request validator enforces that.
type StringPatch struct {
	Old   *string `json:"old,omitempty"`
	New   *string `json:"new,omitempty"`
	Index *int    `json:"index,omitempty"`
	Value *string `json:"value,omitempty"`
}

// ByIndex reports whether the patch selects the item by position.
func (p StringPatch) ByIndex() bool { return p.Index != nil && p.Value != nil }

// ByValue reports whether the patch selects the item by its old value.
func (p StringPatch) ByValue() bool { return p.Old != nil && p.New != nil }

// UnmarshalJSON rejects bodies that are neither of the two shapes, so the type
// stays safe when request validation is switched off.
func (p *StringPatch) UnmarshalJSON(b []byte) error {
	type plain StringPatch
	var v plain
	if err := json.Unmarshal(b, &v); err != nil {
		return ErrShape
	}
	got := StringPatch(v)
	byIndex := got.Index != nil || got.Value != nil
	byValue := got.Old != nil || got.New != nil
	if byIndex == byValue || (byIndex && !got.ByIndex()) || (byValue && !got.ByValue()) {
		return ErrShape // half a pair, or fields of both pairs
	}
	*p = got
	return nil
}

// ExcludedModelsBody is the oauth-excluded-models PUT body: a raw
// provider→patterns map, or the same map under "items".
type ExcludedModelsBody map[string][]string

// UnmarshalJSON accepts `{"provider":[...]}` and `{"items":{"provider":[...]}}`.
func (m *ExcludedModelsBody) UnmarshalJSON(b []byte) error {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil || raw == nil {
		return ErrShape
	}
	if items, ok := raw["items"]; ok && len(raw) == 1 && bytes.HasPrefix(bytes.TrimSpace(items), []byte("{")) {
		var inner map[string][]string
		if err := json.Unmarshal(items, &inner); err != nil {
			return ErrShape
		}
		*m = inner
		return nil
	}
	var direct map[string][]string
	if err := json.Unmarshal(b, &direct); err != nil {
		return ErrShape
	}
	*m = direct
	return nil
}
