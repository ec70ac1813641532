package config

import (
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// validateText refuses control characters (C0, DEL, C1) and invalid UTF-8
// in every string of the config: keys, names, models, prefixes, headers,
// URLs and paths. Such bytes are never meant, are invisible in an editor
// and a log, and in a header or URL can split or smuggle what is sent
// upstream. The error names the field in config.yaml terms but never quotes
// the value, which may be a secret.
//
// It walks the struct by reflection, so a field added later is covered
// without anyone remembering to list it here.
func (c *Config) validateText() error {
	return checkText(reflect.ValueOf(c).Elem(), "")
}

func checkText(v reflect.Value, path string) error {
	switch v.Kind() {
	case reflect.String:
		return checkString(v.String(), path)
	case reflect.Pointer:
		if v.IsNil() {
			return nil
		}
		return checkText(v.Elem(), path)
	case reflect.Struct:
		t := v.Type()
		for i := range t.NumField() {
			f := t.Field(i)
			if !f.IsExported() {
				continue
			}
			name, opts, _ := strings.Cut(f.Tag.Get("yaml"), ",")
			if name == "-" {
				continue
			}
			sub := path
			// Inline structs (the legacy keys) add no level in the file.
			if !strings.Contains(opts, "inline") {
				if name == "" {
					name = strings.ToLower(f.Name)
				}
				sub = join(path, name)
			}
			if err := checkText(v.Field(i), sub); err != nil {
				return err
			}
		}
	case reflect.Slice, reflect.Array:
		for i := range v.Len() {
			if err := checkText(v.Index(i), path+"["+strconv.Itoa(i)+"]"); err != nil {
				return err
			}
		}
	case reflect.Map:
		if v.Type().Key().Kind() != reflect.String {
			return nil
		}
		// Sorted, so the same file always reports the same field.
		keys := v.MapKeys()
		slices.SortFunc(keys, func(a, b reflect.Value) int { return strings.Compare(a.String(), b.String()) })
		for _, k := range keys {
			name := k.String()
			// A bad key is reported on the map and never quoted.
			if err := checkString(name, path); err != nil {
				return err
			}
			// A clean key (a provider, a header name) is named, so the
			// operator can find the value; only values may be secret.
			sub := path
			if len(name) <= maxKeyInPath {
				sub = join(path, name)
			}
			if err := checkText(v.MapIndex(k), sub); err != nil {
				return err
			}
		}
	case reflect.Interface:
		// Free-form values (payload params, legacy provider config) are
		// request-body content, where a newline may be meant (a stop
		// sequence, say); they are not keys, names or URLs.
		return nil
	}
	return nil
}

// maxKeyInPath bounds how much of a map key an error may carry.
const maxKeyInPath = 64

func join(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}

func checkString(s, path string) error {
	if !utf8.ValidString(s) {
		return fmt.Errorf("%s: is not valid UTF-8", path)
	}
	if strings.ContainsFunc(s, unicode.IsControl) {
		return fmt.Errorf("%s: contains a control character", path)
	}
	return nil
}
