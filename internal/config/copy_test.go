package config

import (
	"math/rand/v2"
	"reflect"
	"testing"

	"gopkg.in/yaml.v3"
)

func TestDeepCopyIsExactAndIndependent(t *testing.T) {
	t.Parallel() // CPU-bound and independent
	r := rand.New(rand.NewPCG(5, 6))
	for range 300 {
		var cfg Config
		fill(r, reflect.ValueOf(&cfg).Elem(), trickyStrings, 0)
		before, err := yaml.Marshal(&cfg)
		if err != nil {
			continue // strings yaml.v3 cannot write; the copy is still checked below
		}
		cp := cfg.DeepCopy()
		if !reflect.DeepEqual(cp, &cfg) {
			t.Fatalf("copy differs:\n%s", before)
		}
		// Overwriting everything in the copy leaves the original alone.
		scribble(reflect.ValueOf(cp).Elem())
		after, _ := yaml.Marshal(&cfg)
		if string(after) != string(before) {
			t.Fatalf("changing the copy changed the original")
		}
	}
	if (*Config)(nil).DeepCopy() != nil {
		t.Fatal("nil copy")
	}
}

// scribble changes every value reachable from v in place.
func scribble(v reflect.Value) {
	switch v.Kind() {
	case reflect.Struct:
		for i := range v.NumField() {
			if v.Field(i).CanSet() {
				scribble(v.Field(i))
			}
		}
	case reflect.String:
		v.SetString("changed")
	case reflect.Int:
		v.SetInt(42)
	case reflect.Bool:
		v.SetBool(!v.Bool())
	case reflect.Slice:
		for i := range v.Len() {
			scribble(v.Index(i))
		}
	case reflect.Pointer:
		if !v.IsNil() {
			scribble(v.Elem())
		}
	case reflect.Map:
		for it := v.MapRange(); it.Next(); {
			e := reflect.New(v.Type().Elem()).Elem()
			e.Set(it.Value())
			scribble(e)
			v.SetMapIndex(it.Key(), e)
		}
	case reflect.Interface:
		if !v.IsNil() {
			switch x := v.Interface().(type) {
			case map[string]any, []any:
				scribble(reflect.ValueOf(x))
			default:
				v.Set(reflect.ValueOf("changed"))
			}
		}
	}
}
