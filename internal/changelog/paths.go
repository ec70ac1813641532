package changelog

import (
	"fmt"
	"reflect"
	"sort"
	"strings"

	"github.com/cli-proxy-api/cli-proxy-api/internal/config"
)

// ChangedPaths names what differs between two configs: each changed
// top-level key by its config.yaml name, and inside a list the changed
// items by index ("api-keys[2]") and inside a map by key
// ("oauth-excluded-models.codex"). Never a value. A nil old means
// everything is new and gives nil.
func ChangedPaths(old, next *config.Config) []string {
	if old == nil || next == nil {
		return nil
	}
	paths := []string{}
	o, n := reflect.ValueOf(old).Elem(), reflect.ValueOf(next).Elem()
	t := o.Type()
	for i := range t.NumField() {
		f := t.Field(i)
		if f.Name == "Legacy" || !f.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if name == "" || name == "-" {
			continue
		}
		a, b := o.Field(i), n.Field(i)
		if reflect.DeepEqual(a.Interface(), b.Interface()) {
			continue
		}
		before := len(paths)
		switch a.Kind() {
		case reflect.Slice:
			for k := range max(a.Len(), b.Len()) {
				if k >= a.Len() || k >= b.Len() || !reflect.DeepEqual(a.Index(k).Interface(), b.Index(k).Interface()) {
					paths = append(paths, fmt.Sprintf("%s[%d]", name, k))
				}
			}
		case reflect.Map:
			keys := map[string]bool{}
			for _, m := range []reflect.Value{a, b} {
				for _, k := range m.MapKeys() {
					keys[fmt.Sprint(k.Interface())] = true
				}
			}
			var changed []string
			for k := range keys {
				kv := reflect.ValueOf(k).Convert(a.Type().Key())
				va, vb := a.MapIndex(kv), b.MapIndex(kv)
				if va.IsValid() != vb.IsValid() || (va.IsValid() && !reflect.DeepEqual(va.Interface(), vb.Interface())) {
					changed = append(changed, name+"."+k)
				}
			}
			sort.Strings(changed)
			paths = append(paths, changed...)
		}
		if len(paths) == before {
			paths = append(paths, name)
		}
	}
	return paths
}
