package testutil

import "reflect"

// Scribble overwrites every value reachable from v through pointers,
// interfaces, slices, maps and exported struct fields, as a careless
// consumer of a copy might: a test that scribbles over a copy and finds the
// original unchanged knows the copy shares nothing with it. Strings become
// "scribbled", booleans flip and integers grow by 1000.
func Scribble(v reflect.Value) {
	switch v.Kind() {
	case reflect.Pointer:
		if !v.IsNil() {
			Scribble(v.Elem())
		}
	case reflect.Interface:
		if v.IsNil() {
			return
		}
		e := reflect.New(v.Elem().Type()).Elem()
		e.Set(v.Elem())
		Scribble(e)
		if v.CanSet() {
			v.Set(e)
		}
	case reflect.Struct:
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				Scribble(v.Field(i))
			}
		}
	case reflect.Slice:
		for i := range v.Len() {
			Scribble(v.Index(i))
		}
	case reflect.Map:
		for it := v.MapRange(); it.Next(); {
			e := reflect.New(v.Type().Elem()).Elem()
			e.Set(it.Value())
			Scribble(e)
			v.SetMapIndex(it.Key(), e)
		}
	case reflect.String:
		if v.CanSet() {
			v.SetString("scribbled")
		}
	case reflect.Bool:
		if v.CanSet() {
			v.SetBool(!v.Bool())
		}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		if v.CanSet() {
			v.SetInt(v.Int() + 1000)
		}
	}
}
