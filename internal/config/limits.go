package config

import (
	"fmt"
	"reflect"
	"strings"
)

// Limits on what config.yaml may hold. They keep every load and every
// write-back of the file (which runs under the store's lock, so all other
// writes wait for it) within a bounded time and memory, and they are far
// above what a real configuration needs.
const (
	// MaxFileBytes is the largest config.yaml accepted: by a load (hand
	// edits, PUT /config.yaml) and as the result of an API write.
	MaxFileBytes = 8 << 20

	// MaxListItems is the most items any list (and the most entries any
	// map) of the config may hold, e.g. api-keys or gemini-api-key. Editing
	// one item of a list this long takes a fraction of a second.
	MaxListItems = 100_000

	// MaxMapKeys is the most keys one YAML mapping may hold anywhere in the
	// file, known keys or not. yaml.v3 checks each mapping's keys for
	// duplicates pair by pair, so the cost of loading a mapping grows with
	// the square of its size.
	MaxMapKeys = 1_000

	// MaxDepth is the deepest nesting of mappings and lists accepted.
	MaxDepth = 64

	// MaxAliasValues bounds how many values YAML aliases (*name) may add
	// to the document when expanded. A few kilobytes of nested aliases can
	// stand for billions of values ("billion laughs"); the config loader
	// and the write-back expand them.
	MaxAliasValues = 100_000
)

// CheckFileSize refuses a config.yaml of n bytes if it exceeds MaxFileBytes.
// Loads check it in Parse; an API write must check the bytes it is about to
// write, since a change can make the file grow past the limit.
func CheckFileSize(n int) error {
	if n > MaxFileBytes {
		return fmt.Errorf("config.yaml would be %d bytes; at most %d (%d MiB) are allowed", n, MaxFileBytes, MaxFileBytes>>20)
	}
	return nil
}

// checkLimits refuses a config with a list or map longer than MaxListItems,
// naming it by its YAML path. It walks the struct by reflection so that
// lists added to Config later are covered without being listed here.
func (c *Config) checkLimits() error {
	return checkLengths(reflect.ValueOf(c).Elem(), "")
}

func checkLengths(v reflect.Value, at string) error {
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if v.IsNil() {
			return nil
		}
		return checkLengths(v.Elem(), at)
	case reflect.Struct:
		t := v.Type()
		for i := range t.NumField() {
			f := t.Field(i)
			if !f.IsExported() {
				continue
			}
			name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
			sub := at
			if name != "" && name != "-" {
				sub = limitPath(at, name)
			}
			if err := checkLengths(v.Field(i), sub); err != nil {
				return err
			}
		}
	case reflect.Slice, reflect.Array:
		if v.Len() > MaxListItems {
			return fmt.Errorf("%s has %d items; at most %d are allowed", at, v.Len(), MaxListItems)
		}
		if !holdsLists(v.Type().Elem()) {
			return nil // e.g. []string: nothing inside can be too long
		}
		for i := range v.Len() {
			if err := checkLengths(v.Index(i), fmt.Sprintf("%s[%d]", at, i)); err != nil {
				return err
			}
		}
	case reflect.Map:
		if v.Len() > MaxListItems {
			return fmt.Errorf("%s has %d entries; at most %d are allowed", at, v.Len(), MaxListItems)
		}
		if !holdsLists(v.Type().Elem()) {
			return nil
		}
		for it := v.MapRange(); it.Next(); {
			if err := checkLengths(it.Value(), limitPath(at, fmt.Sprint(it.Key().Interface()))); err != nil {
				return err
			}
		}
	}
	return nil
}

// holdsLists reports whether values of type t can contain a slice or map.
func holdsLists(t reflect.Type) bool {
	return holdsListsSeen(t, map[reflect.Type]bool{})
}

func holdsListsSeen(t reflect.Type, seen map[reflect.Type]bool) bool {
	if seen[t] {
		return false
	}
	seen[t] = true
	switch t.Kind() {
	case reflect.Slice, reflect.Array, reflect.Map, reflect.Interface:
		return true
	case reflect.Pointer:
		return holdsListsSeen(t.Elem(), seen)
	case reflect.Struct:
		for i := range t.NumField() {
			if holdsListsSeen(t.Field(i).Type, seen) {
				return true
			}
		}
	}
	return false
}

func limitPath(at, name string) string {
	if at == "" {
		return name
	}
	return at + "." + name
}
